"""Slack listeners: `register(app)` wires every command and action to its handler."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from commands import card, tickets, verify
from commands.ids import ActionId, CallbackId, Command

Listener = Callable[..., Awaitable[None]]

# The manifest's slash commands are generated from this table (and a test holds them equal).
SLASH_COMMANDS: dict[Command, Listener] = {Command.VERIFY: verify.handle_verify}

SEND_ACTIONS = re.compile(
    "^("
    + "|".join(
        action.value
        for action in (
            ActionId.SEND_SMS,
            ActionId.SEND_EMAIL,
            ActionId.RESEND,
            ActionId.SEND_EMAIL_INSTEAD,
            ActionId.SEND_SMS_INSTEAD,
        )
    )
    + ")$"
)
ACTIONS: dict[str | re.Pattern[str], Listener] = {
    ActionId.PICK_CONTACT.value: card.handle_pick,
    SEND_ACTIONS: card.handle_send,
    ActionId.CHECK_CODE.value: card.handle_check,
    ActionId.COMPLETED.value: card.handle_completed,
    ActionId.INCOMPLETE.value: card.handle_incomplete,
    ActionId.TAG_TICKET.value: tickets.handle_tag_ticket,
    ActionId.CREATE_TICKET.value: tickets.handle_create_ticket,
}
ACK_ONLY_ACTIONS = (ActionId.CODE_INPUT, ActionId.TICKET_INPUT)
VIEW_SUBMISSIONS: dict[str, Listener] = {
    CallbackId.CREATE_TICKET.value: tickets.handle_create_ticket_submission,
}


def register(app: AsyncApp) -> None:
    for command, handler in SLASH_COMMANDS.items():
        app.command(command.value)(handler)
    for action, handler in ACTIONS.items():
        app.action(action)(handler)
    for callback_id, handler in VIEW_SUBMISSIONS.items():
        app.view(callback_id)(handler)
    # Typing in the card's boxes sends nothing (no dispatch_action), but ack any stray action
    # so Slack never shows the agent a warning triangle.
    for action_id in ACK_ONLY_ACTIONS:
        app.action(action_id.value)(_ack_only)


async def _ack_only(ack: AsyncAck, **_: Any) -> None:
    await ack()
