"""The ASGI app: Slack's endpoint, the health check, provider webhooks, the relay's lifetime.

A request to /slack/events is proven before anything reads it: body size (cut off at 1 MB),
then Slack's signature and timestamp on the raw bytes (slack_sdk's SignatureVerifier), then
the edge's gate (`commands.inbound.slack_request`: UTF-8, JSON depth, no NUL, the payload's
shape). Only then does Bolt parse and route it, so nothing unsigned or malformed reaches a
listener, and a malformed signed request gets a quiet, specific refusal instead of a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.outbox import OutboxRelay
from commands.inbound.http_body import BodyTooLarge, read_body_at_most, replayed
from commands.inbound.refusals import tell_ephemeral
from commands.inbound.slack_request import SlackRequestRefused, read_slack_body
from storage.db import Database

log = logging.getLogger(__name__)

MAX_SLACK_BODY_BYTES = 1_000_000  # Slack's payloads are a few kB; refuse anything absurd
HEALTH_TIMEOUT_SECONDS = 2.0
NOT_CONFIGURED = (
    "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README)."
)
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def create_server(
    *,
    db: Database,
    relay: OutboxRelay,
    slack_app: AsyncApp | None,
    signing_secret: str | None = None,
    run_relay: bool = True,
    webhooks: Sequence[Route] = (),
    extra_routes: Sequence[BaseRoute] = (),
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> Starlette:
    """`webhooks`: the providers' delivery-report routes (commands/webhooks/routes.py);
    `extra_routes`: the sandbox's, in sandbox mode only; `background`: loops that run beside
    the relay (the digest scheduler)."""
    handler = AsyncSlackRequestHandler(slack_app) if slack_app is not None else None
    verifier = SignatureVerifier(signing_secret) if signing_secret else None
    # Ephemeral refusals are posted after the answer; kept here so none is collected mid-way.
    telling: set[asyncio.Task[None]] = set()

    async def slack_events(request: Request) -> Response:
        if handler is None or verifier is None:
            return JSONResponse({"ok": False, "error": NOT_CONFIGURED}, status_code=503)
        try:
            raw = await read_body_at_most(request, MAX_SLACK_BODY_BYTES)
        except BodyTooLarge:
            return JSONResponse({"ok": False, "error": "request too large"}, status_code=413)
        try:
            raw.decode("utf-8")  # the verifier decodes it, and Slack only sends UTF-8
        except UnicodeDecodeError:
            return JSONResponse({"ok": False, "error": "the body is not UTF-8"}, status_code=400)
        timestamp = request.headers.get("x-slack-request-timestamp") or ""
        signature = request.headers.get("x-slack-signature")
        if not _TIMESTAMP.match(timestamp) or not verifier.is_valid(raw, timestamp, signature):
            return JSONResponse({"ok": False, "error": "invalid request"}, status_code=401)
        try:
            read_slack_body(raw, request.headers.get("content-type"))
        except SlackRequestRefused as refused:
            log.warning("refused a signed Slack request: %s", refused.reason)
            answer = refused.refusal
            if answer.ephemeral_url is not None:
                task = asyncio.create_task(tell_ephemeral(answer.ephemeral_url, answer.text))
                telling.add(task)
                task.add_done_callback(telling.discard)
            if answer.body is None:
                return Response(status_code=answer.status)
            return JSONResponse(answer.body, status_code=answer.status)
        return await handler.handle(replayed(request, raw))

    async def healthz(_request: Request) -> Response:
        try:
            healthy = await asyncio.wait_for(db.ping(), timeout=HEALTH_TIMEOUT_SECONDS)
        except TimeoutError:
            healthy = False
        if healthy:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        tasks = (
            [asyncio.create_task(relay.run_forever())]
            + [asyncio.create_task(loop()) for loop in background]
            if run_relay
            else []
        )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for told in list(telling):
                told.cancel()

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *webhooks,
            *extra_routes,
        ],
        lifespan=lifespan,
    )
