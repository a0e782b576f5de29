"""/verify: find the contact, then open the card in the agent's DM (or offer a pick list)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.contacts import TicketLookup, parse_lookup
from bot.deps import Deps, deps_from
from bot.errors import ContactsUnavailable, LookupProblem, TicketProblem
from commands.access import agent_or_refuse
from commands.blocks import as_dicts, escape
from commands.card.listeners import open_card
from commands.ids import ActionId
from commands.parsing import VerifyCommand, parse_contact_pick, parse_verify_command
from commands.verify.views import card_opened_text, no_match_text, pick_list

LOOKUP_LIMIT = 11  # one more than the pick list shows, to know there are more


async def handle_verify(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    # Ack first and empty: the lookup may hit a slow CRM, and Slack gives us 3 seconds.
    await ack()
    request = parse_verify_command(command)
    deps = deps_from(context)
    allowed = await agent_or_refuse(
        deps, respond, team_id=request.team_id, user_id=request.user_id, action="/verify"
    )
    if allowed:
        await verify(request, deps, client, respond)


async def verify(
    request: VerifyCommand, deps: Deps, client: AsyncWebClient, respond: AsyncRespond
) -> None:
    try:
        query = parse_lookup(request.text, region=deps.settings.pinverify_default_region)
    except LookupProblem as problem:
        await respond(text=escape(str(problem)))
        return
    if isinstance(query, TicketLookup):
        await verify_ticket(request, query, deps, client, respond)
        return
    try:
        matches = await deps.contacts.search(query, limit=LOOKUP_LIMIT)
    except ContactsUnavailable as problem:
        await respond(text=escape(problem.message))
        return
    if not matches:
        await respond(text=no_match_text(request.text.strip()))
        return
    if len(matches) > 1 or not matches[0].active:
        await respond(
            text=f"{len(matches)} matching contact(s); pick the caller.",
            blocks=as_dicts(pick_list(request.text.strip(), matches)),
        )
        return
    snapshot = await open_card(
        deps,
        client,
        team_id=request.team_id,
        user_id=request.user_id,
        user_name=request.user_name,
        contact=matches[0],
    )
    await respond(text=card_opened_text(matches[0].name, snapshot.history))


async def verify_ticket(
    request: VerifyCommand,
    query: TicketLookup,
    deps: Deps,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """`/verify #123`: the card for the ticket's contact, with the ticket already tagged."""
    try:
        match = await deps.tickets.find_for_lookup(query.number)
    except TicketProblem as problem:
        await respond(text=escape(problem.message))
        return
    snapshot = await open_card(
        deps,
        client,
        team_id=request.team_id,
        user_id=request.user_id,
        user_name=request.user_name,
        contact=match.contact,
        ticket=match.ticket,
    )
    number = escape(match.ticket.number)
    tagged = snapshot.ticket is not None and snapshot.ticket.number == match.ticket.number
    outcome = "is tagged." if tagged else "was not tagged: the card says why."
    opened = card_opened_text(match.contact.name, snapshot.history)
    await respond(text=f"{opened} Ticket #{number} {outcome}")


async def handle_pick(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    deps = deps_from(context)
    pick = parse_contact_pick(body)
    allowed = await agent_or_refuse(
        deps, respond, team_id=pick.team_id, user_id=pick.user_id, action=ActionId.PICK_CONTACT
    )
    if not allowed:
        return
    try:
        contact = await deps.contacts.get(pick.contact_ref)
    except ContactsUnavailable as problem:
        await respond(text=escape(problem.message), replace_original=True)
        return
    if contact is None or not contact.active:
        await respond(
            text="That contact is no longer available (removed or inactive). Search again.",
            replace_original=True,
        )
        return
    snapshot = await open_card(
        deps,
        client,
        team_id=pick.team_id,
        user_id=pick.user_id,
        user_name=pick.user_name,
        contact=contact,
    )
    await respond(text=card_opened_text(contact.name, snapshot.history), replace_original=True)
