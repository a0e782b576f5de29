"""Vendors' delivery-report routes: where each posts, and how one of its requests is proven and
read. The registry (`bot.runtime.vendors`) gives each vendor its `ReportRoute`.

How reports are authenticated (nothing is applied before this passes):
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
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from bot.delivery import ReportRefused, ReportRequest
from bot.settings import Settings
from commands.inbound.json_bounds import UnreadableJson, load_json
from providers.email.postmark import parse_postmark_webhook
from providers.email.sendgrid import parse_sendgrid_events
from providers.reports import DeliveryStatus, MalformedDeliveryStatus
from providers.sms.twilio import parse_twilio_status, valid_twilio_signature
from providers.sms.vonage import parse_vonage_receipt

log = logging.getLogger(__name__)
# Postmark's webhook URL carries the token as this user's basic-auth password.
POSTMARK_USER = "pinverify"
# Twilio and Vonage post a few dozen fields; more is not a report.
MAX_FORM_FIELDS = 200


@dataclass(frozen=True)
class ReportKeys:
    """What a report route checks a request against; `token` is None while the vendor is not
    configured on this server, which turns its route off."""

    settings: Settings
    token: str | None
    public_url: str | None


@dataclass(frozen=True)
class ReportRoute:
    """Where a vendor posts delivery reports, and how one of its requests is proven and read."""

    path: str  # "{token}" stands for the vendor's webhook token
    methods: tuple[str, ...]
    read: Callable[[ReportKeys, ReportRequest], Awaitable[list[DeliveryStatus]]]
    # What an operator does about it at the vendor (`pinverify providers webhooks`).
    setup: str = "set this in the vendor's webhook settings"
    # The token travels as this user's basic-auth password instead of in the path.
    basic_auth_user: str | None = None

    def url(self, public_url: str, token: str) -> str:
        base = public_url.rstrip("/")
        if self.basic_auth_user is not None:
            scheme, rest = base.split("://", 1)
            base = f"{scheme}://{self.basic_auth_user}:{token}@{rest}"
        return base + self.path.format(token=token)


def webhook_token(secret_key: bytes, vendor: str) -> str:
    """The secret a vendor's webhook URL (or Postmark's basic-auth password) carries.

    Derived from PINVERIFY_SECRET_KEY per vendor, so there is nothing more to configure and a
    token leaked from one vendor's dashboard opens no other vendor's route.
    """
    digest = hmac.new(secret_key, f"pinverify-webhook:{vendor}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


async def twilio_status(keys: ReportKeys, request: ReportRequest) -> list[DeliveryStatus]:
    """A Twilio status callback: a form POST signed for the URL we gave with the SMS."""
    auth_token = keys.settings.twilio_auth_token
    if keys.token is None or auth_token is None or keys.public_url is None:
        raise ReportRefused(404)
    form = _form(await request.body())
    # Twilio signs the URL it was given (our public one), not what a proxy forwarded.
    url = keys.public_url.rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string
    signature = request.headers.get("x-twilio-signature")
    if not valid_twilio_signature(auth_token.get_secret_value(), url, form, signature):
        log.warning("refused a Twilio status callback with a bad signature")
        raise ReportRefused(403)
    return _one(parse_twilio_status(dict(form)))


async def vonage_receipt(keys: ReportKeys, request: ReportRequest) -> list[DeliveryStatus]:
    """A Vonage delivery receipt: a GET with a query string, or a form or JSON POST."""
    _require_path_token(keys, request)
    params: dict[str, Any] = dict(request.query)
    # A GET carries the whole receipt in its query string.
    body = await request.body() if request.method == "POST" else b""
    if body:
        params.update(_form_or_json(body, request.headers.get("content-type", "")))
    texts = {k: str(v) for k, v in params.items() if isinstance(v, str | int)}
    return _one(parse_vonage_receipt(texts))


async def sendgrid_events(keys: ReportKeys, request: ReportRequest) -> list[DeliveryStatus]:
    """A batch of SendGrid Event Webhook events (a JSON array)."""
    _require_path_token(keys, request)
    return parse_sendgrid_events(_json(await request.body()))


async def postmark_webhook(keys: ReportKeys, request: ReportRequest) -> list[DeliveryStatus]:
    """One Postmark Delivery or Bounce webhook (a JSON object), behind basic auth."""
    authorization = request.headers.get("authorization")
    if keys.token is None or not _basic_auth_matches(authorization, POSTMARK_USER, keys.token):
        raise ReportRefused(403)
    return _one(parse_postmark_webhook(_json(await request.body())))


def _require_path_token(keys: ReportKeys, request: ReportRequest) -> None:
    given, expected = request.path_params.get("token"), keys.token
    # As bytes: compare_digest refuses str with anything beyond ASCII.
    if (
        expected is None
        or given is None
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        raise ReportRefused(403)


def _basic_auth_matches(header: str | None, user: str, password: str) -> bool:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(decoded, f"{user}:{password}".encode())


def _json(body: bytes) -> Any:
    try:
        return load_json(body)
    except UnreadableJson as exc:
        raise MalformedDeliveryStatus(str(exc)) from exc


def _form_or_json(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.split(";")[0].strip() == "application/json":
        payload = _json(body)
        if not isinstance(payload, dict):
            raise MalformedDeliveryStatus("a Vonage receipt is a JSON object")
        return payload
    return dict(_form(body))


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedDeliveryStatus("the body is not UTF-8") from exc
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError as exc:
        raise MalformedDeliveryStatus("the form has too many fields") from exc


def _one(status: DeliveryStatus | None) -> list[DeliveryStatus]:
    return [status] if status is not None else []
