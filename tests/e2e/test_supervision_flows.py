"""The supervisors' channel end to end through the fake Slack: one live message through a
verification's whole life, each risk alert in its thread (mentioning the supervisors' group),
the contact's history on the card and a locked-out /verify, and Void with its role checks."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from slack_emulator import Message, SlackEmulator, find_button_labels, message_text
from tests.support import queries
from tests.support.bot import (
    AGENT,
    OTHER_AGENT,
    SUPERVISORS,
    BotFactory,
    RunningBot,
    new_emulator,
)

CODE_BOX = "Code the caller reads back"
SUPERVISOR = "U0SUPER001"
SUPERVISORS_GROUP = "S0SUPERVS1"
REASON = "Why void it? (the agent and the audit log see this)"
ENV: Mapping[str, str] = {"PINVERIFY_SUPERVISOR_USERGROUP": SUPERVISORS_GROUP}


@pytest.fixture
def emulator() -> SlackEmulator:
    emulator = new_emulator()
    emulator.add_usergroup(SUPERVISORS_GROUP, "supervisors", [SUPERVISOR])
    # An agent who can read the supervisors' channel but is no supervisor.
    emulator.channels[SUPERVISORS].members.add(OTHER_AGENT)
    return emulator


async def wrong(bot: RunningBot, card: Message, times: int, *, user: str = AGENT) -> None:
    for _ in range(times):
        await check_wrong_once(bot, card, user)


async def check_wrong_once(bot: RunningBot, card: Message, user: str) -> None:
    before = message_text(card)
    await bot.driver.click(user, card, "Check code", inputs={CODE_BOX: "000000"})
    await bot.driver.wait_for(lambda: message_text(card) != before or None)


async def test_one_live_message_follows_the_whole_life(running_bot: BotFactory) -> None:
    async with running_bot(env=ENV) as bot:
        card = await bot.open_card("+1 513 555 7611")
        assert bot.supervisor_posts() == []  # nothing before the first send
        await bot.driver.click(AGENT, card, "Send SMS")
        # The card and the live message are redrawn independently: wait for both.
        await bot.wait_text(card, "Code #1 sent")
        live = await bot.live_message("Code delivered")  # the console provider delivers
        assert "SMS to +1 ••• ••• 7611" in message_text(live) and "Void" in find_button_labels(live)
        await wrong(bot, card, 1)
        await bot.wait_text(live, "Checking the code")
        assert "1 of 5 wrong" in message_text(live)
        (code,) = await bot.console_codes()
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: code})
        await bot.wait_text(card, "Code verified")
        await bot.wait_text(live, "Verified")
        await bot.driver.click(AGENT, card, "Completed")
        text = await bot.wait_text(live, "Completed* (code verified)")
        assert "1 of 5 codes sent" in text and "Void" not in find_button_labels(live)
        assert bot.supervisor_posts() == [live]  # updated in place, never reposted
        assert bot.thread_replies(live) == []  # nothing risky happened
        assert code not in text and "5557611" not in text
        updates = [c for c in bot.emulator.calls_to("chat.update") if c.args["ts"] == live.ts]
        assert len(updates) >= 3


async def test_completed_without_a_code_and_an_edited_destination_alert_in_the_thread(
    running_bot: BotFactory,
) -> None:
    async with running_bot(env=ENV) as bot:
        card = await bot.open_card("+1 513 555 7611")
        await bot.driver.click(AGENT, card, "Send SMS")
        # The card and the live message are redrawn independently: wait for both.
        await bot.wait_text(card, "Code #1 sent")
        live = await bot.live_message("Code delivered")
        await bot.driver.click(AGENT, card, "Completed")  # confirms "without a code"
        await bot.wait_text(live, "Completed without a verified code")
        alert = await bot.thread_reply(live, "Completed without a verified code")
        assert alert.text.startswith(f"<!subteam^{SUPERVISORS_GROUP}>")  # notifies them
        assert f"<@{AGENT}>" in alert.text and "code not checked" in alert.text


async def test_repeated_failures_history_and_a_locked_out_contact(
    running_bot: BotFactory,
) -> None:
    async with running_bot(env={**ENV, "PINVERIFY_CONTACT_FAILURE_CAP": "6"}) as bot:
        first = await bot.open_card("+1 513 555 7611")
        await bot.driver.click(AGENT, first, "Send SMS")
        await bot.wait_text(first, "Code #1 sent")
        await wrong(bot, first, 5)
        await bot.wait_text(first, "Locked")
        await bot.driver.click(AGENT, first, "Incomplete")
        live_one = await bot.live_message("Incomplete")
        lockout = await bot.thread_reply(live_one, "Locked out")
        assert "5 wrong codes" in lockout.text

        # Another agent, a minute later: the card warns before anything is sent.
        second = await bot.open_card("+1 513 555 7611", user=OTHER_AGENT)
        text = message_text(second)
        assert "failed verification recently" in text
        assert "1 lockout" in text and "5 wrong codes" in text and "no successful" in text
        await bot.driver.click(OTHER_AGENT, second, "Send SMS")
        await bot.wait_text(second, "Code #1 sent")
        await wrong(bot, second, 1, user=OTHER_AGENT)
        live_two = await bot.live_message("Checking the code")
        repeated = await bot.thread_reply(live_two, "Repeated failures")
        assert "6 wrong codes" in repeated.text and "across 2 verifications" in repeated.text

        # The contact is now at the cap: a new /verify says so, in the reply and on the card.
        await bot.driver.click(OTHER_AGENT, second, "Incomplete")
        await bot.wait_text(second, "Closed as Incomplete")
        third = await bot.open_card("Jane Doe")
        assert "This contact is locked out" in message_text(third)
        await bot.driver.wait_for(
            lambda: [m for m in bot.driver.ephemeral_messages(AGENT) if "locked out" in m.text]
        )
        await bot.driver.click(AGENT, third, "Send SMS")
        await bot.wait_text(third, "sending is paused")


async def test_void_is_for_supervisors_and_is_audited(running_bot: BotFactory) -> None:
    async with running_bot(env=ENV) as bot:
        card = await bot.open_card("+1 513 555 7611")
        await bot.driver.click(AGENT, card, "Send SMS")
        # The card and the live message are redrawn independently: wait for both.
        await bot.wait_text(card, "Code #1 sent")
        live = await bot.live_message("Code delivered")
        # An agent in the channel clicks Void: refused, privately, and audited.
        await bot.driver.click(OTHER_AGENT, live, "Void")
        refusal = await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(OTHER_AGENT))
        assert "Only PIN Verify supervisors" in message_text(refusal[-1])
        assert bot.emulator.open_views(OTHER_AGENT) == []
        # A supervisor: a modal for the reason, then the verification is voided.
        await bot.driver.click(SUPERVISOR, live, "Void")
        (modal,) = await bot.driver.wait_for(lambda: bot.emulator.open_views(SUPERVISOR))
        await bot.driver.submit_view(SUPERVISOR, modal.id, {REASON: "   "})
        assert modal.errors is not None and "Say why" in str(modal.errors)
        await bot.driver.submit_view(SUPERVISOR, modal.id, {REASON: "Caller hung up"})
        await bot.wait_text(card, "Voided by")
        assert find_button_labels(card) == []
        await bot.wait_text(live, "Voided")
        reply = await bot.thread_reply(live, "Voided")
        assert f"<@{SUPERVISOR}>" in reply.text and "Caller hung up" in reply.text
        async with bot.runtime.db.transaction() as session:
            events = await queries.list_audit_events(session=session)
        voided = [e for e in events if e.kind == "verification_voided"]
        assert [(e.actor_user_id, e.detail["reason"]) for e in voided] == [
            (SUPERVISOR, "Caller hung up")
        ]
        refused = [e for e in events if e.kind == "access_refused"]
        assert [(e.actor_user_id, e.detail["action"]) for e in refused] == [
            (OTHER_AGENT, "void verification")
        ]
