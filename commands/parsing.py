"""Slack payloads in, small typed requests out: listeners never dig through dicts themselves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.delivery import Channel
from commands.blocks import CardButton
from commands.ids import ActionId, BlockId


class PayloadError(Exception):
    """The payload is not one this app produced (crafted, or from an older card)."""


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


def parse_verify_command(command: Mapping[str, Any]) -> VerifyCommand:
    return VerifyCommand(
        team_id=str(command.get("team_id", "")),
        user_id=str(command["user_id"]),
        user_name=str(command.get("user_name", "")),
        text=str(command.get("text", "")),
    )


def parse_card_click(body: Mapping[str, Any]) -> CardClick:
    action = _first_action(body)
    # A button carries its value; an overflow menu (the card's edit menu) its chosen option's.
    value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
    return CardClick(
        team_id=_team_id(body),
        user_id=str(body["user"]["id"]),
        button=decode_button(str(value)),
        code_entry=_code_entry(body),
        ticket_entry=_text_input(body, BlockId.TICKET_ENTRY_PREFIX, ActionId.TICKET_INPUT),
        action_id=str(action.get("action_id", ""))[:64],
    )


@dataclass(frozen=True)
class TicketSummarySubmission:
    team_id: str
    user_id: str
    verification_id: str
    summary: str


def parse_ticket_summary(body: Mapping[str, Any]) -> TicketSummarySubmission:
    view = body.get("view") or {}
    verification_id = str(view.get("private_metadata") or "")
    if not verification_id.isalnum() or len(verification_id) > 32:
        raise PayloadError("create-ticket modal without a verification id")
    values = (view.get("state") or {}).get("values") or {}
    typed = (values.get(BlockId.TICKET_SUMMARY) or {}).get(ActionId.TICKET_SUMMARY_INPUT) or {}
    return TicketSummarySubmission(
        team_id=_team_id(body),
        user_id=str(body["user"]["id"]),
        verification_id=verification_id,
        summary=str(typed.get("value") or ""),
    )


def parse_contact_pick(body: Mapping[str, Any]) -> ContactPick:
    action = _first_action(body)
    user = body["user"]
    ref = str(action.get("value", ""))
    if not ref or len(ref) > 128:
        raise PayloadError("contact reference missing")
    return ContactPick(
        team_id=_team_id(body),
        user_id=str(user["id"]),
        user_name=str(user.get("name") or user.get("username") or ""),
        contact_ref=ref,
    )


def decode_button(value: str) -> CardButton:
    parts = value.split("|")
    if len(parts) != 3 or not parts[0].isalnum() or not parts[1].isdigit():
        raise PayloadError(f"not a card button value: {value[:40]!r}")
    channel = Channel(parts[2]) if parts[2] in (Channel.SMS, Channel.EMAIL) else None
    if parts[2] and channel is None:
        raise PayloadError("unknown channel")
    return CardButton(verification_id=parts[0], seq=int(parts[1]), channel=channel)


def _first_action(body: Mapping[str, Any]) -> Mapping[str, Any]:
    actions = body.get("actions") or []
    if not actions:
        raise PayloadError("no action in payload")
    action: Mapping[str, Any] = actions[0]
    return action


def _team_id(body: Mapping[str, Any]) -> str:
    team = body.get("team") or {}
    return str(team.get("id") or body.get("user", {}).get("team_id") or "")


def _code_entry(body: Mapping[str, Any]) -> str | None:
    return _text_input(body, BlockId.CODE_ENTRY_PREFIX, ActionId.CODE_INPUT)


def _text_input(body: Mapping[str, Any], prefix: str, action_id: str) -> str | None:
    values = (body.get("state") or {}).get("values") or {}
    for block_id, inputs in values.items():
        if str(block_id).startswith(prefix):
            value = (inputs.get(action_id) or {}).get("value")
            return str(value) if value is not None else None
    return None
