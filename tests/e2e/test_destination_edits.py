"""Agents may send the code to a destination not on record: flagged everywhere, or refused."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.audit import AuditKind
from commands.card.views import EDIT_MENU_TEXT
from commands.ids import ActionId, CallbackId
from slack_emulator import Message, StoredView, message_text
from tests.support import queries
from tests.support.bot import AGENT, OTHER_AGENT, BotFactory, RunningBot

FLAG = "⚠ sent to a destination not on record"
NEW_NUMBER = "New phone number"
REASON = "Reason"


async def audit(bot: RunningBot, kind: str) -> list[Any]:
    async with bot.runtime.db.transaction() as session:
        return [e for e in await queries.list_audit_events(session=session) if e.kind == kind]


async def open_edit(bot: RunningBot, card: Message, option: str = "Edit number") -> StoredView:
    await bot.driver.select(AGENT, card, EDIT_MENU_TEXT, option)
    (view,) = await bot.driver.wait_for(lambda: bot.emulator.open_views(AGENT))
    return view


async def test_edited_number_gets_the_code_and_the_flag_everywhere(running_bot: BotFactory) -> None:
    async with running_bot() as bot:
        card = await bot.open_card("+1 513 555 7611")
        view = await open_edit(bot, card)
        text = message_text(view)
        assert "On record: *+1 ••• ••• 7611*" in text and "5557611" not in text
        response = await bot.driver.submit_view(
            AGENT, view.id, {NEW_NUMBER: "(513) 555-0100", REASON: "Caller's <b>phone</b> lost"}
        )
        assert response.status_code == 200 and not response.content.strip()
        card_text = await bot.wait_text(card, FLAG)
        assert "Reason: Caller's &lt;b&gt;phone&lt;/b&gt; lost" in card_text
        assert "+1 ••• ••• 0100 ⚠ edited" in card_text
        assert "Phone number changed for this verification" in card_text

        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent by *SMS* to +1 ••• ••• 0100")
        async with bot.runtime.db.transaction() as session:
            (sent,) = await queries.list_console_messages(session=session)
        assert sent.recipient == "+15135550100"
        (code,) = await bot.console_codes()
        await bot.driver.click(
            AGENT, card, "Check code", inputs={"Code the caller reads back": code}
        )
        await bot.wait_text(card, "Code verified")
        await bot.driver.click(AGENT, card, "Completed")
        # The live message exists from the send on: wait for its final state.
        post = await bot.live_message("Completed")
        post_text = message_text(post)
        assert FLAG in post_text and "Reason: Caller's &lt;b&gt;phone&lt;/b&gt; lost" in post_text
        assert "5550100" not in post_text
        alert = await bot.thread_reply(post, "destination not on record")
        assert "+1 ••• ••• 0100" in alert.text and "5550100" not in alert.text
        assert "Caller's &lt;b&gt;phone&lt;/b&gt; lost" in alert.text

        (edited,) = await audit(bot, AuditKind.DESTINATION_EDITED)
        assert edited.actor_user_id == AGENT
        assert edited.detail == {
            "channel": "sms",
            "old": "+1 ••• ••• 7611",
            "new": "+1 ••• ••• 0100",
            "reason": "Caller's <b>phone</b> lost",
            "flag": FLAG,
        }
        (closed,) = await audit(bot, "verification_closed")
        assert closed.detail["destination_not_on_record"] is True
        assert closed.detail["edit_reason"] == "Caller's <b>phone</b> lost"
        (requested,) = await audit(bot, "code_send_requested")
        assert requested.detail["destination_not_on_record"] is True
        assert requested.detail["destination"] == "+1 ••• ••• 0100"


async def test_invalid_number_and_missing_reason_are_refused_inline(
    running_bot: BotFactory,
) -> None:
    async with running_bot() as bot:
        card = await bot.open_card("+1 513 555 7611")
        view = await open_edit(bot, card)
        response = await bot.driver.submit_view(AGENT, view.id, {NEW_NUMBER: "555-01", REASON: "x"})
        answer = response.json()
        assert answer["response_action"] == "errors"
        assert "Not a valid phone number" in answer["errors"]["destination_value"]
        assert bot.emulator.open_views(AGENT) == [view]
        # Reasons are required by default; the client refuses an empty one, a crafted
        # blank one (spaces) reaches the server and is refused there.
        response = await bot.driver.submit_view(
            AGENT, view.id, {NEW_NUMBER: "+1 513 555 0100", REASON: "   "}
        )
        assert "A reason is required" in response.json()["errors"]["edit_reason"]
        response = await bot.driver.submit_view(
            AGENT, view.id, {NEW_NUMBER: "+44 7400 123456", REASON: "abroad"}
        )
        assert (
            "SMS to GB numbers (+44 ••• ••• 3456) is not allowed"
            in (response.json()["errors"]["destination_value"])
        )
        # A toll-free number would be refused at send time: refused here, where it can be fixed.
        response = await bot.driver.submit_view(
            AGENT, view.id, {NEW_NUMBER: "1-800-555-0199", REASON: "desk phone"}
        )
        assert "cannot receive SMS" in response.json()["errors"]["destination_value"]
        assert await audit(bot, AuditKind.DESTINATION_EDITED) == []
        assert FLAG not in message_text(card)


async def test_edit_email_and_no_edit_after_verification(running_bot: BotFactory) -> None:
    async with running_bot() as bot:
        card = await bot.open_card("+1 513 555 7611")
        view = await open_edit(bot, card, "Edit email")
        response = await bot.driver.submit_view(
            AGENT, view.id, {"New email address": "not-an-email", REASON: "typo"}
        )
        assert "Not a valid email address" in response.json()["errors"]["destination_value"]
        await bot.driver.submit_view(
            AGENT, view.id, {"New email address": "Jane@Personal.example", REASON: "work mail down"}
        )
        text = await bot.wait_text(card, "Email address changed")
        assert "J•••@personal.example ⚠ edited" in text and EDIT_MENU_TEXT in text
        await bot.driver.click(AGENT, card, "Send email")
        await bot.wait_text(card, "Code #1 sent by *email* to J•••@personal.example")
        async with bot.runtime.db.transaction() as session:
            (sent,) = await queries.list_console_messages(session=session)
        assert sent.recipient == "Jane@personal.example"
        (code,) = await bot.console_codes()
        await bot.driver.click(
            AGENT, card, "Check code", inputs={"Code the caller reads back": code}
        )
        text = await bot.wait_text(card, "Code verified")
        # Verified: nothing left to send, so no more edits (and the flag stays).
        assert EDIT_MENU_TEXT not in text and FLAG in text


async def test_an_edited_email_does_not_flag_a_verification_done_by_sms(
    running_bot: BotFactory,
) -> None:
    async with running_bot() as bot:
        card = await bot.open_card("+1 513 555 7611")
        view = await open_edit(bot, card, "Edit email")
        await bot.driver.submit_view(
            AGENT, view.id, {"New email address": "jane@personal.example", REASON: "typo"}
        )
        await bot.wait_text(card, FLAG)
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent by *SMS* to +1 ••• ••• 7611")
        (code,) = await bot.console_codes()
        await bot.driver.click(
            AGENT, card, "Check code", inputs={"Code the caller reads back": code}
        )
        await bot.wait_text(card, "Code verified")
        await bot.driver.click(AGENT, card, "Completed")
        post = await bot.live_message("Completed")
        assert FLAG not in message_text(post)
        (closed,) = await audit(bot, "verification_closed")
        assert "destination_not_on_record" not in closed.detail
        (requested,) = await audit(bot, "code_send_requested")
        assert "destination_not_on_record" not in requested.detail


def payload(bot: RunningBot, user: str, **extra: Any) -> dict[str, Any]:
    team = bot.emulator.team.id
    return {
        "team": {"id": team, "domain": "emulator"},
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": team},
        "api_app_id": bot.emulator.bot.app_id,
        "token": "emulator-verification-token",
        "trigger_id": bot.emulator.issue_trigger(user),
        **extra,
    }


async def post(bot: RunningBot, body: dict[str, Any]) -> httpx.Response:
    encoded = urlencode({"payload": json.dumps(body)})
    return await bot.driver.post_signed(encoded, content_type="application/x-www-form-urlencoded")


def crafted_submission(bot: RunningBot, user: str, verification_id: str) -> dict[str, Any]:
    return payload(
        bot,
        user,
        type="view_submission",
        view={
            "id": "V0CRAFTED1",
            "type": "modal",
            "callback_id": CallbackId.EDIT_DESTINATION.value,
            "private_metadata": f"{verification_id}|1|sms",
            "state": {
                "values": {
                    "destination_value": {
                        ActionId.DESTINATION_INPUT.value: {"value": "+1 513 555 0100"}
                    },
                    "edit_reason": {ActionId.EDIT_REASON_INPUT.value: {"value": "because"}},
                }
            },
        },
    )


async def test_edits_disabled_hide_the_menu_and_refuse_crafted_requests(
    running_bot: BotFactory,
) -> None:
    env = {"PINVERIFY_ALLOW_DESTINATION_EDITS": "false"}
    async with running_bot(env=env) as bot:
        card = await bot.open_card("+1 513 555 7611")
        assert EDIT_MENU_TEXT not in message_text(card)
        async with bot.runtime.db.transaction() as session:
            (row,) = [
                e
                for e in await queries.list_audit_events(session=session)
                if e.kind == "verification_opened"
            ]
        verification_id = str(row.verification_id)
        click = payload(
            bot,
            AGENT,
            type="block_actions",
            container={"type": "message", "message_ts": card.ts, "channel_id": card.channel},
            channel={"id": card.channel, "name": "directmessage"},
            actions=[
                {
                    "type": "overflow",
                    "action_id": ActionId.EDIT_DESTINATION.value,
                    "block_id": "edit_destination:1",
                    "selected_option": {
                        "text": {"type": "plain_text", "text": "Edit number"},
                        "value": f"{verification_id}|1|sms",
                    },
                }
            ],
        )
        assert (await post(bot, click)).status_code == 200
        await bot.wait_text(card, "Destination edits are turned off")
        assert bot.emulator.open_views(AGENT) == []

        response = await post(bot, crafted_submission(bot, AGENT, verification_id))
        answer = response.json()
        assert "Destination edits are turned off" in answer["errors"]["destination_value"]
        refused = await audit(bot, AuditKind.DESTINATION_EDIT_REFUSED)
        assert [(e.actor_user_id, e.detail["reason"]) for e in refused] == [
            (AGENT, "edits_disabled"),
            (AGENT, "edits_disabled"),
        ]
        assert await audit(bot, AuditKind.DESTINATION_EDITED) == []
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent by *SMS* to +1 ••• ••• 7611")


async def test_another_agents_crafted_edit_is_refused(running_bot: BotFactory) -> None:
    async with running_bot() as bot:
        await bot.open_card("+1 513 555 7611")
        async with bot.runtime.db.transaction() as session:
            (row,) = [
                e
                for e in await queries.list_audit_events(session=session)
                if e.kind == "verification_opened"
            ]
        response = await post(bot, crafted_submission(bot, OTHER_AGENT, str(row.verification_id)))
        assert "Only the agent who opened" in response.json()["errors"]["destination_value"]
        refused = await audit(bot, AuditKind.DESTINATION_EDIT_REFUSED)
        assert [(e.actor_user_id, e.detail["reason"]) for e in refused] == [
            (OTHER_AGENT, "not_agent")
        ]
        assert await audit(bot, AuditKind.DESTINATION_EDITED) == []
