"""SendGrid v3 Mail Send: `POST /v3/mail/send`, 202 with an empty body and `X-Message-Id`; and
the Event Webhook that reports what became of each message."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any, NoReturn

import httpx

from providers.email import EmailMessage, EmailReceipt
from providers.errors import InvalidRecipient, PermanentDeliveryError, ProviderAuthError
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

PROVIDER = "sendgrid"
LABEL = "SendGrid"
URL_SETTING = "SENDGRID_API_URL"
_VENDOR = HttpVendor(provider=PROVIDER, label=LABEL, url_setting=URL_SETTING, item="email")
_KEY_HINT = "check SENDGRID_API_KEY"
_MAIL_SEND_SCOPE = "mail.send"
# "personalizations.0.to", "personalizations.0.to.0.email": the recipient, not the rest.
_RECIPIENT_FIELD = re.compile(r"personalizations\.\d+\.(to|cc|bcc)(\.\d+(\.email)?)?")
# A code email must reach the caller as written: link rewriting and tracking pixels add
# nothing and make some filters suspicious.
_NO_TRACKING = {
    "click_tracking": {"enable": False, "enable_text": False},
    "open_tracking": {"enable": False},
    "subscription_tracking": {"enable": False},
}


class SendGridEmail:
    """Sends one email per call; never retries (retrying belongs to one layer, above this)."""

    name = PROVIDER

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        sender: str,
        sender_name: str | None = None,
        api_url: str = "https://api.sendgrid.com/",
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}"}
        # Address() validates the sender once, here, instead of on every send.
        self._from: dict[str, str] = {"email": Address(addr_spec=sender).addr_spec}
        if sender_name:
            self._from["name"] = sender_name
        self._timeout = timeout
        base = api_url.rstrip("/")
        self._send_url = f"{base}/v3/mail/send"
        self._scopes_url = f"{base}/v3/scopes"

    async def send(self, message: EmailMessage) -> EmailReceipt:
        _refuse_line_breaks(message)
        content = [{"type": "text/plain", "value": message.text_body}]
        if message.html_body is not None:
            # SendGrid requires text/plain first when both are present.
            content.append({"type": "text/html", "value": message.html_body})
        payload = {
            "personalizations": [{"to": [{"email": message.to}]}],
            "from": self._from,
            "subject": message.subject,
            "content": content,
            # Comes back on every event of this message, so a webhook can match the send even
            # when SendGrid drops it before it has a message id.
            "custom_args": {REFERENCE_KEY: message.idempotency_key},
            "tracking_settings": _NO_TRACKING,
        }
        try:
            response = await self._client.post(
                self._send_url, json=payload, headers=self._headers, timeout=self._timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            _VENDOR.raise_transport_error(exc, sending=True)
        if response.status_code not in (200, 202):
            _raise_for_error(response, sending=True)
        message_id = response.headers.get("X-Message-Id", "").strip()
        if not message_id:
            raise PermanentDeliveryError(
                "SendGrid accepted the email but gave no message id; it has probably been "
                "sent — ask the caller before resending.",
                provider=PROVIDER,
                outcome_unknown=True,
            )
        return EmailReceipt(provider=PROVIDER, message_id=message_id, status="queued")

    async def check_credentials(self) -> None:
        """List the API key's scopes (sends nothing) and require Mail Send among them."""
        try:
            response = await self._client.get(
                self._scopes_url, headers=self._headers, timeout=self._timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            _VENDOR.raise_transport_error(exc, sending=False)
        if response.status_code != 200:
            _raise_for_error(response, sending=False)
        try:
            scopes = response.json()["scopes"]
            if not isinstance(scopes, list):
                raise TypeError("scopes must be a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentDeliveryError(
                f"SendGrid answered the scopes check with something unexpected: check "
                f"{URL_SETTING}.",
                provider=PROVIDER,
            ) from exc
        if _MAIL_SEND_SCOPE not in scopes:
            raise ProviderAuthError(
                "The SendGrid API key works but lacks the Mail Send permission: give it "
                "“Mail Send” access or create a key that has it, then update SENDGRID_API_KEY.",
                provider=PROVIDER,
            )


def _refuse_line_breaks(message: EmailMessage) -> None:
    # JSON carries them happily, so nothing downstream would stop a header injection.
    if any(ch in message.subject or ch in message.to for ch in "\r\n"):
        raise PermanentDeliveryError(
            "The email could not be built: the address or subject contains a line break.",
            provider=PROVIDER,
        )


def _raise_for_error(response: httpx.Response, *, sending: bool) -> NoReturn:
    status = response.status_code
    errors = _errors(response)
    fields = [str(e.get("field") or "") for e in errors]
    texts = " ".join(str(e.get("message") or "") for e in errors).lower()
    vendor_code = f"HTTP {status}"
    if status == 400 and any(_RECIPIENT_FIELD.fullmatch(f) for f in fields):
        raise InvalidRecipient(
            "SendGrid rejected the email address as invalid (400) — check the contact's "
            "email or use SMS.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if status in (400, 403) and any(f.startswith("from") for f in fields):
        raise ProviderAuthError(
            f"SendGrid refused the sender address ({status}): EMAIL_FROM must be a verified "
            "Sender Identity or on an authenticated domain.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if status == 401 and "credits" in texts:
        raise PermanentDeliveryError(
            "The SendGrid account has used up its email credits (401): upgrade the plan or "
            "wait for the credits to reset.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    error = _VENDOR.status_error(
        response,
        sending=sending,
        answer=str(status),
        vendor_code=vendor_code,
        refused_credentials=f"SendGrid refused the API key ({status}): {_KEY_HINT}"
        + (" and that it has Mail Send permission." if status == 403 else "."),
    )
    if error is not None:
        raise error
    if status == 413:
        raise PermanentDeliveryError(
            "SendGrid refused the email as too large (413).",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    # The field names are ours, never the recipient's data, so they are safe to show.
    where = ", ".join(sorted({f for f in fields if f})) or "no field named"
    raise PermanentDeliveryError(
        f"SendGrid refused the email ({status}; {where}).",
        provider=PROVIDER,
        vendor_code=vendor_code,
    )


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    # Proxies and outages answer with HTML or nothing, so the JSON body is optional.
    errors = json_object_or_empty(response).get("errors")
    if not isinstance(errors, list):
        return []
    return [e for e in errors if isinstance(e, dict)]


# --- Event Webhook ---------------------------------------------------------------------------

_EVENT_STATES = {
    "processed": DeliveryState.QUEUED,
    "deferred": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "bounce": DeliveryState.UNDELIVERED,
    "dropped": DeliveryState.FAILED,
}


def parse_sendgrid_events(payload: Any) -> list[DeliveryStatus]:
    """SendGrid Event Webhook JSON (an array of events); engagement events are skipped."""
    if not isinstance(payload, list):
        raise MalformedDeliveryStatus("a SendGrid event webhook body is a JSON array")
    statuses = []
    for event in payload:
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            raise MalformedDeliveryStatus("each SendGrid event is an object with an 'event'")
        state = _EVENT_STATES.get(event["event"])
        if state is None:
            continue
        message_id = _event_message_id(event.get("sg_message_id"))
        reference = report_reference(event.get(REFERENCE_KEY))
        if message_id is None and reference is None:
            # Not one of ours (or too mangled to match): nothing to update.
            continue
        reason = None
        if state is not DeliveryState.DELIVERED:
            reason = report_text(event.get("reason")) or report_text(event.get("response"))
            if event["event"] == "bounce" and event.get("type") == "blocked":
                reason = f"blocked by the receiving server: {reason or 'no reason given'}"
        statuses.append(
            DeliveryStatus(
                PROVIDER,
                message_id,
                state,
                reason,
                report_text(event.get("status"), max_length=32)
                if state is not DeliveryState.DELIVERED
                else None,
                reference,
                _epoch(event.get("timestamp")),
            )
        )
    return statuses


def _event_message_id(value: Any) -> str | None:
    # sg_message_id is the X-Message-Id of the send followed by ".filter…" routing detail.
    message_id = report_id(value, vendor=LABEL)
    if message_id is None:
        return None
    head, dot, _ = message_id.partition(".filter")
    if dot:
        return head
    return message_id.partition(".")[0]


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
