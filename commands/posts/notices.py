"""Delivers "a ticket note keeps failing" messages (to the agent's DM and the supervisors)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import Deliverer, NoteFailing
from commands.blocks import escape
from commands.posts.supervisors import post_or_defer


def note_failing_deliverer(client: AsyncWebClient) -> Deliverer:
    async def deliver(payload: dict[str, object]) -> None:
        notice = NoteFailing.from_row(payload)
        # A user id as channel lands in the app's DM with them (chat:write only).
        await post_or_defer(
            client, channel=notice.channel, text=note_failing_text(notice), what="note notice"
        )

    return deliver


def note_failing_text(notice: NoteFailing) -> str:
    """A ticket note keeps failing: told once to the agent and the supervisors (no code)."""
    contact = escape(notice.contact_name or "the caller")
    ticket = escape(notice.ticket_number or "?")
    error = escape(notice.error or "unknown error")
    who = f" (agent <@{notice.agent_user_id}>)" if notice.agent_user_id else ""
    return (
        f"⚠️ The PIN Verify note for {contact} on ticket #{ticket}{who} has failed "
        f"{notice.failures} times: {error}\nPIN Verify keeps retrying and will not drop "
        "it; if the ticket must show the verification now, add the note by hand."
    )
