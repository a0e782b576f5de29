"""Twilio Programmable Messaging (REST API 2010-04-01): sending an SMS, and reading the signed
status callbacks Twilio posts about it afterwards."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import NoReturn
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from providers.errors import InvalidRecipient, OptedOut, PermanentDeliveryError
from providers.http import HttpVendor, json_object_or_empty
from providers.reports import (
    DeliveryState,
    DeliveryStatus,
    MalformedDeliveryStatus,
    report_id,
    report_text,
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
    if code in _RECIPIENT_ERRORS:
        raise InvalidRecipient(_RECIPIENT_ERRORS[code], provider=PROVIDER, vendor_code=vendor_code)
    if code == _OPTED_OUT_CODE:
        raise OptedOut(
            "The number has opted out of SMS from this sender (Twilio 21610) — use email instead.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    error = _VENDOR.status_error(
        response,
        sending=sending,
        answer=label,
        vendor_code=vendor_code,
        refused_credentials=f"Twilio refused the credentials ({label}): {_CREDENTIALS_HINT}.",
        says_refused=code == _AUTH_CODE,
        says_rate_limited=code == _TOO_MANY_REQUESTS_CODE,
        trouble="an internal error",
    )
    if error is not None:
        raise error
    if code in _PERMANENT_ERRORS:
        raise PermanentDeliveryError(
            _PERMANENT_ERRORS[code], provider=PROVIDER, vendor_code=vendor_code
        )
    more = f" See https://www.twilio.com/docs/errors/{code}." if code is not None else ""
    raise PermanentDeliveryError(
        f"Twilio refused the SMS ({label}).{more}", provider=PROVIDER, vendor_code=vendor_code
    )


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


# --- status callbacks ----------------------------------------------------------------------

_STATES = {
    "accepted": DeliveryState.QUEUED,
    "scheduled": DeliveryState.QUEUED,
    "queued": DeliveryState.QUEUED,
    "sending": DeliveryState.SENT,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.DELIVERED,
    "undelivered": DeliveryState.UNDELIVERED,
    "failed": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
}
# twilio.com/docs/api/errors: the codes a messaging status callback carries most often.
TWILIO_DELIVERY_ERRORS: dict[str, str] = {
    "30001": "Twilio's queue for this sender overflowed",
    "30002": "the Twilio account is suspended",
    "30003": "the handset is unreachable (switched off or out of coverage)",
    "30004": "the message was blocked (the recipient or carrier blocks this sender)",
    "30005": "the number is unknown to the carrier or no longer in service",
    "30006": "the number is a landline or its carrier cannot receive SMS",
    "30007": "the carrier filtered the message as spam",
    "30008": "the carrier reported an unknown error",
    "30032": "the toll-free sender is not verified",
    "30034": "the sender is not registered for A2P 10DLC",
    "21610": "the recipient has opted out of SMS from this sender (replied STOP)",
}


def parse_twilio_status(form: Mapping[str, str]) -> DeliveryStatus | None:
    """A Twilio messaging status callback (form fields); None for statuses we do not track.

    Check where it came from (`valid_twilio_signature`) before parsing it.
    """
    sid = report_id(form.get("MessageSid") or form.get("SmsSid"), vendor="Twilio")
    status = (
        report_text(form.get("MessageStatus") or form.get("SmsStatus"), max_length=32) or ""
    ).lower()
    if not sid or not status:
        raise MalformedDeliveryStatus("a Twilio status callback needs MessageSid and MessageStatus")
    state = _STATES.get(status)
    if state is None:
        return None
    code = report_text(form.get("ErrorCode"), max_length=32)
    reason = None
    if code is not None:
        reason = TWILIO_DELIVERY_ERRORS.get(code, f"Twilio error {code}")
    return DeliveryStatus(
        PROVIDER, sid, state, reason, code, occurred_at=_dlr_done(form.get("RawDlrDoneDate"))
    )


def _dlr_done(value: str | None) -> datetime | None:
    # The carrier's YYMMDDhhmm (UTC) completion time, sent with delivered and undelivered.
    if not value:
        return None
    try:
        return datetime.strptime(value, "%y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def twilio_signature(
    auth_token: str, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]]
) -> str:
    """X-Twilio-Signature for a form POST: base64(HMAC-SHA1(token, url + sorted key+value))."""
    pairs = params.items() if isinstance(params, Mapping) else params
    payload = url + "".join(key + value for key, value in sorted(pairs))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_twilio_signature(
    auth_token: str,
    url: str,
    params: Mapping[str, str] | Iterable[tuple[str, str]],
    signature: str | None,
) -> bool:
    """Whether `signature` is Twilio's for this public URL and form, in constant time.

    Twilio signs the URL as it requested it, which may or may not spell out the default port,
    so both spellings are accepted (as Twilio's own helper libraries do).
    """
    if not signature:
        return False
    pairs = list(params.items() if isinstance(params, Mapping) else params)
    given = signature.encode()
    matched = False
    for candidate in _url_spellings(url):
        expected = twilio_signature(auth_token, candidate, pairs).encode()
        # No early exit: every spelling is compared so timing says nothing about which.
        matched |= hmac.compare_digest(expected, given)
    return matched


def _url_spellings(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or parts.hostname is None:
        return [url]
    host = parts.netloc.rpartition("@")[2]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    bare = host.removesuffix(f":{default}")
    spellings = [url]
    if parts.port is None:
        spellings.append(urlunsplit(parts._replace(netloc=f"{userinfo}{host}:{default}")))
    elif parts.port == default:
        spellings.append(urlunsplit(parts._replace(netloc=f"{userinfo}{bare}")))
    return spellings
