"""What providers tell us after a send: status callbacks, delivery receipts, event webhooks.

Pure functions: each parser turns one vendor's webhook payload into `DeliveryStatus` values
(or nothing, for events that say nothing about delivery, such as opens and clicks) and raises
`MalformedDeliveryStatus` for a payload that cannot be one of theirs. Verifying where a
payload came from (`valid_twilio_signature`) is the web route's job, before parsing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# The key under which our idempotency key travels with a message (Vonage `client-ref`,
# SendGrid `custom_args`, Postmark `Metadata`) and comes back in its events.
REFERENCE_KEY = "pinverify_ref"


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    # Never left the provider (rejected, blocked, suppressed).
    FAILED = "failed"
    # Left the provider but the carrier or mail server could not deliver it.
    UNDELIVERED = "undelivered"

    @property
    def final(self) -> bool:
        return self in (DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.UNDELIVERED)

    def advances(self, current: DeliveryState | None) -> bool:
        """Whether a report in this state should replace `current`: callbacks arrive out of
        order (Twilio's `sent` can follow `delivered`), and a final state is never undone."""
        if current is None:
            return True
        if current.final:
            return False
        return _RANK[self] > _RANK[current]


_RANK = {
    DeliveryState.QUEUED: 0,
    DeliveryState.SENT: 1,
    DeliveryState.DELIVERED: 2,
    DeliveryState.FAILED: 2,
    DeliveryState.UNDELIVERED: 2,
}


@dataclass(frozen=True)
class DeliveryStatus:
    provider: str
    # The id the provider's send receipt carried; None only when the vendor omits it (SendGrid
    # `dropped` events), and then `reference` identifies the message.
    message_id: str | None
    state: DeliveryState
    # The carrier's or vendor's reason in plain words, for the card ("Handset unreachable").
    reason: str | None = None
    error_code: str | None = None
    # Our idempotency key, when the vendor echoes it back.
    reference: str | None = None
    occurred_at: datetime | None = None


class MalformedDeliveryStatus(ValueError):
    """The payload is not a status report we understand (answer it with 400)."""


# --- Twilio ------------------------------------------------------------------------------

_TWILIO_STATES = {
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
    """A Twilio messaging status callback (form fields); None for statuses we do not track."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not status:
        raise MalformedDeliveryStatus("a Twilio status callback needs MessageSid and MessageStatus")
    state = _TWILIO_STATES.get(status)
    if state is None:
        return None
    code = form.get("ErrorCode") or None
    reason = None
    if code is not None:
        reason = TWILIO_DELIVERY_ERRORS.get(code, f"Twilio error {code}")
    return DeliveryStatus(
        "twilio", sid, state, reason, code, occurred_at=_dlr_done(form.get("RawDlrDoneDate"))
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


# --- Vonage (SMS API delivery receipts) --------------------------------------------------

_VONAGE_STATES = {
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
    message_id = params.get("messageId")
    status = (params.get("status") or "").lower()
    if not message_id or not status:
        raise MalformedDeliveryStatus("a Vonage delivery receipt needs messageId and status")
    state = _VONAGE_STATES.get(status)
    if state is None:
        return None
    code = params.get("err-code") or None
    reason = None
    if state is not DeliveryState.DELIVERED and code is not None and code != "0":
        reason = VONAGE_DELIVERY_ERRORS.get(code, f"Vonage error {code}")
    elif state is DeliveryState.SENT and status != "accepted":
        reason = {"buffered": "waiting at the carrier", "unknown": "the carrier has no status"}[
            status
        ]
    return DeliveryStatus(
        "vonage",
        message_id,
        state,
        reason,
        code if code != "0" else None,
        params.get("client-ref") or None,
        _vonage_time(params.get("message-timestamp")),
    )


def _vonage_time(value: str | None) -> datetime | None:
    # "2020-01-01 12:00:00" (UTC), or ISO 8601 in the newer receipts.
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- SendGrid (Event Webhook) ------------------------------------------------------------

_SENDGRID_STATES = {
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
        state = _SENDGRID_STATES.get(event["event"])
        if state is None:
            continue
        message_id = _sendgrid_message_id(event.get("sg_message_id"))
        reference = _text(event.get(REFERENCE_KEY))
        if message_id is None and reference is None:
            # Not one of ours (or too mangled to match): nothing to update.
            continue
        reason = None
        if state is not DeliveryState.DELIVERED:
            reason = _text(event.get("reason")) or _text(event.get("response"))
            if event["event"] == "bounce" and event.get("type") == "blocked":
                reason = f"blocked by the receiving server: {reason or 'no reason given'}"
        statuses.append(
            DeliveryStatus(
                "sendgrid",
                message_id,
                state,
                reason,
                _text(event.get("status")) if state is not DeliveryState.DELIVERED else None,
                reference,
                _epoch(event.get("timestamp")),
            )
        )
    return statuses


def _sendgrid_message_id(value: Any) -> str | None:
    # sg_message_id is the X-Message-Id of the send followed by ".filter…" routing detail.
    if not isinstance(value, str) or not value:
        return None
    head, dot, _ = value.partition(".filter")
    if dot:
        return head
    return value.partition(".")[0]


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


# --- Postmark (Delivery and Bounce webhooks) ---------------------------------------------

# Bounce types that are not a failure to deliver our message.
_POSTMARK_NOT_FAILURES = frozenset({"AutoResponder", "Subscribe", "OpenRelayTest"})


def parse_postmark_webhook(payload: Any) -> DeliveryStatus | None:
    """One Postmark webhook (JSON object); None for opens, clicks and other record types."""
    if not isinstance(payload, dict):
        raise MalformedDeliveryStatus("a Postmark webhook body is a JSON object")
    record_type = payload.get("RecordType")
    message_id = _text(payload.get("MessageID"))
    if not isinstance(record_type, str) or message_id is None:
        raise MalformedDeliveryStatus("a Postmark webhook needs RecordType and MessageID")
    metadata = payload.get("Metadata")
    reference = _text(metadata.get(REFERENCE_KEY)) if isinstance(metadata, dict) else None
    if record_type == "Delivery":
        return DeliveryStatus(
            "postmark",
            message_id,
            DeliveryState.DELIVERED,
            None,
            None,
            reference,
            _iso(payload.get("DeliveredAt")),
        )
    if record_type == "Bounce":
        bounce_type = _text(payload.get("Type"))
        if bounce_type in _POSTMARK_NOT_FAILURES:
            return None
        reason = _text(payload.get("Description")) or _text(payload.get("Name")) or "it bounced"
        if payload.get("Inactive") is True:
            reason = f"{reason} (Postmark now marks the address inactive)"
        return DeliveryStatus(
            "postmark",
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


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
