"""The verification card in the agent's DM: every button on it, its tickets and edits."""

from __future__ import annotations

import re

from commands.card import destination, tickets
from commands.card.listeners import (
    card_redrawer,
    handle_check,
    handle_completed,
    handle_incomplete,
    handle_send,
    open_card,
    redraw_card,
)
from commands.ids import ActionId, CallbackId
from commands.routing import Routes

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
ROUTES = Routes(
    actions={
        SEND_ACTIONS: handle_send,
        ActionId.CHECK_CODE.value: handle_check,
        ActionId.COMPLETED.value: handle_completed,
        ActionId.INCOMPLETE.value: handle_incomplete,
        ActionId.TAG_TICKET.value: tickets.handle_tag_ticket,
        ActionId.CREATE_TICKET.value: tickets.handle_create_ticket,
        ActionId.EDIT_DESTINATION.value: destination.handle_edit_destination,
    },
    views={
        CallbackId.CREATE_TICKET.value: tickets.handle_create_ticket_submission,
        CallbackId.EDIT_DESTINATION.value: destination.handle_submit_destination,
    },
    # Typing in the card's boxes sends nothing (no dispatch_action), but ack any stray action
    # so Slack never shows the agent a warning triangle.
    ack_only=(ActionId.CODE_INPUT, ActionId.TICKET_INPUT),
)

__all__ = ["ROUTES", "card_redrawer", "open_card", "redraw_card"]
