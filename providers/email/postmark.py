"""Postmark: `POST /email` with `X-Postmark-Server-Token`, failures carrying an `ErrorCode`; and
the Delivery and Bounce webhooks that report what became of each message."""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any, NoReturn

import httpx

from providers.email import EmailMessage, EmailReceipt
from providers.errors import InvalidRecipient, OptedOut, PermanentDeliveryError, ProviderAuthError
from providers.http import HttpVendor, json_object_or_empty
from providers.reports import (
    REFERENCE_KEY,
    DeliveryState,
    DeliveryStatus,
    MalformedDeliveryStatus,
    report_id,
    report_reference,
    report_text,
)

PROVIDER = "postmark"
LABEL = "Postmark"
URL_SETTING = "POSTMARK_API_URL"
_VENDOR = HttpVendor(provider=PROVIDER, label=LABEL, url_setting=URL_SETTING, item="email")
_TOKEN_HINT = "check POSTMARK_SERVER_TOKEN (a Server API token, not the Account token)"

# postmarkapp.com/developer/api/overview#error-codes
_BAD_TOKEN = 10
_INVALID_REQUEST = 300
_SENDER_SIGNATURE = {400, 401}
_INACTIVE_RECIPIENT = 406
_ACCOUNT_PENDING = 412
_RATE_LIMIT = 429


