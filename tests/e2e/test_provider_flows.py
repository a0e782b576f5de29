"""End to end through real provider protocols: a fake Twilio over HTTP, a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from slack_emulator import find_button_labels, message_text
from storage.models import CodeSend
from tests.fakes.smtp import running_smtp_server
from tests.fakes.twilio import TEST_FROM_NUMBER, FakeTwilio
from tests.support import queries
from tests.support.asgi import running_server
from tests.support.bot import AGENT, BotFactory

CODE_BOX = "Code the caller reads back"
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    async with running_server(fake.asgi_app()) as url:
        yield fake, url


def twilio_env(fake: FakeTwilio, url: str) -> dict[str, str]:
    return {
        "SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": TEST_FROM_NUMBER,
        "TWILIO_API_URL": url + "/",
        "TWILIO_TIMEOUT_SECONDS": "0.5",
    }


async def test_sms_flow_through_twilio(
    running_bot: BotFactory, twilio: tuple[FakeTwilio, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = twilio
    async with running_bot(env=twilio_env(fake, url)) as bot:
        card = await bot.open_card("+15135557611")
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent by *SMS* to +1 ••• ••• 7611")
        (sms,) = fake.messages
        assert sms.to == "+15135557611" and sms.from_ == TEST_FROM_NUMBER
        assert sms.body.startswith("Acme IT: your verification code is ")
        match = CODE.search(sms.body)
        assert match is not None
        code = match.group(1)
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: code})
        await bot.wait_text(card, "Code verified")
        await bot.driver.click(AGENT, card, "Completed")
        post = await bot.live_message("Completed")
        assert "code verified" in message_text(post)
        async with bot.runtime.db.transaction() as session:
            (send,) = (await session.scalars(select(CodeSend))).all()
        assert send.provider == "twilio" and send.provider_message_id == sms.sid
    assert code not in caplog.text  # real providers never log the code


async def test_email_flow_through_smtp(running_bot: BotFactory) -> None:
    async with running_smtp_server(username="desk", password="s3cret") as smtp:
        env = {
            "EMAIL_PROVIDER": "smtp",
            "SMTP_URL": f"smtp://desk:s3cret@{smtp.host}:{smtp.port}?starttls=false",
            "EMAIL_FROM": "helpdesk@msp.example",
        }
        async with running_bot(env=env) as bot:
            card = await bot.open_card("jane.doe@globex.example")
            await bot.driver.click(AGENT, card, "Send email")
            text = await bot.wait_text(card, "Code #1 sent by *email* to j•••@globex.example")
            assert "*Delivery:* 📤 accepted by the mail server" in text
            (mail,) = smtp.messages
            assert mail.rcpt_tos == ("jane.doe@globex.example",)
            assert mail.authenticated_as == "desk"
            message = mail.message
            assert message["From"].endswith("<helpdesk@msp.example>")
            assert message["Message-ID"] and message["Date"]
            subject_code = CODE.search(str(message["Subject"]))
            body = message.get_body(("plain",))
            assert body is not None and subject_code is not None
            text = body.get_content()
            assert text.startswith("Hello Jane,") and subject_code.group(1) in text
            await bot.driver.click(
                AGENT, card, "Check code", inputs={CODE_BOX: subject_code.group(1)}
            )
            await bot.wait_text(card, "Code verified: the caller controls the contact's mailbox.")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 21211, "not a valid phone number"),
        (401, None, "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
    ],
)
async def test_provider_errors_show_on_the_card_and_nothing_is_marked_sent(
    running_bot: BotFactory,
    twilio: tuple[FakeTwilio, str],
    status: int,
    code: int | None,
    expected: str,
) -> None:
    fake, url = twilio
    async with running_bot(env=twilio_env(fake, url)) as bot:
        fake.fail_next(status=status, code=code)
        card = await bot.open_card("Jane Doe")
        await bot.driver.click(AGENT, card, "Send SMS")
        text = await bot.wait_text(card, "Could not send the SMS")
        assert expected in text
        assert "SMS not sent to +1 ••• ••• 7611" in text
        assert "Send SMS" in find_button_labels(card)
        assert "Check code" not in find_button_labels(card)
        async with bot.runtime.db.transaction() as session:
            (send,) = (await session.scalars(select(CodeSend))).all()
            events = await queries.list_audit_events(session=session)
        assert send.status == "failed" and send.sent_at is None and send.code_hash is None
        failed = [e for e in events if e.kind == "code_send_failed"]
        assert len(failed) == 1 and expected in failed[0].detail["message"]
        assert failed[0].detail["attempts"] == 1  # permanent: never retried
        assert not [e for e in events if e.kind == "code_sent"]
        assert len(fake.requests) == 1 and bot.retry_sleeps == []
        # The agent can try again: a new send number, a new code; the one-off fault is over.
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #2 sent by *SMS*")
        assert "Could not send" not in message_text(card)
