"""Slack listeners: `register(app)` wires every command and action to its handler."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncAck, AsyncApp

from commands import card, verify
from commands.ids import ActionId, Command


def register(app: AsyncApp) -> None:
    app.command(Command.VERIFY.value)(verify.handle_verify)
    app.action(ActionId.PICK_CONTACT.value)(card.handle_pick)
    app.action(
        re.compile(
            f"^({ActionId.SEND_SMS.value}|{ActionId.SEND_EMAIL.value}|{ActionId.RESEND.value})$"
        )
    )(card.handle_send)
    app.action(ActionId.CHECK_CODE.value)(card.handle_check)
    app.action(ActionId.COMPLETED.value)(card.handle_completed)
    app.action(ActionId.INCOMPLETE.value)(card.handle_incomplete)
    # Typing in the code box sends nothing (no dispatch_action), but ack any stray action so
    # Slack never shows the agent a warning triangle.
    app.action(ActionId.CODE_INPUT.value)(_ack_only)


async def _ack_only(ack: AsyncAck) -> None:
    await ack()
