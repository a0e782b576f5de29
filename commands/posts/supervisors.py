"""Delivers supervisors' posts from the outbox; Slack trouble defers, never drops, a post."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import Deliverer, DeliveryDeferred, PolicyAnnouncement, SupervisorReport
from commands.blocks import as_dicts
from commands.posts.announcement_views import settings_announcement, settings_announcement_text
from commands.posts.supervisor_views import supervisor_fallback_text, supervisor_post


def supervisor_deliverer(client: AsyncWebClient) -> Deliverer:
    async def deliver(payload: dict[str, Any]) -> None:
        report = SupervisorReport.from_row(payload)
        await post_or_defer(
            client,
            channel=report.channel,
            text=supervisor_fallback_text(report),
            blocks=as_dicts(supervisor_post(report)),
            what="supervisors' post",
        )

    return deliver


def announcement_deliverer(client: AsyncWebClient) -> Deliverer:
    """Settings changes, posted to the supervisors' channel(s) named in the payload."""

    async def deliver(payload: dict[str, Any]) -> None:
        announcement = PolicyAnnouncement.from_row(payload)
        await post_or_defer(
            client,
            channel=announcement.channel,
            text=settings_announcement_text(announcement),
            blocks=as_dicts(settings_announcement(announcement)),
            what="settings announcement",
        )

    return deliver


async def post_or_defer(
    client: AsyncWebClient,
    *,
    channel: str,
    text: str,
    what: str,
    blocks: list[dict[str, object]] | None = None,
) -> None:
    """Post once; any Slack trouble becomes DeliveryDeferred (with Slack's Retry-After)."""
    try:
        await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SlackApiError as exc:
        retry_after = exc.response.headers.get("Retry-After") if exc.response else None
        error = exc.response.get("error") if exc.response else None
        raise DeliveryDeferred(
            f"Slack refused the {what}: {error or exc}",
            retry_after=float(retry_after) if retry_after else None,
        ) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryDeferred(f"Slack unreachable: {type(exc).__name__}") from exc
