"""Providers' delivery reports over HTTP: verify the sender, apply the report, redraw the card.

How each vendor is authenticated (nothing is applied before this passes):
- Twilio: the X-Twilio-Signature header (HMAC-SHA1 of the public URL and the form, keyed with
  TWILIO_AUTH_TOKEN); a bad or missing signature gets 403.
- Vonage: a secret token in the receipt URL, which PIN Verify sends with every message as its
  `callback`; derived from PINVERIFY_SECRET_KEY. A wrong token gets 403.
- SendGrid: a secret token in the Event Webhook URL (set once in SendGrid's settings).
- Postmark: HTTP basic auth in the webhook URL (user `pinverify`, password the derived token).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.delivery.reports import (
    POSTMARK_WEBHOOK_PATH,
    POSTMARK_WEBHOOK_USER,
    SENDGRID_EVENTS_PATH,
    TWILIO_STATUS_PATH,
    VONAGE_RECEIPT_PATH,
    AppliedStatus,
    DeliveryTracker,
)
from bot.deps import Deps
from commands.card.listeners import redraw_card
from providers.email.postmark import parse_postmark_webhook
from providers.email.sendgrid import parse_sendgrid_events
from providers.reports import DeliveryStatus, MalformedDeliveryStatus
from providers.sms.twilio import parse_twilio_status, valid_twilio_signature
from providers.sms.vonage import parse_vonage_receipt

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class WebhookSecrets:
    """What proves a report comes from the vendor; None turns that vendor's route off."""

    public_url: str | None = None
    twilio_auth_token: str | None = None
    vonage_token: str | None = None
    sendgrid_token: str | None = None
    postmark_password: str | None = None


def webhook_routes(
    deps: Deps,
    tracker: DeliveryTracker,
    client: AsyncWebClient | None,
    secrets: WebhookSecrets,
) -> list[Route]:
    async def apply(statuses: list[DeliveryStatus]) -> Response:
        for status in statuses:
            applied = await tracker.apply(status)
            if applied is not None and client is not None:
                await _redraw(deps, client, applied)
        return JSONResponse({"ok": True})

    async def twilio_status(request: Request) -> Response:
        if secrets.twilio_auth_token is None or secrets.public_url is None:
            return _refused(404)
        body = await _body(request)
        if body is None:
            return _refused(413)
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        # Twilio signs the URL it was given (our public one), not what a proxy forwarded.
        url = secrets.public_url.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        signature = request.headers.get("x-twilio-signature")
        if not valid_twilio_signature(secrets.twilio_auth_token, url, form, signature):
            log.warning("refused a Twilio status callback with a bad signature")
            return _refused(403)
        return await _parsed(apply, lambda: _one(parse_twilio_status(dict(form))))

    async def vonage_receipt(request: Request) -> Response:
        if not _token_matches(request.path_params.get("token"), secrets.vonage_token):
            return _refused(403)
        params: dict[str, Any] = dict(request.query_params)
        body = b""
        if request.method == "POST":
            read = await _body(request)
            if read is None:
                return _refused(413)
            body = read
        content_type = request.headers.get("content-type", "")

        def parse() -> list[DeliveryStatus]:
            # Inside _parsed: a malformed body is the sender's fault (400), never a 500.
            if body:
                params.update(_form_or_json(body, content_type))
            texts = {k: str(v) for k, v in params.items() if isinstance(v, str | int)}
            return _one(parse_vonage_receipt(texts))

        return await _parsed(apply, parse)

    async def sendgrid_events(request: Request) -> Response:
        if not _token_matches(request.path_params.get("token"), secrets.sendgrid_token):
            return _refused(403)
        body = await _body(request)
        if body is None:
            return _refused(413)
        return await _parsed(apply, lambda: parse_sendgrid_events(_json(body)))

    async def postmark_webhook(request: Request) -> Response:
        if secrets.postmark_password is None or not _basic_auth_matches(
            request.headers.get("authorization"), secrets.postmark_password
        ):
            return _refused(403)
        body = await _body(request)
        if body is None:
            return _refused(413)
        return await _parsed(apply, lambda: _one(parse_postmark_webhook(_json(body))))

    return [
        Route(TWILIO_STATUS_PATH, twilio_status, methods=["POST"]),
        Route(VONAGE_RECEIPT_PATH, vonage_receipt, methods=["GET", "POST"]),
        Route(SENDGRID_EVENTS_PATH, sendgrid_events, methods=["POST"]),
        Route(POSTMARK_WEBHOOK_PATH, postmark_webhook, methods=["POST"]),
    ]


async def _parsed(
    apply: Callable[[list[DeliveryStatus]], Awaitable[Response]],
    parse: Callable[[], list[DeliveryStatus]],
) -> Response:
    try:
        statuses = parse()
    except MalformedDeliveryStatus as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, status_code=400)
    return await apply(statuses)


async def _redraw(deps: Deps, client: AsyncWebClient, applied: AppliedStatus) -> None:
    # The card lock keeps a report from redrawing over an agent's click in flight.
    async with deps.card_locks.hold(applied.verification_id):
        snapshot = await deps.verifications.snapshot(applied.verification_id)
        latest = snapshot.latest_send
        if snapshot.closed or latest is None or latest.seq != applied.seq:
            return  # a report about an older code changes nothing the agent acts on
        await redraw_card(client, snapshot)


def _one(status: DeliveryStatus | None) -> list[DeliveryStatus]:
    return [status] if status is not None else []


def _refused(status: int) -> Response:
    return JSONResponse({"ok": False}, status_code=status)


async def _body(request: Request) -> bytes | None:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_WEBHOOK_BODY_BYTES):
        return None
    body = await request.body()
    return body if len(body) <= MAX_WEBHOOK_BODY_BYTES else None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise MalformedDeliveryStatus("the body is not JSON") from exc


def _form_or_json(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.split(";")[0].strip() == "application/json":
        payload = _json(body)
        if not isinstance(payload, dict):
            raise MalformedDeliveryStatus("a Vonage receipt is a JSON object")
        return payload
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _token_matches(given: object, expected: str | None) -> bool:
    if expected is None or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _basic_auth_matches(header: str | None, password: str) -> bool:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(decoded, f"{POSTMARK_WEBHOOK_USER}:{password}".encode())
