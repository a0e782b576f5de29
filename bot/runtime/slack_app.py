"""`create_app`: the only place the Bolt AsyncApp is built."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

import commands
from bot.deps import CONTEXT_KEY, Deps
from commands.parsing import PayloadError

log = logging.getLogger(__name__)


def create_app(deps: Deps, *, client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        # Listeners ack first and work after; waiting for them would race Slack's 3 seconds.
        process_before_response=False,
        logger=logging.getLogger("pinverify.slack"),
    )

    async def inject_deps(
        context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        context[CONTEXT_KEY] = deps
        return await next()

    app.middleware(inject_deps)
    commands.register(app)
    app.error(report_error)
    return app


async def report_error(error: Exception, body: dict[str, Any]) -> None:
    """Unexpected failures: log with a reference, tell the agent nothing was verified."""
    if isinstance(error, PayloadError):
        # Not a payload our own blocks produce: crafted or from a stale client. Say nothing.
        user = (body.get("user") or {}).get("id")
        log.warning("refused a malformed payload from %s: %s", user, error)
        return
    reference = uuid.uuid4().hex[:8]
    log.error("listener failed (ref %s)", reference, exc_info=error)
    response_url = body.get("response_url")
    if not response_url:
        return
    try:
        await AsyncWebhookClient(str(response_url)).send(
            text=f"Something went wrong on our side (ref {reference}). Your last action may "
            "not have finished: check the card before trying again.",
            response_type="ephemeral",
        )
    except Exception:  # noqa: BLE001 - already failing; the log line above has the detail
        log.warning("could not tell the agent about error %s", reference)
