"""App Home's supervisor and audit actions: switching the figures' window, and an admin's
download of the audit log as a CSV file in their DM with PIN Verify (files.uploadV2)."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import DOWNLOAD_DAYS
from bot.deps import deps_from
from bot.errors import NotAllowed
from bot.supervision import WINDOWS
from commands.blocks import escape
from commands.home.listeners import DEFAULT_WINDOW, publish_home
from commands.parsing import PayloadError

log = logging.getLogger(__name__)


async def handle_figures_window(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    user_id, team_id = _who(body)
    actions = body.get("actions") or []
    selected = (actions[0].get("selected_option") or {}) if actions else {}
    window = str(selected.get("value") or DEFAULT_WINDOW)
    if window not in WINDOWS:
        raise PayloadError("unknown figures window")
    await publish_home(deps_from(context), client, team_id=team_id, user_id=user_id, window=window)


async def handle_download_audit(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    deps = deps_from(context)
    user_id, team_id = _who(body)
    opened = await client.conversations_open(users=user_id)
    dm = str(opened["channel"]["id"])
    try:
        await deps.roles.require_admin(team_id=team_id, user_id=user_id, action="download audit")
    except NotAllowed as refusal:
        await client.chat_postMessage(channel=dm, text=escape(refusal.message))
        return
    # Bounded by the period (30 days of one workspace); written, then handed to Slack.
    buffer = io.StringIO()
    count = await deps.audit.export_recent(team_id=team_id, actor_user_id=user_id, out=buffer)
    try:
        await client.files_upload_v2(
            channel=dm,
            content=buffer.getvalue().encode(),
            filename=f"pinverify-audit-{team_id}-last-{DOWNLOAD_DAYS}-days.csv",
            title=f"PIN Verify audit log, last {DOWNLOAD_DAYS} days",
            initial_comment=f"The audit log of the last {DOWNLOAD_DAYS} days: {count} events "
            "(CSV, hash-chained: `pinverify audit verify` on the server proves it).",
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("audit upload failed", extra={"error": type(exc).__name__})
        await client.chat_postMessage(
            channel=dm, text="Slack refused the audit file; nothing was shared. Try again."
        )


def _who(body: Mapping[str, Any]) -> tuple[str, str]:
    user = body.get("user") or {}
    team = body.get("team") or {}
    user_id = str(user.get("id") or "") if isinstance(user, Mapping) else ""
    team_id = str(team.get("id") or user.get("team_id") or "") if isinstance(team, Mapping) else ""
    if not user_id or not team_id:
        raise PayloadError("no user or team")
    return user_id, team_id
