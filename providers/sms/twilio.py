"""Twilio Programmable Messaging (REST API 2010-04-01)."""

from __future__ import annotations

from typing import NoReturn
from urllib.parse import quote

import httpx

from providers.errors import (
    DeliveryError,
    InvalidRecipient,
    OptedOut,
    PermanentDeliveryError,
    ProviderAuthError,
    RateLimited,
)
from providers.http import (
    HttpVendor,
    json_object_or_empty,
    retry_after,
)
from providers.sms import SmsMessage, SmsReceipt

PROVIDER = "twilio"
_VENDOR = HttpVendor(provider=PROVIDER, label="Twilio", url_setting="TWILIO_API_URL", item="SMS")

_CREDENTIALS_HINT = "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"

# Twilio's `message` field often quotes the destination number, so agent-facing text is
# chosen by error code and never copied from the response.
_RECIPIENT_ERRORS: dict[int, str] = {
    21211: "Twilio rejected the number as not a valid phone number (error 21211).",
    21614: "Twilio rejected the number as not a valid mobile number (error 21614).",
    21612: "Twilio cannot route an SMS to this number (error 21612) — use email instead.",
    21408: (
        "Twilio is not allowed to send SMS to this number's country (error 21408): "
        "enable it in Twilio's Geo Permissions or use email."
    ),
}
_PERMANENT_ERRORS: dict[int, str] = {
    21606: (
        "Twilio cannot send SMS from the configured sender (error 21606): check TWILIO_FROM_NUMBER."
    ),
    21608: ("The Twilio account is a trial and this number is not verified on it (error 21608)."),
}
_AUTH_CODE = 20003
_OPTED_OUT_CODE = 21610
_TOO_MANY_REQUESTS_CODE = 20429


class TwilioSms:
    """Sends one SMS per call; never retries (retrying belongs to one layer, above this)."""

    name = PROVIDER

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_url: str = "https://api.twilio.com/",
        status_callback_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._from_number = from_number
        self._status_callback_url = status_callback_url
        self._timeout = timeout
        account = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid, safe='')}"
        self._account_url = f"{account}.json"
        self._messages_url = f"{account}/Messages.json"

    async def send(self, message: SmsMessage) -> SmsReceipt:
        # The Messages API takes no idempotency key: a repeated click must be stopped
        # before this call (the domain's unique send row), not by Twilio.
        form = {"To": message.to, "From": self._from_number, "Body": message.body}
        if self._status_callback_url is not None:
            form["StatusCallback"] = self._status_callback_url
        try:
            response = await self._client.post(
                self._messages_url, data=form, auth=self._auth, timeout=self._timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            _VENDOR.raise_transport_error(exc, sending=True)
        if response.status_code not in (200, 201):
            _raise_for_error(response, sending=True)
        try:
            payload = response.json()
            sid = payload["sid"]
            status = payload["status"]
            if not (isinstance(sid, str) and isinstance(status, str) and sid):
                raise TypeError("sid and status must be non-empty strings")
        except (ValueError, KeyError, TypeError) as exc:
            raise _VENDOR.unreadable_acceptance() from exc
        return SmsReceipt(provider=PROVIDER, message_id=sid, status=status)

    async def check_credentials(self) -> None:
        """Raise `ProviderAuthError` unless Twilio accepts the account SID and token."""
        try:
            response = await self._client.get(
                self._account_url, auth=self._auth, timeout=self._timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            _VENDOR.raise_transport_error(exc, sending=False)
        if response.status_code != 200:
            _raise_for_error(response, sending=False)


def _raise_for_error(response: httpx.Response, *, sending: bool) -> NoReturn:
    status = response.status_code
    code = _error_code(response)
    vendor_code = str(code) if code is not None else None
    label = f"error {code}" if code is not None else f"HTTP {status}"
    error: DeliveryError
    if code in _RECIPIENT_ERRORS:
        error = InvalidRecipient(
            _RECIPIENT_ERRORS[code], provider=PROVIDER, vendor_code=vendor_code
        )
    elif code == _OPTED_OUT_CODE:
        error = OptedOut(
            "The number has opted out of SMS from this sender (Twilio 21610) — use email instead.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    elif code == _AUTH_CODE or status in (401, 403):
        error = ProviderAuthError(
            f"Twilio refused the credentials ({label}): {_CREDENTIALS_HINT}.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    elif code == _TOO_MANY_REQUESTS_CODE or status == 429:
        error = RateLimited(
            f"Twilio is rate limiting this account ({label}); the SMS was not sent. "
            "Try again in a moment.",
            provider=PROVIDER,
            vendor_code=vendor_code,
            retry_after=retry_after(response),
        )
    elif status >= 500:
        error = _VENDOR.server_error(
            response,
            summary=f"Twilio had an internal error ({label})",
            sending=sending,
            vendor_code=vendor_code,
        )
    elif code in _PERMANENT_ERRORS:
        error = PermanentDeliveryError(
            _PERMANENT_ERRORS[code], provider=PROVIDER, vendor_code=vendor_code
        )
    else:
        more = f" See https://www.twilio.com/docs/errors/{code}." if code is not None else ""
        error = PermanentDeliveryError(
            f"Twilio refused the SMS ({label}).{more}", provider=PROVIDER, vendor_code=vendor_code
        )
    raise error


def _error_code(response: httpx.Response) -> int | None:
    # Proxies and outages answer with HTML or nothing, so the JSON body is optional.
    code = json_object_or_empty(response).get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.isdigit():
        return int(code)
    return None
