"""`SupervisorChannel` on Slack's Web API: posts and updates with a marker in the message
metadata, and finds a marked message again (conversations.history / .replies).

Slack trouble becomes `DeliveryDeferred` (with Slack's Retry-After on a 429), so the relay
waits and tries again; a deleted live message becomes `MessageGone`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.outbox import DeliveryDeferred, LiveReport, PolicyAnnouncement, SupervisorAlert
from bot.supervision import MessageGone
from commands.blocks import as_dicts
from commands.posts.announcement_views import settings_announcement, settings_announcement_text
from commands.posts.live_views import (
    alert_text,
    live_fallback_text,
    live_message,
    thread_parent_text,
)

MARKER_EVENT = "pinverify_post"
LOOKUP_PAGE = 200
LOOKUP_PAGES = 10  # at most 2,000 messages back: a marker lookup never scans a whole channel
_GONE = frozenset({"message_not_found", "cant_update_message"})


def marker_metadata(marker: str) -> dict[str, Any]:
    return {"event_type": MARKER_EVENT, "event_payload": {"key": marker}}


class SlackSupervisorChannel:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post_live(self, report: LiveReport, *, marker: str) -> str:
        response = await call_slack(
            "live message",
            lambda: self._client.chat_postMessage(
                channel=report.channel,
                text=live_fallback_text(report),
                blocks=as_dicts(live_message(report)),
                metadata=marker_metadata(marker),
            ),
        )
        return str(response["ts"])

    async def update_live(self, report: LiveReport, *, channel: str, ts: str) -> None:
        try:
            await call_slack(
                "live message update",
                lambda: self._client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=live_fallback_text(report),
                    blocks=as_dicts(live_message(report)),
                ),
            )
        except DeliveryDeferred as exc:
            if isinstance(exc.__cause__, SlackApiError) and _error(exc.__cause__) in _GONE:
                raise MessageGone(ts) from exc
            raise

    async def post_alert(
        self,
        alert: SupervisorAlert,
        *,
        channel: str,
        thread_ts: str | None,
        mention: str | None,
        marker: str,
    ) -> str:
        response = await call_slack(
            "supervisors' alert",
            lambda: self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=alert_text(alert, mention=mention),
                metadata=marker_metadata(marker),
            ),
        )
        return str(response["ts"])

    async def post_thread_parent(self, *, channel: str, purpose: str, marker: str) -> str:
        response = await call_slack(
            "thread",
            lambda: self._client.chat_postMessage(
                channel=channel, text=thread_parent_text(purpose), metadata=marker_metadata(marker)
            ),
        )
        return str(response["ts"])

    async def post_announcement(
        self,
        announcement: PolicyAnnouncement,
        *,
        channel: str,
        thread_ts: str,
        mention: str | None,
        marker: str,
    ) -> str:
        response = await call_slack(
            "settings announcement",
            lambda: self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=settings_announcement_text(announcement),
                blocks=as_dicts(settings_announcement(announcement, mention=mention)),
                metadata=marker_metadata(marker),
            ),
        )
        return str(response["ts"])

    async def find_marked(
        self, *, channel: str, marker: str, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            page = await call_slack(
                "marker lookup",
                functools.partial(self._page, channel, since, thread_ts, cursor),
            )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == MARKER_EVENT and payload.get("key") == marker:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    async def _page(
        self, channel: str, since: datetime, thread_ts: str | None, cursor: str | None
    ) -> AsyncSlackResponse:
        if thread_ts is None:
            return await self._client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=LOOKUP_PAGE,
                cursor=cursor,
            )
        return await self._client.conversations_replies(
            channel=channel,
            ts=thread_ts,
            include_all_metadata=True,
            limit=LOOKUP_PAGE,
            cursor=cursor,
        )


async def call_slack(
    what: str, request: Callable[[], Awaitable[AsyncSlackResponse]]
) -> AsyncSlackResponse:
    """One Web API call; any Slack trouble becomes DeliveryDeferred (Retry-After kept)."""
    try:
        return await request()
    except SlackApiError as exc:
        retry_after = exc.response.headers.get("Retry-After") if exc.response else None
        raise DeliveryDeferred(
            f"Slack refused the {what}: {_error(exc) or exc}",
            retry_after=float(retry_after) if retry_after else None,
        ) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryDeferred(f"Slack unreachable: {type(exc).__name__}") from exc


def _error(exc: SlackApiError) -> str | None:
    return exc.response.get("error") if exc.response else None
