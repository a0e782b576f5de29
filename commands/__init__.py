"""Slack listeners: `register(app)` wires every command and action to its handler."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from commands import card, verify
from commands.ids import ActionId, Command

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
}


def register(app: AsyncApp) -> None:
    for command, handler in SLASH_COMMANDS.items():
        app.command(command.value)(handler)
    for action, handler in ACTIONS.items():
        app.action(action)(handler)
    # Typing in the code box sends nothing (no dispatch_action), but ack any stray action so
    # Slack never shows the agent a warning triangle.
    app.action(ActionId.CODE_INPUT.value)(_ack_only)


async def _ack_only(ack: AsyncAck, **_: Any) -> None:
    await ack()
