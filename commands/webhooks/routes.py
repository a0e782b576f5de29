"""Providers' delivery reports over HTTP: hand the request to its vendor's endpoint, apply what
it reports, redraw the card.

Which vendors have a route, how each proves its requests and parses them is the runtime
registry's business (`bot.runtime.vendors`): this module only serves the endpoints it is given,
refusing what they refuse and keeping bodies to a sane size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.delivery import AppliedStatus, DeliveryTracker, ReportEndpoint, ReportRefused
from bot.deps import Deps
from commands.card.listeners import redraw_card

MAX_WEBHOOK_BODY_BYTES = 1_000_000


def webhook_routes(
    deps: Deps,
    tracker: DeliveryTracker,
    client: AsyncWebClient | None,
    endpoints: Sequence[ReportEndpoint],
) -> list[Route]:
    def route(endpoint: ReportEndpoint) -> Route:
        async def receive(request: Request) -> Response:
            try:
                statuses = await endpoint.receive(_Incoming(request))
            except ReportRefused as refused:
                answer: dict[str, Any] = {"ok": False}
                if refused.detail is not None:
                    answer["error"] = refused.detail
                return JSONResponse(answer, status_code=refused.status)
            for status in statuses:
                applied = await tracker.apply(status)
                if applied is not None and client is not None:
                    await _redraw(deps, client, applied)
            return JSONResponse({"ok": True})

        return Route(endpoint.path, receive, methods=list(endpoint.methods))

    return [route(endpoint) for endpoint in endpoints]


class _Incoming:
    """A Starlette request as `bot.delivery.reports.ReportRequest`."""

    def __init__(self, request: Request) -> None:
        self._request = request

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
        length = self._request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_WEBHOOK_BODY_BYTES):
            raise ReportRefused(413)
        body = await self._request.body()
        if len(body) > MAX_WEBHOOK_BODY_BYTES:
            raise ReportRefused(413)
        return body


async def _redraw(deps: Deps, client: AsyncWebClient, applied: AppliedStatus) -> None:
    # The card lock keeps a report from redrawing over an agent's click in flight.
    async with deps.card_locks.hold(applied.verification_id):
        snapshot = await deps.verifications.snapshot(applied.verification_id)
        latest = snapshot.latest_send
        if snapshot.closed or latest is None or latest.seq != applied.seq:
            return  # a report about an older code changes nothing the agent acts on
        await redraw_card(client, snapshot)
