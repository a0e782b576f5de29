"""App Home: each user's recent verifications; the policy, its warnings and buttons for admins."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps, deps_from
from bot.errors import RoleCheckFailed
from bot.workspace.policy import Policy, load_policy
from bot.workspace.roles import Role
from bot.workspace.settings_form import unsafe_settings
from commands.home.views import RECENT_LIMIT, RecentVerification, home_view
from storage import repositories as repo

log = logging.getLogger(__name__)


async def handle_home_opened(
    event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    # Events are acked by Bolt before this runs; Slack sends this for the Messages tab too.
    if event.get("tab") != "home":
        return
    user_id = str(event.get("user") or "")
    team_id = str(body.get("team_id") or context.team_id or "")
    if not user_id or not team_id:
        return
    await publish_home(deps_from(context), client, team_id=team_id, user_id=user_id)


async def publish_home(deps: Deps, client: AsyncWebClient, *, team_id: str, user_id: str) -> None:
    """Draw this user's Home tab from the database and their role, as of now."""
    notice = None
    try:
        role = await deps.roles.role_of(team_id=team_id, user_id=user_id)
    except RoleCheckFailed as failure:
        # Show nothing privileged while Slack cannot tell us who this is.
        role, notice = Role.NONE, failure.message
    policy: Policy | None = None
    async with deps.db.transaction() as session:
        rows = await repo.recent_verifications_for_agent(
            session=session, agent_user_id=user_id, limit=RECENT_LIMIT
        )
        if role is Role.ADMIN:
            policy = await load_policy(
                session=session, team_id=team_id, defaults=Policy.from_settings(deps.settings)
            )
    recent = [
        RecentVerification(
            contact_name=row.contact_name,
            company=row.company,
            outcome=row.outcome,
            state=row.state,
            created_at=row.created_at,
        )
        for row in rows
        if row.team_id == team_id
    ]
    view = home_view(
        role=role,
        recent=recent,
        policy=policy,
        warnings=unsafe_settings(policy) if policy is not None else (),
        notice=notice,
    )
    try:
        await client.views_publish(user_id=user_id, view=view.to_dict())
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        # The next app_home_opened draws it again; nothing is lost.
        log.warning("home publish failed", extra={"user": user_id, "error": type(exc).__name__})
