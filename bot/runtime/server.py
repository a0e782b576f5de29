"""The ASGI app: Slack's endpoint, the health check, provider webhooks, the relay's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.outbox import OutboxRelay
from storage.db import Database

MAX_SLACK_BODY_BYTES = 1_000_000  # Slack's payloads are a few kB; refuse anything absurd
HEALTH_TIMEOUT_SECONDS = 2.0
NOT_CONFIGURED = (
    "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README)."
)


def create_server(
    *,
    db: Database,
    relay: OutboxRelay,
    slack_app: AsyncApp | None,
    run_relay: bool = True,
    webhooks: Sequence[Route] = (),
    extra_routes: Sequence[BaseRoute] = (),
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> Starlette:
    """`webhooks`: the providers' delivery-report routes (commands/webhooks/routes.py);
    `extra_routes`: the sandbox's, in sandbox mode only; `background`: loops that run beside
    the relay (the digest scheduler)."""
    handler = AsyncSlackRequestHandler(slack_app) if slack_app is not None else None

    async def slack_events(request: Request) -> Response:
        if handler is None:
            return JSONResponse({"ok": False, "error": NOT_CONFIGURED}, status_code=503)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_SLACK_BODY_BYTES):
            return JSONResponse({"ok": False, "error": "request too large"}, status_code=413)
        return await handler.handle(request)

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

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *webhooks,
            *extra_routes,
        ],
        lifespan=lifespan,
    )
