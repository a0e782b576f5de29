"""Posts from the outbox that are not supervision's (bot/supervision owns those): the
closed-verification post of rows written before the live message existed, and the shared
"post once or defer" call. Slack trouble defers, never drops, a post."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import Deliverer, DeliveryDeferred, SupervisorReport
from commands.blocks import as_dicts
from commands.posts.supervisor_views import supervisor_fallback_text, supervisor_post


def supervisor_deliverer(client: AsyncWebClient) -> Deliverer:
    """Rows of the old `supervisor_post` kind still pending after the upgrade to 0006."""

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
