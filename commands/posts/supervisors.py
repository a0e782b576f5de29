"""Delivers supervisors' posts from the outbox; Slack trouble defers, never drops, a post."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox.relay import Deliverer, DeliveryDeferred
from commands.blocks import as_dicts
from commands.posts.announcement_views import settings_announcement, settings_announcement_text
from commands.posts.supervisor_views import supervisor_fallback_text, supervisor_post


def supervisor_deliverer(client: AsyncWebClient) -> Deliverer:
    return _channel_deliverer(client, supervisor_fallback_text, supervisor_post)


def announcement_deliverer(client: AsyncWebClient) -> Deliverer:
    """Settings changes, posted to the supervisors' channel(s) named in the payload."""
    return _channel_deliverer(client, settings_announcement_text, settings_announcement)


def _channel_deliverer(
    client: AsyncWebClient,
    fallback: Callable[[Mapping[str, object]], str],
    blocks: Callable[[Mapping[str, object]], list[Block]],
) -> Deliverer:
    async def deliver(payload: dict[str, Any]) -> None:
        try:
            await client.chat_postMessage(
                channel=str(payload["channel"]),
                text=fallback(payload),
                blocks=as_dicts(blocks(payload)),
            )
        except SlackApiError as exc:
            retry_after = exc.response.headers.get("Retry-After") if exc.response else None
            error = exc.response.get("error") if exc.response else None
            raise DeliveryDeferred(
                f"Slack refused the supervisors' post: {error or exc}",
                retry_after=float(retry_after) if retry_after else None,
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryDeferred(f"Slack unreachable: {type(exc).__name__}") from exc

    return deliver
