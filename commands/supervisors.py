"""Delivers supervisors' posts from the outbox; Slack trouble defers, never drops, a post."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import Deliverer, DeliveryDeferred
from commands.views import as_dicts, supervisor_fallback_text, supervisor_post


def supervisor_deliverer(client: AsyncWebClient) -> Deliverer:
    async def deliver(payload: dict[str, Any]) -> None:
        try:
            await client.chat_postMessage(
                channel=str(payload["channel"]),
                text=supervisor_fallback_text(payload),
                blocks=as_dicts(supervisor_post(payload)),
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
