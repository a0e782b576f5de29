"""Ticket actions on the card: Tag ticket (by number) and Create ticket (a modal)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.contacts import parse_ticket_reference
from bot.deps import Deps, deps_from
from bot.errors import RefusalCode, TicketRefProblem, VerificationRefused
from bot.tickets import MAX_SUMMARY
from bot.verification import VerificationSnapshot
from commands.access import agent_or_refuse
from commands.blocks import CardButton
from commands.card.listeners import run_action
from commands.card.ticket_views import create_ticket_modal
from commands.ids import BlockId, CallbackId
from commands.parsing import CardClick, parse_card_click, parse_ticket_summary, trigger_of

log = logging.getLogger(__name__)


async def handle_tag_ticket(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    click = parse_card_click(body)

    async def tag(deps: Deps) -> tuple[VerificationSnapshot | None, str | None]:
        try:
            number = parse_ticket_reference(click.ticket_entry or "")
        except TicketRefProblem as problem:
            raise VerificationRefused(str(problem), code=RefusalCode.BAD_TICKET_NUMBER) from None
        ticket = await deps.tickets.tag_by_number(
            verification_id=click.button.verification_id,
            actor_user_id=click.user_id,
            number=number,
        )
        snapshot = await deps.verifications.snapshot(click.button.verification_id)
        return snapshot, f"Tagged ticket #{ticket.number}."

    await run_action(deps_from(context), client, respond, click, tag)


async def handle_create_ticket(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    click = parse_card_click(body)
    deps = deps_from(context)
    # Roles are cached, so this rarely costs a Slack call before the 3-second trigger expires.
    allowed = await agent_or_refuse(
        deps, respond, team_id=click.team_id, user_id=click.user_id, action=click.action_id
    )
    if not allowed:
        return
    try:
        snapshot = await deps.verifications.snapshot(click.button.verification_id)
    except VerificationRefused:
        return
    if snapshot.agent_user_id != click.user_id or snapshot.closed or not snapshot.tickets_enabled:
        log.warning("create-ticket refused", extra={"user": click.user_id})
        return
    # trigger_id lives 3 seconds: open the modal before any PSA call.
    await client.views_open(
        trigger_id=trigger_of(body),
        view=create_ticket_modal(snapshot, psa_label=deps.tickets.label),
    )


async def handle_create_ticket_submission(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    submission = parse_ticket_summary(body)
    summary = " ".join(submission.summary.split())
    if not summary or len(summary) > MAX_SUMMARY:
        await ack(
            response_action="errors",
            errors={
                BlockId.TICKET_SUMMARY.value: "Type a short summary of why the caller called "
                f"(up to {MAX_SUMMARY} characters)."
            },
        )
        return
    # Close the modal now; creating the ticket may take longer than Slack waits. The card
    # shows the result (the new ticket, or why it could not be created).
    await ack()
    click = CardClick(
        team_id=submission.team_id,
        user_id=submission.user_id,
        button=CardButton(submission.verification_id, 0),
        code_entry=None,
        action_id=CallbackId.CREATE_TICKET.value,
    )

    async def create(deps: Deps) -> tuple[VerificationSnapshot | None, str | None]:
        ticket = await deps.tickets.create(
            verification_id=submission.verification_id,
            actor_user_id=submission.user_id,
            summary=summary,
        )
        snapshot = await deps.verifications.snapshot(submission.verification_id)
        return snapshot, f"Created ticket #{ticket.number} in {deps.tickets.label} and tagged it."

    await run_action(deps_from(context), client, None, click, create)
