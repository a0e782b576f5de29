"""Slack payloads in, small typed requests out: listeners never dig through dicts themselves.

Each parser validates the payload Bolt hands over against its model in
`commands.inbound.slack_payloads` (the same models the server's gate checked the request
against) and then reads our own encodings strictly: a button value is `<id>|<1-4 ASCII
digits>|<sms|email|>`, never whatever `str.isdigit()` accepts (`²` is a digit to Python, and
a 5,000-digit "number" is too long for `int()`). Typed text loses its control characters.
Anything else raises `PayloadError` with a reason safe to show the sender.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.delivery import Channel
from commands.blocks import CardButton
from commands.ids import ActionId, BlockId
from commands.inbound.slack_payloads import (
    BlockActions,
    SlashCommand,
    StateValues,
    UserRef,
    ViewClosed,
    ViewSubmission,
)
from commands.inbound.slack_request import field_path
from commands.inbound.text import clean_line, clean_multiline

ModelT = TypeVar("ModelT", bound=BaseModel)
BUTTON_VALUE = re.compile(r"^([A-Za-z0-9]{1,32})\|([0-9]{1,4})\|(sms|email|)$")
VERIFICATION_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
CONTACT_REF = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_USER_NAME = 80


class PayloadError(Exception):
    """The payload is not one this app produced (crafted, or from an older card). The message
    says what was wrong in our words (never the sender's), so it can be shown to them."""


@dataclass(frozen=True)
class VerifyCommand:
    team_id: str
    user_id: str
    user_name: str
    text: str


@dataclass(frozen=True)
class CardClick:
    team_id: str
    user_id: str
    button: CardButton
    code_entry: str | None
    ticket_entry: str | None = None
    action_id: str = ""


@dataclass(frozen=True)
class ContactPick:
    team_id: str
    user_id: str
    user_name: str
    contact_ref: str


@dataclass(frozen=True)
class TicketSummarySubmission:
    team_id: str
    user_id: str
    verification_id: str
    summary: str


def read_model(model: type[ModelT], payload: Mapping[str, Any]) -> ModelT:
    """`payload` as `model`, or PayloadError naming the field (by our name) that is wrong."""
    try:
        return model.model_validate(dict(payload))
    except ValidationError as exc:
        raise PayloadError(f"{field_path(exc)} is not what Slack sends") from None


def parse_verify_command(command: Mapping[str, Any]) -> VerifyCommand:
    slash = read_model(SlashCommand, command)
    return VerifyCommand(
        team_id=slash.team_id,
        user_id=slash.user_id,
        user_name=clean_line(slash.user_name)[:MAX_USER_NAME],
        text=clean_line(slash.text),
    )


def parse_card_click(body: Mapping[str, Any]) -> CardClick:
    payload = read_model(BlockActions, body)
    action = payload.actions[0]
    # A button carries its value; an overflow menu (the card's edit menu) its chosen option's.
    value = action.value or (action.selected_option.value if action.selected_option else "")
    values = payload.state.values if payload.state is not None else {}
    return CardClick(
        team_id=team_of(payload),
        user_id=payload.user.id,
        button=decode_button(value),
        code_entry=text_input(values, BlockId.CODE_ENTRY_PREFIX, ActionId.CODE_INPUT),
        ticket_entry=text_input(values, BlockId.TICKET_ENTRY_PREFIX, ActionId.TICKET_INPUT),
        action_id=action.action_id[:64],
    )


def parse_ticket_summary(body: Mapping[str, Any]) -> TicketSummarySubmission:
    payload = read_model(ViewSubmission, body)
    verification_id = payload.view.private_metadata
    if not VERIFICATION_ID.match(verification_id):
        raise PayloadError("the create-ticket form does not name a verification")
    values = payload.view.state.values
    typed = (values.get(BlockId.TICKET_SUMMARY) or {}).get(ActionId.TICKET_SUMMARY_INPUT)
    return TicketSummarySubmission(
        team_id=team_of(payload),
        user_id=payload.user.id,
        verification_id=verification_id,
        summary=clean_line(typed.value or "") if typed is not None else "",
    )


def parse_contact_pick(body: Mapping[str, Any]) -> ContactPick:
    payload = read_model(BlockActions, body)
    ref = payload.actions[0].value or ""
    if not CONTACT_REF.match(ref):
        raise PayloadError("the contact picked is not one PIN Verify listed")
    return ContactPick(
        team_id=team_of(payload),
        user_id=payload.user.id,
        user_name=user_name(payload.user),
        contact_ref=ref,
    )


def decode_button(value: str) -> CardButton:
    match = BUTTON_VALUE.match(value)
    if match is None:
        raise PayloadError("the button is not one PIN Verify drew")
    verification_id, seq, channel = match.groups()
    return CardButton(
        verification_id=verification_id,
        seq=int(seq),
        channel=Channel(channel) if channel else None,
    )


def team_of(payload: BlockActions | ViewSubmission | ViewClosed) -> str:
    team = payload.team.id if payload.team is not None else None
    return team or payload.user.team_id or ""


def user_name(user: UserRef) -> str:
    return clean_line(user.name or user.username or "")[:MAX_USER_NAME]


def text_input(values: StateValues, prefix: str, action_id: str) -> str | None:
    """What was typed in the first input whose block id starts with `prefix`, cleaned."""
    for block_id, inputs in values.items():
        if block_id.startswith(prefix):
            typed = inputs.get(action_id)
            if typed is None or typed.value is None:
                return None
            return clean_line(typed.value)
    return None


def multiline_input(values: StateValues, block_id: str, action_id: str) -> str | None:
    typed = (values.get(block_id) or {}).get(action_id)
    return clean_multiline(typed.value) if typed is not None and typed.value is not None else None


def trigger_of(body: Mapping[str, Any]) -> str:
    """The trigger id a modal opens with (validated by the gate's models); PayloadError if none."""
    trigger = body.get("trigger_id")
    if not isinstance(trigger, str) or not trigger:
        raise PayloadError("the request carries no trigger to open a form with")
    return trigger
