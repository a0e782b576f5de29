"""Issue 11, findings 4 and 9: vendors' webhooks (with a valid token) refuse what no vendor
sends with a 400 and change nothing; a reference of 25 or 5,000 digits is ignored, never a
500; a 5,000-event SendGrid batch is answered well within the sender's 10 seconds."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from bot.runtime.vendors import webhook_urls
from providers.sms.twilio import twilio_signature
from tests.fakes.sendgrid import FakeSendGrid
from tests.support.asgi import running_server
from tests.support.bot import AGENT, SECRET_KEY, BotFactory, RunningBot
from tests.support.hostile import captured_logs, dump_tables

TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
DEEP = "[" * 50_000 + "]" * 50_000
ENV = {
    "SMS_PROVIDER": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "TWILIO_FROM_NUMBER": "+15005550006",
    "VONAGE_API_KEY": "key",
    "VONAGE_API_SECRET": "secret",
    "VONAGE_FROM": "PINVerify",
    "POSTMARK_SERVER_TOKEN": "postmark-token",
    "EMAIL_FROM": "helpdesk@msp.example",
}


@pytest.fixture
async def sendgrid() -> AsyncIterator[tuple[FakeSendGrid, dict[str, str]]]:
    fake = FakeSendGrid()
    async with running_server(fake.asgi_app()) as url:
        yield (
            fake,
            {
                "EMAIL_PROVIDER": "sendgrid",
                "SENDGRID_API_KEY": fake.api_key,
                "SENDGRID_API_URL": url + "/",
            },
        )


@pytest.fixture
async def bot(
    running_bot: BotFactory, sendgrid: tuple[FakeSendGrid, dict[str, str]]
) -> AsyncIterator[RunningBot]:
    async with running_bot(env={**ENV, **sendgrid[1]}, public=True) as running:
        yield running


def hooks(bot: RunningBot) -> dict[str, str]:
    return webhook_urls(bot.url, SECRET_KEY.encode())


async def post(bot: RunningBot, vendor: str, body: Any, *, raw: bool = False) -> httpx.Response:
    url = hooks(bot)[vendor]
    async with httpx.AsyncClient(timeout=30) as client:
        if vendor == "vonage":
            return await client.get(url + "?" + body)
        if vendor == "twilio":
            signature = twilio_signature(TWILIO_TOKEN, url, dict(body))
            return await client.post(
                url,
                content=urlencode(body),
                headers={
                    "content-type": "application/x-www-form-urlencoded",
                    "x-twilio-signature": signature,
                },
            )
        content = body if raw else json.dumps(body)
        return await client.post(url, content=content, headers={"content-type": "application/json"})


def sendgrid_event(**fields: Any) -> list[dict[str, Any]]:
    return [{"event": "delivered", "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001", **fields}]


def postmark_record(**fields: Any) -> dict[str, Any]:
    return {"RecordType": "Delivery", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", **fields}


REFUSED: dict[str, tuple[str, Any, bool]] = {
    "sendgrid-deep": ("sendgrid", DEEP, True),
    "sendgrid-5000-digit-number": ("sendgrid", "[" + "9" * 5000 + "]", True),
    "sendgrid-nul-message-id": ("sendgrid", sendgrid_event(sg_message_id="abc\x00def"), False),
    "sendgrid-5000-digit-message-id": ("sendgrid", sendgrid_event(sg_message_id="9" * 5000), False),
    "sendgrid-not-utf8": ("sendgrid", b"\xff[]", True),
    "postmark-deep": ("postmark", DEEP, True),
    "postmark-nul-message-id": ("postmark", postmark_record(MessageID="a\x00b"), False),
    "vonage-nul-message-id": (
        "vonage",
        "messageId=" + quote("0A\x0000") + "&status=delivered",
        False,
    ),
    "vonage-5000-digit-message-id": (
        "vonage",
        "messageId=" + "9" * 5000 + "&status=delivered",
        False,
    ),
    "twilio-nul-sid": ("twilio", {"MessageSid": "SM\x00", "MessageStatus": "delivered"}, False),
}
IGNORED: dict[str, tuple[str, Any, bool]] = {
    "sendgrid-25-digit-ref": ("sendgrid", sendgrid_event(pinverify_ref="abc:" + "9" * 25), False),
    "sendgrid-5000-digit-ref": (
        "sendgrid",
        sendgrid_event(pinverify_ref="abc:" + "9" * 5000),
        False,
    ),
    "sendgrid-nul-reason": (
        "sendgrid",
        [{"event": "bounce", "sg_message_id": "x.filter1", "reason": "no\x00pe"}],
        False,
    ),
    "postmark-25-digit-ref": (
        "postmark",
        postmark_record(Metadata={"pinverify_ref": "a:" + "9" * 25}),
        False,
    ),
    "vonage-25-digit-ref": (
        "vonage",
        "messageId=0A0000&status=delivered&client-ref=abc:" + "9" * 25,
        False,
    ),
    "twilio-25-digit-error": (
        "twilio",
        {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": "9" * 25},
        False,
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_what_no_vendor_sends_gets_400_and_changes_nothing(
    bot: RunningBot, case: str
) -> None:
    vendor, body, raw = REFUSED[case]
    before = await dump_tables(bot.runtime.db)
    with captured_logs() as logs:
        response = await post(bot, vendor, body, raw=raw)
    assert response.status_code == 400, response.text
    assert response.json()["ok"] is False
    assert logs.tracebacks() == []
    assert await dump_tables(bot.runtime.db) == before


@pytest.mark.parametrize("case", list(IGNORED))
async def test_references_we_never_made_are_ignored_not_a_500(bot: RunningBot, case: str) -> None:
    vendor, body, raw = IGNORED[case]
    before = await dump_tables(bot.runtime.db)
    with captured_logs() as logs:
        response = await post(bot, vendor, body, raw=raw)
    assert response.status_code == 200, response.text
    assert logs.tracebacks() == []
    assert await dump_tables(bot.runtime.db) == before


async def test_a_5000_event_sendgrid_batch_is_answered_in_time_and_ours_is_applied(
    bot: RunningBot, sendgrid: tuple[FakeSendGrid, dict[str, str]]
) -> None:
    fake = sendgrid[0]
    card = await bot.open_card("Jane Doe")
    await bot.driver.click(AGENT, card, "Send email")
    await bot.wait_text(card, "Code #1 sent by *email*")
    (mail,) = fake.messages
    foreign = [
        {"event": "delivered", "sg_message_id": f"other{n}.filter0001", "email": "x@y.example"}
        for n in range(4_998)
    ]
    ours = [fake.event_for(mail, "processed"), fake.event_for(mail, "delivered")]
    with captured_logs() as logs:
        started = time.monotonic()
        answer = await fake.post_events(hooks(bot)["sendgrid"], foreign + ours)
        took = time.monotonic() - started
    assert answer.status_code == 200
    # SendGrid gives up after 10 s; the batch costs at most 200 lookups, whatever its size.
    assert took < 10, took
    await bot.wait_text(card, "delivered")
    assert any("ignored" in record.getMessage() for record in logs.records)
    assert logs.tracebacks() == []
