"""Providers' delivery reports over HTTP: hand the request to its vendor's endpoint, apply what
it reports, redraw the card.

Which vendors have a route, how each proves its requests and parses them is the runtime
registry's business (`bot.runtime.vendors`): this module only serves the endpoints it is given,
refusing what they refuse and keeping bodies to a sane size.

Bounded time per request, whatever the batch (SendGrid posts its events in batches of up to
thousands, most of them about mail PIN Verify did not send when the account is shared):
the reports are collapsed to one per message (the furthest state the batch reports, which
is what applying them in order would leave), those carrying our own reference (every
report about a code we sent carries it) go first, and at most `MAX_MESSAGES_PER_REQUEST`
messages are looked up; the rest are ignored with a warning. That is far beyond what one
batch can legitimately hold (the workspace budget allows 500 codes an hour), so nothing real
is dropped, and a forged or foreign-heavy batch costs a few hundred lookups at most. The
answer goes back before the cards are redrawn (a redraw is a Slack call per card).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.delivery import (
    AppliedStatus,
    DeliveryStatus,
    DeliveryTracker,
    ReportEndpoint,
    ReportRefused,
)
from bot.deps import Deps
from commands.card.listeners import redraw_card
from commands.inbound.http_body import BodyTooLarge, read_body_at_most

log = logging.getLogger(__name__)
MAX_WEBHOOK_BODY_BYTES = 1_000_000
MAX_MESSAGES_PER_REQUEST = 200


def webhook_routes(
    deps: Deps,
    tracker: DeliveryTracker,
    client: AsyncWebClient | None,
    endpoints: Sequence[ReportEndpoint],
) -> list[Route]:
    # Redraws run after the answer; held here so none is collected mid-way.
    redrawing: set[asyncio.Task[None]] = set()

    def route(endpoint: ReportEndpoint) -> Route:
        async def receive(request: Request) -> Response:
            try:
                statuses = await endpoint.receive(_Incoming(request))
            except ReportRefused as refused:
                answer: dict[str, Any] = {"ok": False}
                if refused.detail is not None:
                    answer["error"] = refused.detail
                return JSONResponse(answer, status_code=refused.status)
            chosen = one_per_message(statuses)
            if len(chosen) > MAX_MESSAGES_PER_REQUEST:
                log.warning(
                    "%s delivery reports: %d messages in one request, the %d beyond the "
                    "first %d ignored",
                    endpoint.vendor,
                    len(chosen),
                    len(chosen) - MAX_MESSAGES_PER_REQUEST,
                    MAX_MESSAGES_PER_REQUEST,
                )
                chosen = chosen[:MAX_MESSAGES_PER_REQUEST]
            changed: dict[str, AppliedStatus] = {}
            for status in chosen:
                applied = await tracker.apply(status)
                if applied is not None:
                    changed[applied.verification_id] = applied
            if client is not None and changed:
                task = asyncio.create_task(_redraw_all(deps, client, list(changed.values())))
                redrawing.add(task)
                task.add_done_callback(redrawing.discard)
            return JSONResponse({"ok": True})

        return Route(endpoint.path, receive, methods=list(endpoint.methods))

    return [route(endpoint) for endpoint in endpoints]


class _Incoming:
    """A Starlette request as `bot.delivery.reports.ReportRequest`."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self._body: bytes | None = None

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def query_string(self) -> str:
        return self._request.url.query

    @property
    def query(self) -> Mapping[str, str]:
        return self._request.query_params

    @property
    def headers(self) -> Mapping[str, str]:
        return self._request.headers

    @property
    def path_params(self) -> Mapping[str, str]:
        return {k: v for k, v in self._request.path_params.items() if isinstance(v, str)}

    async def body(self) -> bytes:
        if self._body is None:
            try:
                self._body = await read_body_at_most(self._request, MAX_WEBHOOK_BODY_BYTES)
            except BodyTooLarge:
                raise ReportRefused(413) from None
        return self._body


def one_per_message(statuses: Sequence[DeliveryStatus]) -> list[DeliveryStatus]:
    """One report per message: the one applying them all in order would leave (a later state
    replaces an earlier one; a final one is never undone); ours (with a reference) first."""
    latest: dict[tuple[str | None, str | None], DeliveryStatus] = {}
    for status in statuses:
        key = (status.message_id, status.reference)
        kept = latest.get(key)
        if kept is None or status.state.advances(kept.state):
            latest[key] = status
    return sorted(latest.values(), key=lambda status: status.reference is None)


async def _redraw_all(deps: Deps, client: AsyncWebClient, changed: list[AppliedStatus]) -> None:
    for applied in changed:
        try:
            await _redraw(deps, client, applied)
        except Exception:
            log.exception("could not redraw a card after a delivery report")


async def _redraw(deps: Deps, client: AsyncWebClient, applied: AppliedStatus) -> None:
    # The card lock keeps a report from redrawing over an agent's click in flight.
    async with deps.card_locks.hold(applied.verification_id):
        snapshot = await deps.verifications.snapshot(applied.verification_id)
        latest = snapshot.latest_send
        if snapshot.closed or latest is None or latest.seq != applied.seq:
            return  # a report about an older code changes nothing the agent acts on
        await redraw_card(client, snapshot)
