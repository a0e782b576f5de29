"""App Home: each user's recent verifications; the policy, its warnings and buttons for admins."""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps, deps_from
from bot.errors import NotAllowed
from commands.home.views import home_view
from commands.inbound.text import SLACK_ID_PATTERN

DEFAULT_WINDOW = "7 days"

log = logging.getLogger(__name__)


async def handle_home_opened(
    event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    # Events are acked by Bolt before this runs; Slack sends this for the Messages tab too.
    if event.get("tab") != "home":
        return
    user_id, team_id = event.get("user"), body.get("team_id") or context.team_id
    if not isinstance(user_id, str) or not isinstance(team_id, str):
        return
    if not re.fullmatch(SLACK_ID_PATTERN, user_id) or not re.fullmatch(SLACK_ID_PATTERN, team_id):
        return
    await publish_home(deps_from(context), client, team_id=team_id, user_id=user_id)


async def publish_home(
    deps: Deps,
    client: AsyncWebClient,
    *,
    team_id: str,
    user_id: str,
    window: str = DEFAULT_WINDOW,
) -> None:
    """Draw this user's Home tab from the database and their role, as of now; supervisors
    also get their figures (for `window`)."""
    facts = await deps.workspace.home(team_id=team_id, user_id=user_id)
    figures = None
    try:
        if await deps.supervision.is_supervisor(team_id=team_id, user_id=user_id):
            figures = await deps.supervision.figures(
                team_id=team_id, user_id=user_id, window=window
            )
    except NotAllowed:
        figures = None  # Slack could not say: show nothing privileged
    view = home_view(
        role=facts.role,
        recent=facts.recent,
        policy=facts.policy,
        warnings=facts.warnings,
        notice=facts.notice,
        figures=figures,
    )
    try:
        await client.views_publish(user_id=user_id, view=view.to_dict())
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        # The next app_home_opened draws it again; nothing is lost.
        log.warning("home publish failed", extra={"user": user_id, "error": type(exc).__name__})
