"""Issue 11, finding 7: with the whole app logging at DEBUG (database drivers, HTTP clients,
Slack's SDK and Bolt included), no code sent in a whole verification reaches any log record,
whether the ticket note includes the code or not, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re

import pytest

from slack_emulator import message_text
from tests.e2e.test_psa_flow import Seeded, open_card, psa, wait_rows
from tests.fakes.twilio import TEST_FROM_NUMBER, FakeTwilio
from tests.support.asgi import running_server
from tests.support.bot import AGENT, BotFactory
from tests.support.hostile import captured_logs

__all__ = ["psa"]  # the PSA fixture, shared with the PSA flow's tests
CODE_BOX = "Code the caller reads back"
SMS_CODE = re.compile(r"\b(\d{6})\b")


@pytest.mark.parametrize("in_note", ["include", "omit"])
async def test_no_code_sent_in_a_whole_run_is_in_any_log(
    running_bot: BotFactory, psa: Seeded, in_note: str
) -> None:
    twilio = FakeTwilio()
    with captured_logs(logging.DEBUG) as logs:
        async with running_server(twilio.asgi_app()) as twilio_url:
            env = {
                **psa.fake.env(),
                "PINVERIFY_CODE_IN_TICKET_NOTE": in_note,
                "SMS_PROVIDER": "twilio",
                "TWILIO_ACCOUNT_SID": twilio.account_sid,
                "TWILIO_AUTH_TOKEN": twilio.auth_token,
                "TWILIO_FROM_NUMBER": TEST_FROM_NUMBER,
                "TWILIO_API_URL": twilio_url + "/",
            }
            async with running_bot(env=env) as bot:
                card = await open_card(bot, f"#{psa.jane_ticket}")
                await bot.driver.click(AGENT, card, "Send SMS")
                await bot.wait_text(card, "Code #1 sent by *SMS*")
                await bot.driver.click(AGENT, card, "Resend")
                await bot.wait_text(card, "Code #2 sent by *SMS*")
                codes = [m.group(1) for sms in twilio.messages if (m := SMS_CODE.search(sms.body))]
                assert len(codes) == 2
                wrong = "000000" if "000000" not in codes else "111111"
                await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: wrong})
                await bot.wait_text(card, "attempt")
                await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: codes[-1]})
                await bot.wait_text(card, "Code verified")
                await bot.driver.click(AGENT, card, "Completed")
                await bot.wait_text(card, "Closed as Completed")
                notes = await wait_rows(
                    bot, lambda rows: len(rows) == 3 and all(r.status == "delivered" for r in rows)
                )
                assert len(notes) == 3
                written = [note.text for note in psa.fake.notes(psa.jane_ticket)]
                assert any(codes[0] in text for text in written) is (in_note == "include")
                assert codes[-1] not in message_text(card)
    logged = logs.text()
    # DEBUG really was on for the whole run (migrations log at DEBUG as the app starts).
    assert any(record.levelno == logging.DEBUG for record in logs.records)
    leaked = [code for code in codes if code in logged]
    assert leaked == [], [line for line in logged.splitlines() if any(c in line for c in leaked)][
        :5
    ]
