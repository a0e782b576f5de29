"""Delivers "a ticket note keeps failing" messages (to the agent's DM and the supervisors)."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox.relay import Deliverer, DeliveryDeferred
from commands.card.ticket_views import note_failing_text


def note_failing_deliverer(client: AsyncWebClient) -> Deliverer:
    async def deliver(payload: dict[str, Any]) -> None:
        text = note_failing_text(payload)
        try:
            # A user id as channel lands in the app's DM with them (chat:write only).
            await client.chat_postMessage(channel=str(payload["channel"]), text=text)
        except SlackApiError as exc:
            retry_after = exc.response.headers.get("Retry-After") if exc.response else None
            error = exc.response.get("error") if exc.response else None
            raise DeliveryDeferred(
                f"Slack refused the note-failing notice: {error or exc}",
                retry_after=float(retry_after) if retry_after else None,
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryDeferred(f"Slack unreachable: {type(exc).__name__}") from exc

    return deliver
