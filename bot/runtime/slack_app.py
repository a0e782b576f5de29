"""`create_app`: the only place the Bolt AsyncApp is built."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

import commands
from bot.deps import CONTEXT_KEY, Deps
from commands.inbound.refusals import refusal_for, response_url, tell_ephemeral
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


async def report_error(
    error: Exception, body: dict[str, Any], response: BoltResponse | None
) -> BoltResponse | None:
    """A payload the listener could not read gets a quiet, specific refusal; anything else is
    a bug: logged with a reference, and the agent is told nothing was verified."""
    if isinstance(error, PayloadError):
        # Listeners answer their own (commands.routing.refusing); one raised elsewhere (a
        # middleware) is refused the same way, as far as the state of the ack allows.
        log.warning("refused a malformed payload: %s", error)
        refusal = refusal_for(body, str(error))
        if refusal.ephemeral_url is not None:
            await tell_ephemeral(refusal.ephemeral_url, refusal.text)
        if response is None:
            return None
        return BoltResponse(status=refusal.status, body=refusal.body or "")
    reference = uuid.uuid4().hex[:8]
    log.error("listener failed (ref %s)", reference, exc_info=error)
    url = response_url(body)
    if url is None:
        return None
    await tell_ephemeral(
        url,
        f"Something went wrong on our side (ref {reference}). Your last action may "
        "not have finished: check the card before trying again.",
    )
    return None
