"""Every SMS adapter honours the SmsSender port the same way."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from providers.sms import SmsMessage, SmsSender
from providers.sms.console import ConsoleSms
from tests.providers.support import InMemorySink, TwilioEnv

TO = "+14155550123"
pytestmark = pytest.mark.asyncio(loop_scope="module")

BODY = "Votre code PIN Verify : 482913\nIl expire dans 10 minutes — ne le partagez pas."


@dataclass
class SmsHarness:
    sender: SmsSender
    first_status: str
    # (to, body) pairs as the outside world received them.
    delivered: Callable[[], list[tuple[str, str]]]


@pytest.fixture(params=["console", "twilio"])
def harness(request: pytest.FixtureRequest) -> SmsHarness:
    if request.param == "console":
        sink = InMemorySink()
        return SmsHarness(
            ConsoleSms(sink, logging.getLogger("tests.console_sms")),
            "delivered",
            lambda: [(kept.recipient, kept.body) for kept in sink.kept if kept.channel == "sms"],
        )
    # Requested only here, so the console runs do not start the fake Twilio server.
    twilio: TwilioEnv = request.getfixturevalue("twilio")
    return SmsHarness(
        twilio.adapter(),
        "queued",
        lambda: [(sms.to, sms.body) for sms in twilio.fake.messages],
    )


async def test_send_delivers_the_message_intact(harness: SmsHarness) -> None:
    receipt = await harness.sender.send(SmsMessage(to=TO, body=BODY, idempotency_key="v1:1"))

    assert receipt.provider == harness.sender.name
    assert receipt.message_id
    assert receipt.status == harness.first_status
    assert harness.delivered() == [(TO, BODY)]


async def test_each_send_gets_its_own_message_id(harness: SmsHarness) -> None:
    first = await harness.sender.send(SmsMessage(to=TO, body="code 111111", idempotency_key="a"))
    second = await harness.sender.send(SmsMessage(to=TO, body="code 222222", idempotency_key="b"))

    assert first.message_id != second.message_id
    assert harness.delivered() == [(TO, "code 111111"), (TO, "code 222222")]
