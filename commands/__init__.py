"""Slack listeners: `register(app)` wires every command and action to its handler."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from commands import card, destination_modal, home, settings_modal, template_modal, tickets, verify
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
    ActionId.EDIT_DESTINATION.value: destination_modal.handle_edit_destination,
    ActionId.EDIT_TEMPLATES.value: template_modal.handle_open_templates,
    ActionId.TEMPLATES_PREVIEW.value: template_modal.handle_template_action,
    ActionId.TEMPLATES_TEST_SMS.value: template_modal.handle_template_action,
    ActionId.TEMPLATES_TEST_EMAIL.value: template_modal.handle_template_action,
    ActionId.TEMPLATES_RESET.value: template_modal.handle_template_action,
    ActionId.OPEN_SETTINGS.value: settings_modal.handle_open_settings,
}
ACK_ONLY_ACTIONS = (ActionId.CODE_INPUT, ActionId.TICKET_INPUT)
# Modal submissions, by callback_id.
VIEW_SUBMISSIONS: dict[str, Listener] = {
    CallbackId.CREATE_TICKET.value: tickets.handle_create_ticket_submission,
    CallbackId.EDIT_TEMPLATES.value: template_modal.handle_submit_templates,
    CallbackId.EDIT_DESTINATION.value: destination_modal.handle_submit_destination,
    CallbackId.SETTINGS.value: settings_modal.handle_submit_settings,
}
# Events API subscriptions; the manifest's bot_events list holds the same names.
EVENTS: dict[str, Listener] = {"app_home_opened": home.handle_home_opened}


def register(app: AsyncApp) -> None:
    for command, handler in SLASH_COMMANDS.items():
        app.command(command.value)(handler)
    for action, handler in ACTIONS.items():
        app.action(action)(handler)
    for callback_id, handler in VIEW_SUBMISSIONS.items():
        app.view(callback_id)(handler)
    for event, handler in EVENTS.items():
        app.event(event)(handler)
    # Typing in the card's boxes sends nothing (no dispatch_action), but ack any stray action
    # so Slack never shows the agent a warning triangle.
    for action_id in ACK_ONLY_ACTIONS:
        app.action(action_id.value)(_ack_only)


async def _ack_only(ack: AsyncAck, **_: Any) -> None:
    await ack()
