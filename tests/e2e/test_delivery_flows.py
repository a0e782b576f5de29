"""End to end: the agent's card follows what the providers report, over real HTTP.

The app runs on its own public URL; fake Twilio, Vonage, SendGrid and Postmark servers take
the sends and post signed (or token- or password-protected) delivery reports back to it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.runtime.vendors import webhook_urls
from slack_emulator import Message, find_button_labels, message_text
from storage.models import CodeSend
from tests.fakes.postmark import FakePostmark
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.smtp import running_smtp_server
from tests.fakes.twilio import TEST_FROM_NUMBER, FakeTwilio
from tests.fakes.vonage import FakeVonage
from tests.support import queries
from tests.support.asgi import running_server
from tests.support.bot import AGENT, SECRET_KEY, BotFactory, RunningBot

CODE_BOX = "Code the caller reads back"
CODE = re.compile(r"\b(\d{6})\b")
SENDER = "helpdesk@msp.example"


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[FakeTwilio, dict[str, str]]]:
    fake = FakeTwilio()
    async with running_server(fake.asgi_app()) as url:
        yield (
            fake,
            {
                "SMS_PROVIDER": "twilio",
                "TWILIO_ACCOUNT_SID": fake.account_sid,
                "TWILIO_AUTH_TOKEN": fake.auth_token,
                "TWILIO_FROM_NUMBER": TEST_FROM_NUMBER,
                "TWILIO_API_URL": url + "/",
                "TWILIO_TIMEOUT_SECONDS": "0.5",
            },
        )


async def send_sms(bot: RunningBot, card_query: str = "Jane Doe") -> tuple[Message, str]:
    card = await bot.open_card(card_query)
    await bot.driver.click(AGENT, card, "Send SMS")
    await bot.wait_text(card, "Code #1 sent by *SMS*")
    return card, message_text(card)


async def code_sends(bot: RunningBot) -> list[CodeSend]:
    async with bot.runtime.db.transaction() as session:
        return list((await session.scalars(select(CodeSend).order_by(col(CodeSend.seq)))).all())


async def audit_kinds(bot: RunningBot) -> list[str]:
    async with bot.runtime.db.transaction() as session:
        return [event.kind for event in await queries.list_audit_events(session=session)]


async def test_undelivered_sms_offers_email_instead_which_completes_the_verification(
    running_bot: BotFactory, twilio: tuple[FakeTwilio, dict[str, str]]
) -> None:
    fake, env = twilio
    async with running_smtp_server() as smtp:
        env = {
            **env,
            "EMAIL_PROVIDER": "smtp",
            "SMTP_URL": f"smtp://{smtp.host}:{smtp.port}?starttls=false",
            "EMAIL_FROM": SENDER,
        }
        async with running_bot(env=env, public=True) as bot:
            card, _ = await send_sms(bot)
            (sms,) = fake.messages
            assert sms.status_callback == f"{bot.url}/webhooks/twilio/status"
            answer = await fake.post_status_callback(
                sms.status_callback, message_sid=sms.sid, status="undelivered", error_code=30003
            )
            assert answer.status_code == 200
            text = await bot.wait_text(card, "Twilio could not deliver the SMS")
            assert "to +1 ••• ••• 7611: the handset is unreachable" in text
            assert find_button_labels(card) == ["Send email instead", "Resend", "Incomplete"]
            assert "Check code" not in find_button_labels(card)
            await bot.driver.click(AGENT, card, "Send email instead")
            await bot.wait_text(card, "Code #2 sent by *email* to j•••@globex.example")
            (mail,) = smtp.messages
            assert mail.rcpt_tos == ("jane.doe@globex.example",)
            assert mail.message["From"].endswith(f"<{SENDER}>")
            match = CODE.search(str(mail.message["Subject"]))
            assert match is not None
            await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: match.group(1)})
            await bot.wait_text(card, "Code verified: the caller controls the contact's mailbox.")
            await bot.driver.click(AGENT, card, "Completed")
            await bot.wait_text(card, "Closed as Completed")
            post = await bot.live_message("Completed")
            assert "code verified" in message_text(post)
            delivery = await bot.thread_reply(post, "Delivery failed")
            assert "+1 ••• ••• 7611" in message_text(delivery)
            first, second = await code_sends(bot)
            assert (first.delivery_status, first.delivery_error_code) == ("undelivered", "30003")
            assert first.status == "voided" and second.channel == "email"
            assert "code_delivery_status" in await audit_kinds(bot)


async def test_a_tampered_or_unsigned_callback_gets_403_and_changes_nothing(
    running_bot: BotFactory, twilio: tuple[FakeTwilio, dict[str, str]]
) -> None:
    fake, env = twilio
    async with running_bot(env=env, public=True) as bot:
        card, before = await send_sms(bot)
        (sms,) = fake.messages
        assert sms.status_callback is not None

        def card_updates() -> int:
            # The card's own redraws (the supervisors' live message is updated separately).
            calls = bot.emulator.calls_to("chat.update")
            return len([c for c in calls if c.args["channel"] == card.channel])

        updates = card_updates()
        tampered = await fake.post_status_callback(
            sms.status_callback, message_sid=sms.sid, status="undelivered", tamper=True
        )
        async with httpx.AsyncClient() as client:
            unsigned = await client.post(
                sms.status_callback, data={"MessageSid": sms.sid, "MessageStatus": "failed"}
            )
        # Signed for another host: a callback replayed against us from elsewhere.
        elsewhere = await fake.post_status_callback(
            sms.status_callback,
            message_sid=sms.sid,
            status="failed",
            signed_url="https://attacker.example/webhooks/twilio/status",
        )
        assert [r.status_code for r in (tampered, unsigned, elsewhere)] == [403, 403, 403]
        (send,) = await code_sends(bot)
        assert send.delivery_status == "queued" and send.delivery_error is None
        assert "code_delivery_status" not in await audit_kinds(bot)
        assert card_updates() == updates
        assert message_text(card) == before


async def test_delivered_callbacks_show_on_the_card_and_never_go_backwards(
    running_bot: BotFactory, twilio: tuple[FakeTwilio, dict[str, str]]
) -> None:
    fake, env = twilio
    async with running_bot(env=env, public=True) as bot:
        card, text = await send_sms(bot)
        assert "*Delivery:* ⏳ queued at Twilio" in text
        (sms,) = fake.messages
        assert sms.status_callback is not None
        for status in ("sent", "delivered", "sent"):  # the last one arrives late
            answer = await fake.post_status_callback(
                sms.status_callback, message_sid=sms.sid, status=status
            )
            assert answer.status_code == 200
        text = await bot.wait_text(card, "*Delivery:* ✅ delivered")
        assert "Check code" in find_button_labels(card)
        (send,) = await code_sends(bot)
        assert send.delivery_status == "delivered"


async def test_a_transient_failure_then_success_sends_one_message_and_one_code(
    running_bot: BotFactory, twilio: tuple[FakeTwilio, dict[str, str]]
) -> None:
    fake, env = twilio
    async with running_bot(env=env) as bot:
        fake.fail_next(status=503)
        card, text = await send_sms(bot)
        assert "Could not send" not in text
        (sms,) = fake.messages
        assert sms.status_callback is None  # no PINVERIFY_PUBLIC_URL: no callbacks asked for
        assert len(fake.requests) == 2 and len(bot.retry_sleeps) == 1
        assert 0 <= bot.retry_sleeps[0] <= 0.5
        (send,) = await code_sends(bot)
        assert send.provider_message_id == sms.sid
        match = CODE.search(sms.body)
        assert match is not None
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: match.group(1)})
        await bot.wait_text(card, "Code verified")


async def test_timeouts_leave_an_unconfirmed_code_the_caller_can_still_read_back(
    running_bot: BotFactory, twilio: tuple[FakeTwilio, dict[str, str]]
) -> None:
    fake, env = twilio
    async with running_bot(env=env) as bot:
        fake.delay_next(2.0, times=3)
        card = await bot.open_card("Jane Doe")
        await bot.driver.click(AGENT, card, "Send SMS")
        text = await bot.wait_text(card, "unconfirmed")
        assert "Twilio did not answer in time" in text and "ask the caller" in text
        assert "not sent" not in text and "Could not send" not in text
        assert len({sms.body for sms in fake.messages}) == 1  # the same code every time
        match = CODE.search(fake.messages[0].body)
        assert match is not None
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: match.group(1)})
        await bot.wait_text(card, "Code verified")


async def test_opted_out_shows_a_specific_message_and_is_not_retried(
    running_bot: BotFactory, twilio: tuple[FakeTwilio, dict[str, str]]
) -> None:
    fake, env = twilio
    async with running_bot(env=env) as bot:
        fake.fail_next(status=400, code=21610)
        card = await bot.open_card("Jane Doe")
        await bot.driver.click(AGENT, card, "Send SMS")
        text = await bot.wait_text(card, "Could not send the SMS")
        assert "Twilio: the number +1 ••• ••• 7611 has opted out of SMS — try email." in text
        assert len(fake.requests) == 1 and bot.retry_sleeps == []
        assert "Send email" in find_button_labels(card)


@pytest.mark.parametrize(
    ("csv_phone", "query", "expected"),
    [
        ("+44 20 7946 0018", "Lord Landline", "is a landline and cannot receive SMS"),
        ("+33 6 12 34 56 78", "Francine Mobile", "SMS to FR numbers (+33 ••• ••• 5678)"),
    ],
)
async def test_sms_to_a_landline_or_a_disallowed_country_is_refused(
    running_bot: BotFactory,
    twilio: tuple[FakeTwilio, dict[str, str]],
    csv_phone: str,
    query: str,
    expected: str,
) -> None:
    fake, env = twilio
    csv = f"name,email,phone,company,external_id\n{query},,{csv_phone},Hooli,c-9\n"
    env = {**env, "PINVERIFY_SMS_ALLOWED_COUNTRIES": "US,GB"}
    async with running_bot(env=env, contacts_csv=csv) as bot:
        card = await bot.open_card(query)
        await bot.driver.click(AGENT, card, "Send SMS")
        text = await bot.wait_text(card, expected)
        assert "try email" in text or "ask an admin" in text
        assert fake.requests == [] and await code_sends(bot) == []


async def test_vonage_end_to_end_with_a_delivery_receipt(running_bot: BotFactory) -> None:
    fake = FakeVonage()
    async with running_server(fake.asgi_app()) as url:
        env = {
            "SMS_PROVIDER": "vonage",
            "VONAGE_API_KEY": fake.api_key,
            "VONAGE_API_SECRET": fake.api_secret,
            "VONAGE_FROM": "AcmeIT",
            "VONAGE_API_URL": url + "/",
        }
        async with running_bot(env=env, public=True) as bot:
            card, _ = await send_sms(bot)
            (sms,) = fake.messages
            assert sms.to == "15135557611" and sms.from_ == "AcmeIT"
            expected = webhook_urls(bot.url, SECRET_KEY.encode())["vonage"]
            assert sms.callback == expected
            assert sms.callback is not None
            wrong = sms.callback.rsplit("/", 1)[0] + "/not-the-token"
            refused = await fake.post_delivery_receipt(
                wrong, message_id=sms.message_ids[0], status="failed", err_code="3"
            )
            assert refused.status_code == 403
            answer = await fake.post_delivery_receipt(
                sms.callback, message_id=sms.message_ids[0], status="delivered"
            )
            assert answer.status_code == 200
            await bot.wait_text(card, "*Delivery:* ✅ delivered")
            (send,) = await code_sends(bot)
            assert send.provider == "vonage" and send.delivery_status == "delivered"
            match = CODE.search(sms.text)
            assert match is not None
            await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: match.group(1)})
            await bot.wait_text(card, "Code verified")


async def test_sendgrid_bounce_offers_sms_instead(running_bot: BotFactory) -> None:
    fake = FakeSendGrid()
    async with running_server(fake.asgi_app()) as url:
        env = {
            "EMAIL_PROVIDER": "sendgrid",
            "SENDGRID_API_KEY": fake.api_key,
            "SENDGRID_API_URL": url + "/",
            "EMAIL_FROM": SENDER,
        }
        async with running_bot(env=env, public=True) as bot:
            card = await bot.open_card("Jane Doe")
            await bot.driver.click(AGENT, card, "Send email")
            await bot.wait_text(card, "Code #1 sent by *email*")
            (mail,) = fake.messages
            hook = webhook_urls(bot.url, SECRET_KEY.encode())["sendgrid"]
            bounce = fake.event_for(
                mail, "bounce", reason="550 5.1.1 <jane.doe@globex.example>: mailbox unknown"
            )
            forged = await fake.post_events(hook.rsplit("/", 1)[0] + "/guess", [bounce])
            assert forged.status_code == 403
            answer = await fake.post_events(hook, [fake.event_for(mail, "processed"), bounce])
            assert answer.status_code == 200
            text = await bot.wait_text(card, "SendGrid could not deliver the email")
            # The vendor's reason quotes the address: the card and audit log keep it masked.
            assert "550 5.1.1 &lt;j•••@globex.example&gt;: mailbox unknown" in text
            assert "jane.doe" not in text
            (send,) = await code_sends(bot)
            assert send.delivery_error is not None and "jane.doe" not in send.delivery_error
            assert find_button_labels(card)[0] == "Send SMS instead"
            await bot.driver.click(AGENT, card, "Send SMS instead")
            await bot.wait_text(card, "Code #2 sent by *SMS*")


async def test_postmark_delivery_webhook_needs_its_basic_auth(running_bot: BotFactory) -> None:
    fake = FakePostmark()
    async with running_server(fake.asgi_app()) as url:
        env = {
            "EMAIL_PROVIDER": "postmark",
            "POSTMARK_SERVER_TOKEN": fake.server_token,
            "POSTMARK_API_URL": url + "/",
            "EMAIL_FROM": SENDER,
        }
        async with running_bot(env=env, public=True) as bot:
            card = await bot.open_card("Jane Doe")
            await bot.driver.click(AGENT, card, "Send email")
            await bot.wait_text(card, "Code #1 sent by *email*")
            (mail,) = fake.messages
            hook = webhook_urls(bot.url, SECRET_KEY.encode())["postmark"]
            anonymous = await fake.post_webhook(
                f"{bot.url}/webhooks/postmark", fake.bounce_webhook(mail)
            )
            assert anonymous.status_code == 403
            answer = await fake.post_webhook(hook, fake.delivery_webhook(mail))
            assert answer.status_code == 200
            await bot.wait_text(card, "*Delivery:* ✅ delivered")
