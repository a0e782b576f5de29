"""Role checks at the edge of every listener: refuse clearly, in private, before any work."""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond

from bot.deps import Deps
from bot.errors import NotAllowed
from commands.blocks import escape


async def agent_or_refuse(
    deps: Deps, respond: AsyncRespond | None, *, team_id: str, user_id: str, action: str
) -> bool:
    """True when the user may verify; otherwise tell them why (only them) and False.

    `respond` is None for a modal submission (already acked, no response_url): the refusal
    is then only audited, as every refusal is."""
    try:
        await deps.roles.require_agent(team_id=team_id, user_id=user_id, action=action)
    except NotAllowed as refusal:
        if respond is None:
            return False
        await respond(
            text=escape(refusal.message), response_type="ephemeral", replace_original=False
        )
        return False
    return True
