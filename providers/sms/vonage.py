"""Vonage (Nexmo) SMS API: `POST /sms/json`, which answers HTTP 200 even when it refuses, and
the delivery receipts Vonage sends to the `callback` URL given with each message."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx

from providers.errors import (
    DeliveryError,
    InvalidRecipient,
    OptedOut,
    PermanentDeliveryError,
    ProviderAuthError,
    RateLimited,
    TransientDeliveryError,
)
from providers.http import HttpVendor
from providers.reports import (
    DeliveryState,
    DeliveryStatus,
    MalformedDeliveryStatus,
    report_id,
    report_reference,
    report_text,
)
from providers.sms import SmsMessage, SmsReceipt
from providers.sms.segments import is_gsm7

PROVIDER = "vonage"
LABEL = "Vonage"
URL_SETTING = "VONAGE_API_URL"
_VENDOR = HttpVendor(provider=PROVIDER, label=LABEL, url_setting=URL_SETTING, item="SMS")
_CREDENTIALS_HINT = "check VONAGE_API_KEY and VONAGE_API_SECRET"
# Vonage documents `client-ref` as at most 100 characters; a longer key would be cut and
# then match nothing, so it is left out instead.
_MAX_CLIENT_REF = 100
# Throttled (status 1) carries no Retry-After; Vonage's default throughput is 30 SMS/s, so a
# second is a safe first wait.
_THROTTLE_WAIT = 1.0

# developer.vonage.com/en/api-errors/sms. The agent-facing text is ours, chosen by status:
# `error-text` is free text and may quote the destination.
_RECIPIENT = {
    "3": "Vonage rejected the number as invalid (status 3).",
    "6": "Vonage cannot route an SMS to this number (status 6) — use email instead.",
    "33": "Vonage reports the number as deactivated (status 33) — use email instead.",
}
_AUTH = {
    "4": f"Vonage refused the API key and secret (status 4): {_CREDENTIALS_HINT}.",
    "8": "The Vonage account is barred (status 8): contact Vonage support.",
    "11": "The Vonage account is not enabled for the SMS HTTP API (status 11).",
    "14": "Vonage expects signed requests for this account (status 14): turn signing off "
    "for the API key or use another key.",
    "32": "Vonage refuses the API secret for this account (status 32): the account only "
    "accepts signed requests.",
}
_PERMANENT = {
    "2": "Vonage says a required parameter is missing (status 2): check VONAGE_FROM.",
    "9": "The Vonage account has run out of credit or exceeded its quota (status 9): top it "
    "up in the Vonage dashboard, or use email meanwhile.",
    "12": "Vonage refused the SMS as too long (status 12): shorten the SMS template.",
    "15": "Vonage refused the sender (status 15): check VONAGE_FROM is a number or sender ID "
    "allowed for this destination.",
    "22": "Vonage could not use the network code for this number (status 22).",
    "23": "Vonage refused the delivery-receipt URL (status 23): check PINVERIFY_PUBLIC_URL.",
    "29": "The Vonage account is in demo mode and this number is not on its test list (status 29).",
}
_THROTTLED = {"1", "10"}


class VonageSms:
    """Sends one SMS per call; never retries (retrying belongs to one layer, above this)."""

    name = PROVIDER

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        api_secret: str,
        from_: str,
        api_url: str = "https://rest.nexmo.com/",
        status_callback_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._api_key = api_key
        self._api_secret = api_secret
        # A number goes without its "+"; an alphanumeric sender ID as it is.
        self._from = from_.removeprefix("+") if from_.lstrip("+").isdigit() else from_
        self._status_callback_url = status_callback_url
        self._timeout = timeout
        base = api_url.rstrip("/")
        self._sms_url = f"{base}/sms/json"
        self._balance_url = f"{base}/account/get-balance"

    async def send(self, message: SmsMessage) -> SmsReceipt:
        # The SMS API takes no idempotency key: a repeated click must be stopped before this
        # call; `client-ref` only lets delivery receipts be matched to the send.
        form = {
            "api_key": self._api_key,
            "api_secret": self._api_secret,
            "from": self._from,
            "to": message.to.removeprefix("+"),
            "text": message.body,
        }
        if not is_gsm7(message.body):
            # Without it Vonage sends the text as GSM-7 and the caller sees "?" for each
            # character outside it.
            form["type"] = "unicode"
        if len(message.idempotency_key) <= _MAX_CLIENT_REF:
            form["client-ref"] = message.idempotency_key
        if self._status_callback_url is not None:
            form["callback"] = self._status_callback_url
        try:
            response = await self._client.post(self._sms_url, data=form, timeout=self._timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            _VENDOR.raise_transport_error(exc, sending=True)
        if response.status_code != 200:
            _raise_for_http_status(response, sending=True)
        parts = _parts(response)
        for part in parts:
            status = part.get("status")
            if status != "0":
                raise _error_for_status(str(status))
        message_id = parts[0].get("message-id")
        if not isinstance(message_id, str) or not message_id:
            raise _VENDOR.unreadable_acceptance()
        return SmsReceipt(provider=PROVIDER, message_id=message_id, status="accepted")

    async def check_credentials(self) -> None:
        """Read the account balance (sends nothing): bad credentials, a barred account or an
        empty balance each raise with what to fix."""
        try:
            response = await self._client.get(
                self._balance_url,
                # Basic auth, not the documented query parameters: httpx logs request URLs.
                auth=httpx.BasicAuth(self._api_key, self._api_secret),
                timeout=self._timeout,
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            _VENDOR.raise_transport_error(exc, sending=False)
        if response.status_code != 200:
            _raise_for_http_status(response, sending=False)
        try:
            payload: Any = response.json()
            balance = float(payload["value"])
            auto_reload = payload.get("autoReload") is True
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentDeliveryError(
                f"Vonage answered the balance check with something unexpected: check "
                f"{URL_SETTING}.",
                provider=PROVIDER,
            ) from exc
        if balance <= 0 and not auto_reload:
            raise PermanentDeliveryError(
                "The Vonage credentials work but the account balance is empty: top it up "
                "before sending SMS.",
                provider=PROVIDER,
                vendor_code="9",
            )


def _parts(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        payload: Any = response.json()
        parts = payload["messages"]
        if not (isinstance(parts, list) and parts and all(isinstance(p, dict) for p in parts)):
            raise TypeError("messages must be a non-empty list of objects")
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentDeliveryError(
            "Vonage answered the SMS request with something unexpected; it may have been "
            f"sent — ask the caller before resending, and check {URL_SETTING}.",
            provider=PROVIDER,
            outcome_unknown=True,
        ) from exc
    return parts


def _error_for_status(status: str) -> DeliveryError:
    if status in _THROTTLED:
        return RateLimited(
            f"Vonage is throttling this account (status {status}); the SMS was not sent. "
            "Try again in a moment.",
            provider=PROVIDER,
            vendor_code=status,
            retry_after=_THROTTLE_WAIT,
        )
    if status == "5":
        return TransientDeliveryError(
            "Vonage had an internal error (status 5); the SMS was not sent. Try again in a moment.",
            provider=PROVIDER,
            vendor_code=status,
        )
    if status == "7":
        return OptedOut(
            "The number is barred from receiving SMS from this account (Vonage status 7), "
            "usually because the caller opted out — use email instead.",
            provider=PROVIDER,
            vendor_code=status,
        )
    if status in _RECIPIENT:
        return InvalidRecipient(_RECIPIENT[status], provider=PROVIDER, vendor_code=status)
    if status in _AUTH:
        return ProviderAuthError(_AUTH[status], provider=PROVIDER, vendor_code=status)
    if status in _PERMANENT:
        return PermanentDeliveryError(_PERMANENT[status], provider=PROVIDER, vendor_code=status)
    return PermanentDeliveryError(
        f"Vonage refused the SMS (status {status}). See "
        "https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms.",
        provider=PROVIDER,
        vendor_code=status,
    )


def _raise_for_http_status(response: httpx.Response, *, sending: bool) -> NoReturn:
    status = response.status_code
    answer = f"HTTP {status}"
    error = _VENDOR.status_error(
        response,
        sending=sending,
        answer=answer,
        vendor_code=answer,
        refused_credentials=f"Vonage refused the credentials ({answer}): {_CREDENTIALS_HINT}.",
    )
    raise error or PermanentDeliveryError(
        f"Vonage refused the request ({answer}): check {URL_SETTING}.",
        provider=PROVIDER,
        vendor_code=answer,
    )


# --- delivery receipts ---------------------------------------------------------------------

_RECEIPT_STATES = {
    "accepted": DeliveryState.SENT,
    "buffered": DeliveryState.SENT,
    "unknown": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "expired": DeliveryState.UNDELIVERED,
    "failed": DeliveryState.UNDELIVERED,
    "rejected": DeliveryState.FAILED,
}
# developer.vonage.com/messaging/sms/guides/delivery-receipts, "DLR error codes".
VONAGE_DELIVERY_ERRORS: dict[str, str] = {
    "1": "the carrier gave no reason",
    "2": "the handset is unreachable for now (switched off or out of coverage)",
    "3": "the number is not in service",
    "4": "the recipient has barred incoming messages",
    "5": "the number was ported and could not be routed",
    "6": "the carrier rejected the message as spam",
    "7": "the handset was busy",
    "8": "a network error stopped it",
    "9": "the number is not valid",
    "10": "the carrier rejected the message content",
    "11": "the number cannot be routed",
    "12": "the destination is unreachable",
    "13": "the subscriber's age restriction blocked it",
    "14": "the carrier blocks this number",
    "15": "the prepaid recipient has insufficient funds",
    "16": "the gateway quota was exceeded",
    "50": "the carrier's entity filter blocked it (sender registration)",
    "51": "the carrier's header filter blocked the sender ID",
    "52": "the carrier's content filter blocked it",
    "53": "the carrier's consent filter blocked it",
    "54": "local regulations blocked it",
    "99": "the carrier reported a general error",
}


def parse_vonage_receipt(params: Mapping[str, str]) -> DeliveryStatus | None:
    """A Vonage SMS API delivery receipt (query string of a GET, or a form/JSON POST)."""
    message_id = report_id(params.get("messageId"), vendor=LABEL)
    status = (report_text(params.get("status"), max_length=32) or "").lower()
    if not message_id or not status:
        raise MalformedDeliveryStatus("a Vonage delivery receipt needs messageId and status")
    state = _RECEIPT_STATES.get(status)
    if state is None:
        return None
    code = report_text(params.get("err-code"), max_length=32)
    reason = None
    if state is not DeliveryState.DELIVERED and code is not None and code != "0":
        reason = VONAGE_DELIVERY_ERRORS.get(code, f"Vonage error {code}")
    elif state is DeliveryState.SENT and status != "accepted":
        reason = {"buffered": "waiting at the carrier", "unknown": "the carrier has no status"}[
            status
        ]
    return DeliveryStatus(
        PROVIDER,
        message_id,
        state,
        reason,
        code if code != "0" else None,
        report_reference(params.get("client-ref")),
        _receipt_time(params.get("message-timestamp")),
    )


def _receipt_time(value: str | None) -> datetime | None:
    # "2020-01-01 12:00:00" (UTC), or ISO 8601 in the newer receipts.
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
