"""Every email adapter honours the EmailSender port the same way."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from providers.email import EmailMessage, EmailSender
from providers.email.console import ConsoleEmail
from providers.email.smtp import SmtpEmail
from tests.fakes.smtp import ReceivedMail, running_smtp_server
from tests.providers.support import InMemorySink

SENDER = "helpdesk@msp.example"
TO = "jane.doe@acme.example"
SUBJECT = "Votre code de vérification"
TEXT = "Bonjour Jane,\n\nVotre code est 482913. Il expire dans 10 minutes.\n\n— Le support"


@dataclass
class EmailHarness:
    sender: EmailSender
    # (to, subject, text body) triples as the outside world received them.
    delivered: Callable[[], list[tuple[str, str, str]]]


def _as_received(mail: ReceivedMail) -> tuple[str, str, str]:
    plain = mail.message.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert isinstance(text, str)
    # MIME text parts always end with a line break; the port's body need not.
    return (mail.rcpt_tos[0], str(mail.message["Subject"]), text.removesuffix("\n"))


@pytest.fixture(params=["console", "smtp"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[EmailHarness]:
    if request.param == "console":
        sink = InMemorySink()
        yield EmailHarness(
            ConsoleEmail(sink, logging.getLogger("tests.console_email"), SENDER),
            lambda: [
                (kept.recipient, kept.subject or "", kept.body)
                for kept in sink.kept
                if kept.channel == "email"
            ],
        )
        return
    async with running_smtp_server() as server:
        yield EmailHarness(
            SmtpEmail(
                host=server.host,
                port=server.port,
                username=None,
                password=None,
                implicit_tls=False,
                starttls=False,
                sender=SENDER,
            ),
            lambda: [_as_received(mail) for mail in server.messages],
        )


async def test_send_delivers_the_message_intact(harness: EmailHarness) -> None:
    receipt = await harness.sender.send(
        EmailMessage(to=TO, subject=SUBJECT, text_body=TEXT, idempotency_key="v1:1")
    )

    assert receipt.provider == harness.sender.name
    assert receipt.message_id
    assert receipt.status
    assert harness.delivered() == [(TO, SUBJECT, TEXT)]


async def test_each_send_gets_its_own_message_id(harness: EmailHarness) -> None:
    first = await harness.sender.send(
        EmailMessage(to=TO, subject="one", text_body="code 111111", idempotency_key="a")
    )
    second = await harness.sender.send(
        EmailMessage(to=TO, subject="two", text_body="code 222222", idempotency_key="b")
    )

    assert first.message_id != second.message_id
    assert harness.delivered() == [(TO, "one", "code 111111"), (TO, "two", "code 222222")]
