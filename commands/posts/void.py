"""Void from the supervisors' channel: the Void button on a live message opens a modal for
the reason; the submission is checked (supervisors only), voids the verification (audited),
and redraws the agent's card. The live message and its thread are updated by the relay."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View

from bot.deps import deps_from
from bot.errors import NotAllowed, SettingsInvalid, VerificationRefused
from bot.supervision import MAX_VOID_REASON
from commands.blocks import escape
from commands.card import redraw_card
from commands.ids import ActionId, BlockId, CallbackId
from commands.parsing import PayloadError

log = logging.getLogger(__name__)


def void_modal(verification_id: str) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.VOID_VERIFICATION,
        private_metadata=verification_id,
        title=PlainTextObject(text="Void verification"),
        submit=PlainTextObject(text="Void"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=BlockId.VOID_REASON,
                label=PlainTextObject(text="Why void it? (the agent and the audit log see this)"),
                element=PlainTextInputElement(
                    action_id=ActionId.VOID_REASON_INPUT,
                    multiline=True,
                    max_length=MAX_VOID_REASON,
                ),
            )
        ],
    )


async def handle_void_button(
    ack: AsyncAck,
    body: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    deps = deps_from(context)
    user_id, team_id = _who(body)
    verification_id = _button_value(body)
    try:
        # Checked before the modal opens, and again when it is submitted.
        await deps.roles.require_supervisor(
            team_id=team_id, user_id=user_id, action="void verification"
        )
    except NotAllowed as refusal:
        await respond(
            text=escape(refusal.message), response_type="ephemeral", replace_original=False
        )
        return
    client = context.client
    assert client is not None
    await client.views_open(
        trigger_id=str(body.get("trigger_id") or ""), view=void_modal(verification_id).to_dict()
    )


async def handle_void_submission(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    deps = deps_from(context)
    user_id, team_id = _who(body)
    verification_id = str(view.get("private_metadata") or "")
    values = ((view.get("state") or {}).get("values")) or {}
    if not isinstance(values, Mapping) or not verification_id.isalnum():
        raise PayloadError("void modal without its verification")
    reason = ((values.get(BlockId.VOID_REASON) or {}).get(ActionId.VOID_REASON_INPUT) or {}).get(
        "value"
    )
    try:
        voided = await deps.supervision.void(
            team_id=team_id,
            user_id=user_id,
            verification_id=verification_id,
            reason=str(reason) if reason is not None else None,
        )
    except SettingsInvalid as invalid:
        await ack(response_action="errors", errors={BlockId.VOID_REASON: invalid.errors["reason"]})
        return
    except (NotAllowed, VerificationRefused) as refusal:
        await ack(response_action="errors", errors={BlockId.VOID_REASON: refusal.message})
        return
    await ack()
    client = context.client
    assert client is not None
    if not voided.already_closed:
        notice = f"Voided by <@{user_id}>: {' '.join(str(reason).split())}"
        async with deps.card_locks.hold(verification_id):
            await redraw_card(client, voided.snapshot, notice=notice)


def _who(body: Mapping[str, Any]) -> tuple[str, str]:
    user = body.get("user") or {}
    team = body.get("team") or {}
    user_id = str(user.get("id") or "") if isinstance(user, Mapping) else ""
    team_id = str(team.get("id") or "") if isinstance(team, Mapping) else ""
    if not user_id or not team_id:
        raise PayloadError("no user or team")
    return user_id, team_id


def _button_value(body: Mapping[str, Any]) -> str:
    actions = body.get("actions") or []
    value = actions[0].get("value") if actions and isinstance(actions[0], Mapping) else None
    if not isinstance(value, str) or not value.isalnum() or len(value) > 32:
        raise PayloadError("void button without a verification")
    return value