class PostmarkEmail:
    """Sends one email per call; never retries (retrying belongs to one layer, above this)."""

    name = PROVIDER

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        server_token: str,
        sender: str,
        sender_name: str | None = None,
        message_stream: str = "outbound",
        api_url: str = "https://api.postmarkapp.com/",
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._headers = {"X-Postmark-Server-Token": server_token, "Accept": "application/json"}
        # Address() validates the sender and quotes a display name that needs it.
        self._from = str(Address(display_name=sender_name or "", addr_spec=sender))
        self._message_stream = message_stream
        self._timeout = timeout
        base = api_url.rstrip("/")
        self._email_url = f"{base}/email"
        self._server_url = f"{base}/server"

    async def send(self, message: EmailMessage) -> EmailReceipt:
        if any(ch in message.subject or ch in message.to for ch in "\r\n"):
            raise PermanentDeliveryError(
                "The email could not be built: the address or subject contains a line break.",
                provider=PROVIDER,
            )
        payload: dict[str, Any] = {
            "From": self._from,
            "To": message.to,
            "Subject": message.subject,
            "TextBody": message.text_body,
            "MessageStream": self._message_stream,
            # Comes back in the Delivery and Bounce webhooks of this message.
            "Metadata": {REFERENCE_KEY: message.idempotency_key},
            "TrackOpens": False,
            "TrackLinks": "None",
        }
        if message.html_body is not None:
            payload["HtmlBody"] = message.html_body
        try:
            response = await self._client.post(
                self._email_url, json=payload, headers=self._headers, timeout=self._timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            _VENDOR.raise_transport_error(exc, sending=True)
        code, _ = _error_code(response)
        if response.status_code != 200 or code not in (0, None):
            _raise_for_error(response, sending=True)
        try:
            message_id = response.json()["MessageID"]
            if not isinstance(message_id, str) or not message_id:
                raise TypeError("MessageID must be a non-empty string")
        except (ValueError, KeyError, TypeError) as exc:
            raise _VENDOR.unreadable_acceptance() from exc
        return EmailReceipt(provider=PROVIDER, message_id=message_id, status="sent")

    async def check_credentials(self) -> None:
        """Fetch the server the token belongs to (sends nothing)."""
        try:
            response = await self._client.get(
                self._server_url, headers=self._headers, timeout=self._timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            _VENDOR.raise_transport_error(exc, sending=False)
        if response.status_code != 200:
            _raise_for_error(response, sending=False)


def _raise_for_error(response: httpx.Response, *, sending: bool) -> NoReturn:
    status = response.status_code
    code, text = _error_code(response)
    vendor_code = str(code) if code is not None else f"HTTP {status}"
    label = f"error {code}" if code is not None else f"HTTP {status}"
    if code == _INACTIVE_RECIPIENT:
        raise OptedOut(
            "The address is marked inactive at Postmark (bounced or unsubscribed), error 406 — "
            "use SMS instead; an admin can reactivate it in Postmark's suppressions.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    # Postmark says 401 for a bad token and never uses 403, so a 403 is just a refusal.
    error = _VENDOR.status_error(
        response,
        sending=sending,
        answer="429" if code == _RATE_LIMIT or status == 429 else f"HTTP {status}",
        vendor_code=vendor_code,
        refused_credentials=f"Postmark refused the server token ({label}): {_TOKEN_HINT}.",
        auth_statuses=(401,),
        says_refused=code == _BAD_TOKEN,
        says_rate_limited=code == _RATE_LIMIT,
    )
    if error is not None:
        raise error
    if code == _INVALID_REQUEST and "'from'" in text.lower():
        raise PermanentDeliveryError(
            "Postmark refused the sender address as invalid (300): check EMAIL_FROM.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if code == _INVALID_REQUEST and ("'to'" in text.lower() or "recipient" in text.lower()):
        raise InvalidRecipient(
            "Postmark rejected the email address as invalid (300) — check the contact's email "
            "or use SMS.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if code in _SENDER_SIGNATURE:
        raise ProviderAuthError(
            f"Postmark has no confirmed Sender Signature for EMAIL_FROM ({label}): confirm the "
            "address or its domain in Postmark.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if code == _ACCOUNT_PENDING:
        raise PermanentDeliveryError(
            "The Postmark account is pending approval (412): until Postmark approves it, it "
            "only sends to addresses on the sender's own domain.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if status == 413:
        raise PermanentDeliveryError(
            "Postmark refused the email as too large (413).",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    raise PermanentDeliveryError(
        f"Postmark refused the email ({label}). See "
        "https://postmarkapp.com/developer/api/overview#error-codes.",
        provider=PROVIDER,
        vendor_code=vendor_code,
    )


def _error_code(response: httpx.Response) -> tuple[int | None, str]:
    # Proxies and outages answer with HTML or nothing, so the JSON body is optional. The
    # message text is only matched against, never shown: it quotes addresses.
    payload = json_object_or_empty(response)
    code = payload.get("ErrorCode")
    text = payload.get("Message")
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        text if isinstance(text, str) else "",
    )


# --- Delivery and Bounce webhooks ------------------------------------------------------------

# Bounce types that are not a failure to deliver our message.
_NOT_FAILURES = frozenset({"AutoResponder", "Subscribe", "OpenRelayTest"})


def parse_postmark_webhook(payload: Any) -> DeliveryStatus | None:
    """One Postmark webhook (JSON object); None for opens, clicks and other record types."""
    if not isinstance(payload, dict):
        raise MalformedDeliveryStatus("a Postmark webhook body is a JSON object")
    record_type = payload.get("RecordType")
    message_id = report_id(payload.get("MessageID"), vendor=LABEL)
    if not isinstance(record_type, str) or message_id is None:
        raise MalformedDeliveryStatus("a Postmark webhook needs RecordType and MessageID")
    metadata = payload.get("Metadata")
    reference = (
        report_reference(metadata.get(REFERENCE_KEY)) if isinstance(metadata, dict) else None
    )
    if record_type == "Delivery":
        return DeliveryStatus(
            PROVIDER,
            message_id,
            DeliveryState.DELIVERED,
            None,
            None,
            reference,
            _iso(payload.get("DeliveredAt")),
        )
    if record_type == "Bounce":
        bounce_type = report_text(payload.get("Type"), max_length=32)
        if bounce_type in _NOT_FAILURES:
            return None
        reason = (
            report_text(payload.get("Description"))
            or report_text(payload.get("Name"))
            or "it bounced"
        )
        if payload.get("Inactive") is True:
            reason = f"{reason} (Postmark now marks the address inactive)"
        return DeliveryStatus(
            PROVIDER,
            message_id,
            DeliveryState.UNDELIVERED,
            reason,
            bounce_type,
            reference,
            _iso(payload.get("BouncedAt")),
        )
    return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    # Postmark writes seven fractional digits ("…54.9070259Z"); Python reads at most six.
    text = value.replace("Z", "+00:00")
    head, dot, tail = text.partition(".")
    if dot:
        digits = "".join(ch for ch in tail if ch.isdigit())
        text = f"{head}.{digits[:6]}{tail[len(digits) :]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
