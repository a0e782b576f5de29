"""The console providers keep and log what they "send", for a developer to read."""

from __future__ import annotations

import logging

import pytest

from providers.email import EmailMessage
from providers.email.console import ConsoleEmail
from providers.sms import SmsMessage
from providers.sms.console import ConsoleSms
from tests.providers.support import InMemorySink, Kept


async def test_console_sms_keeps_and_logs_the_message(caplog: pytest.LogCaptureFixture) -> None:
    sink = InMemorySink()
    logger = logging.getLogger("tests.console.sms")
    caplog.set_level(logging.INFO, logger=logger.name)

    receipt = await ConsoleSms(sink, logger).send(
        SmsMessage(to="+14155550123", body="Your code is 482913.", idempotency_key="k")
    )

    assert sink.kept == [Kept("console-1", "sms", "+14155550123", None, "Your code is 482913.")]
    assert (receipt.provider, receipt.message_id, receipt.status) == (
        "console",
        "console-1",
        "delivered",
    )
    [record] = [r for r in caplog.records if r.name == logger.name]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "console SMS to +14155550123: Your code is 482913."


async def test_console_email_keeps_and_logs_the_message(caplog: pytest.LogCaptureFixture) -> None:
    sink = InMemorySink()
    logger = logging.getLogger("tests.console.email")
    caplog.set_level(logging.INFO, logger=logger.name)

    receipt = await ConsoleEmail(sink, logger, "helpdesk@msp.example").send(
        EmailMessage(
            to="jane@acme.example",
            subject="Your code",
            text_body="Your code is 482913.",
            idempotency_key="k",
            html_body="<p>ignored by the console</p>",
        )
    )

    assert sink.kept == [
        Kept("console-1", "email", "jane@acme.example", "Your code", "Your code is 482913.")
    ]
    assert (receipt.provider, receipt.message_id, receipt.status) == (
        "console",
        "console-1",
        "delivered",
    )
    [record] = [r for r in caplog.records if r.name == logger.name]
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "helpdesk@msp.example" in message and "jane@acme.example" in message
    assert "Your code is 482913." in message
