"""Edit number / Edit email on the card: a modal for the new destination and the reason.

The policy decides whether the action exists at all; with edits off the card has no such
button, and a crafted click or submission is refused by the domain (and audited).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Channel
from bot.deps import Deps, deps_from
from bot.errors import DestinationInvalid, NotAllowed, VerificationRefused
from bot.tickets import DESTINATION_NOT_ON_RECORD
from bot.verification import MAX_REASON_CHARS, EditField, EditForm
from commands.access import agent_or_refuse
from commands.blocks import CardButton
from commands.card.listeners import redraw_card
from commands.ids import ActionId, BlockId, CallbackId
from commands.inbound.slack_payloads import ViewSubmission
from commands.inbound.text import clean_line
from commands.parsing import (
    PayloadError,
    decode_button,
    multiline_input,
    parse_card_click,
    read_model,
    team_of,
    trigger_of,
)

log = logging.getLogger(__name__)

FIELD_BLOCKS = {EditField.VALUE: BlockId.DESTINATION_VALUE, EditField.REASON: BlockId.EDIT_REASON}


@dataclass(frozen=True)
class DestinationSubmission:
    team_id: str
    user_id: str
    button: CardButton
    channel: Channel
    value: str
    reason: str | None


# --- Block Kit ---------------------------------------------------------------------------------


def destination_modal(form: EditForm, button: CardButton) -> View:
    noun = "phone number" if form.channel is Channel.SMS else "email address"
    current = form.masked_current or "none"
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"On record: *{current}*. Send the code to another {noun} only when the "
                "caller cannot receive it on the one on record, and you are sure of who they "
                f"are. The card, the supervisors' post and the audit log will say "
                f"*{DESTINATION_NOT_ON_RECORD}*."
            )
        ),
        InputBlock(
            block_id=BlockId.DESTINATION_VALUE,
            label=PlainTextObject(text=f"New {noun}"),
            element=PlainTextInputElement(
                action_id=ActionId.DESTINATION_INPUT,
                placeholder=PlainTextObject(
                    text="+1 513 555 0100" if form.channel is Channel.SMS else "name@example.com"
                ),
                max_length=320,
            ),
        ),
        InputBlock(
            block_id=BlockId.EDIT_REASON,
            label=PlainTextObject(text="Reason"),
            element=PlainTextInputElement(
                action_id=ActionId.EDIT_REASON_INPUT,
                multiline=True,
                max_length=MAX_REASON_CHARS,
                placeholder=PlainTextObject(text="e.g. the caller's phone on record was lost"),
            ),
            optional=not form.reason_required,
        ),
        ContextBlock(elements=[MarkdownTextObject(text="This change is audited.")]),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.EDIT_DESTINATION,
        title=PlainTextObject(text="Edit number" if form.channel is Channel.SMS else "Edit email"),
        submit=PlainTextObject(text="Use this"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=button.encode(),
        blocks=blocks,
    )


def parse_destination_submission(body: Mapping[str, Any]) -> DestinationSubmission:
    payload = read_model(ViewSubmission, body)
    if payload.view.callback_id != CallbackId.EDIT_DESTINATION:
        raise PayloadError("this is not the destination form")
    button = decode_button(payload.view.private_metadata)
    if button.channel is None:
        raise PayloadError("the destination form does not say SMS or email")
    values = payload.view.state.values
    value = (values.get(BlockId.DESTINATION_VALUE) or {}).get(ActionId.DESTINATION_INPUT)
    return DestinationSubmission(
        team_id=team_of(payload),
        user_id=payload.user.id,
        button=button,
        channel=button.channel,
        value=clean_line(value.value or "") if value is not None else "",
        reason=multiline_input(values, BlockId.EDIT_REASON, ActionId.EDIT_REASON_INPUT),
    )


# --- listeners ---------------------------------------------------------------------------------


async def handle_edit_destination(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    deps = deps_from(context)
    click = parse_card_click(body)
    channel = click.button.channel
    if channel is None:
        raise PayloadError("edit button without a channel")
    allowed = await agent_or_refuse(
        deps, respond, team_id=click.team_id, user_id=click.user_id, action=click.action_id
    )
    if not allowed:
        return
    try:
        form = await deps.destinations.form(
            verification_id=click.button.verification_id,
            actor_user_id=click.user_id,
            channel=channel,
        )
    except VerificationRefused as refusal:
        await _show_refusal(deps, client, click.button.verification_id, click.user_id, refusal)
        return
    await client.views_open(trigger_id=trigger_of(body), view=destination_modal(form, click.button))


async def handle_submit_destination(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Validation answers inline, so it runs before the ack; the card is redrawn after."""
    deps = deps_from(context)
    submission = parse_destination_submission(body)
    verification_id = submission.button.verification_id
    try:
        await deps.roles.require_agent(
            team_id=submission.team_id,
            user_id=submission.user_id,
            action=CallbackId.EDIT_DESTINATION,
        )
        await deps.destinations.edit(
            verification_id=verification_id,
            actor_user_id=submission.user_id,
            channel=submission.channel,
            value=submission.value,
            reason=submission.reason,
        )
    except NotAllowed as refusal:
        await ack(response_action="errors", errors={BlockId.DESTINATION_VALUE: refusal.message})
        return
    except DestinationInvalid as invalid:
        await ack(
            response_action="errors",
            errors={FIELD_BLOCKS[EditField(invalid.field)]: invalid.message},
        )
        return
    except VerificationRefused as refusal:
        await ack(response_action="errors", errors={BlockId.DESTINATION_VALUE: refusal.message})
        return
    await ack()
    noun = "Phone number" if submission.channel is Channel.SMS else "Email address"
    async with deps.card_locks.hold(verification_id):
        snapshot = await deps.verifications.snapshot(verification_id)
        await redraw_card(
            client,
            snapshot,
            notice=f"{noun} changed for this verification. The next code goes there.",
        )


async def _show_refusal(
    deps: Deps,
    client: AsyncWebClient,
    verification_id: str,
    user_id: str,
    refusal: VerificationRefused,
) -> None:
    if refusal.code.about_someone_else:
        # Not this agent's card: never redraw someone else's card for them.
        log.warning("destination edit refused", extra={"user": user_id, "reason": refusal.code})
        return
    async with deps.card_locks.hold(verification_id):
        snapshot = await deps.verifications.snapshot(verification_id)
        await redraw_card(client, snapshot, notice=refusal.message)
