"""The verification card: open it, and handle every button on it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.contacts import ContactRecord, TicketRecord
from bot.delivery import Channel
from bot.deps import Deps, deps_from
from bot.errors import VerificationRefused
from bot.locks import KeyedLocks
from bot.verification import Outcome, VerificationService, VerificationSnapshot
from commands.access import agent_or_refuse
from commands.blocks import as_dicts
from commands.card.views import MOVED_TEXT, card_fallback_text, moved_card, verification_card
from commands.parsing import CardClick, parse_card_click

log = logging.getLogger(__name__)


async def open_card(
    deps: Deps,
    client: AsyncWebClient,
    *,
    team_id: str,
    user_id: str,
    user_name: str,
    contact: ContactRecord,
    ticket: TicketRecord | None = None,
) -> VerificationSnapshot:
    """Start a verification and post its card in the agent's DM with the bot."""
    snapshot = await deps.verifications.open(
        team_id=team_id, agent_user_id=user_id, agent_name=user_name, contact=contact
    )
    notice = None
    if ticket is not None and snapshot.outcome is None:
        # /verify #ticket: the ticket the agent named is the one this verification goes on.
        try:
            await deps.tickets.attach(
                verification_id=snapshot.id, actor_user_id=user_id, ticket=ticket
            )
        except VerificationRefused as refusal:
            notice = refusal.message
        snapshot = await deps.verifications.snapshot(snapshot.id)
    # Held until the card's ts is saved: a click on the new card that lands between
    # chat.postMessage and attach_card would otherwise find no card to redraw.
    async with deps.card_locks.hold(snapshot.id):
        if snapshot.card_channel and snapshot.card_ts:
            # Reopened: retire the old card so only one card drives this verification.
            await _retire_card(client, snapshot.card_channel, snapshot.card_ts)
        # Posting to the user id lands in the app's DM with them and needs only chat:write.
        response = await client.chat_postMessage(
            channel=user_id,
            text=card_fallback_text(snapshot),
            blocks=as_dicts(verification_card(snapshot, notice=notice)),
        )
        await deps.verifications.attach_card(
            verification_id=snapshot.id, channel=str(response["channel"]), ts=str(response["ts"])
        )
    return snapshot


async def _retire_card(client: AsyncWebClient, channel: str, ts: str) -> None:
    await _update_card(client, channel, ts, text=MOVED_TEXT, blocks=as_dicts(moved_card()))


def card_redrawer(
    verifications: VerificationService, client: AsyncWebClient, locks: KeyedLocks
) -> Callable[[str], Awaitable[None]]:
    """Redraw a card from the database (the relay calls it when a ticket note settles)."""

    async def redraw(verification_id: str) -> None:
        async with locks.hold(verification_id):
            try:
                snapshot = await verifications.snapshot(verification_id)
            except VerificationRefused:
                return
            await redraw_card(client, snapshot)

    return redraw


async def redraw_card(
    client: AsyncWebClient, snapshot: VerificationSnapshot, *, notice: str | None = None
) -> None:
    if snapshot.card_channel is None or snapshot.card_ts is None:
        return
    await _update_card(
        client,
        snapshot.card_channel,
        snapshot.card_ts,
        text=card_fallback_text(snapshot),
        blocks=as_dicts(verification_card(snapshot, notice=notice)),
    )


async def _update_card(
    client: AsyncWebClient, channel: str, ts: str, *, text: str, blocks: list[dict[str, object]]
) -> None:
    try:
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        # The action itself is saved; only the picture of it is stale. The next action (or
        # /verify for the same contact) redraws the card from the database.
        log.warning("card update failed", extra={"ts": ts, "error": type(exc).__name__})


async def handle_send(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    # Ack before the provider call: an SMS gateway can take longer than Slack's 3 seconds.
    await ack()
    click = parse_card_click(body)
    channel = click.button.channel
    if channel is None:
        log.warning("send button without a channel", extra={"user": click.user_id})
        return
    await run_action(
        deps_from(context), client, respond, click, lambda deps: _send(deps, click, channel)
    )


async def handle_check(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    click = parse_card_click(body)

    async def check(deps: Deps) -> tuple[VerificationSnapshot | None, str | None]:
        outcome = await deps.verifications.check_code(
            verification_id=click.button.verification_id,
            actor_user_id=click.user_id,
            entry=click.code_entry,
            seq=click.button.seq,
        )
        return outcome.snapshot, outcome.notice

    await run_action(deps_from(context), client, respond, click, check)


async def handle_completed(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    click = parse_card_click(body)
    await run_action(deps_from(context), client, respond, click, _closer(click, Outcome.COMPLETED))


async def handle_incomplete(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    click = parse_card_click(body)
    await run_action(deps_from(context), client, respond, click, _closer(click, Outcome.INCOMPLETE))


CardAction = Callable[[Deps], Awaitable[tuple[VerificationSnapshot | None, str | None]]]


async def run_action(
    deps: Deps,
    client: AsyncWebClient,
    respond: AsyncRespond | None,
    click: CardClick,
    action: CardAction,
) -> None:
    """Run one card action and redraw the card, one action per card at a time."""
    allowed = await agent_or_refuse(
        deps, respond, team_id=click.team_id, user_id=click.user_id, action=click.action_id
    )
    if not allowed:
        return
    verification_id = click.button.verification_id
    async with deps.card_locks.hold(verification_id):
        try:
            snapshot, notice = await action(deps)
        except VerificationRefused as refusal:
            if refusal.code.about_someone_else:
                # Not this agent's card: never redraw someone else's card for them.
                log.warning(
                    "card action refused",
                    extra={"user": click.user_id, "reason": refusal.code},
                )
                return
            snapshot, notice = await deps.verifications.snapshot(verification_id), refusal.message
        if snapshot is not None:
            await redraw_card(client, snapshot, notice=notice)


async def _send(
    deps: Deps, click: CardClick, channel: Channel
) -> tuple[VerificationSnapshot | None, str | None]:
    outcome = await deps.verifications.send_code(
        verification_id=click.button.verification_id,
        actor_user_id=click.user_id,
        channel=channel,
        seq=click.button.seq,
    )
    if outcome.duplicate:
        # A double click or a retry: the first request owns the card; drawing here could
        # overwrite its newer state with an older one.
        return None, None
    send = outcome.snapshot.latest_send
    if outcome.error is not None and send is not None and send.delivery_status == "unconfirmed":
        # It may well have arrived: the card's delivery line says so; "not sent" would lie.
        return outcome.snapshot, None
    if outcome.error is not None:
        where = f" to {send.masked_destination}" if send else ""
        reason = (send.error_message if send else None) or outcome.error.message
        return outcome.snapshot, f"{channel.label} not sent{where}: {reason}"
    card_channel = outcome.snapshot.card_channel or ""
    if outcome.code_for_agent and card_channel.startswith("D"):
        # The workspace chose to show codes to agents: on the agent's own card in their DM
        # only (a D channel), never anywhere others could read it.
        return outcome.snapshot, (
            f"The code sent is {outcome.code_for_agent}. Only you see it (an admin turned on "
            "showing codes to agents); still ask the caller to read it back."
        )
    return outcome.snapshot, None


def _closer(click: CardClick, outcome: Outcome) -> CardAction:
    async def close(deps: Deps) -> tuple[VerificationSnapshot | None, str | None]:
        result = await deps.verifications.close(
            verification_id=click.button.verification_id,
            actor_user_id=click.user_id,
            outcome=outcome,
        )
        return result.snapshot, None

    return close
