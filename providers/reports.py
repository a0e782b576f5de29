"""What providers tell us after a send, in our words: the types every delivery-report parser
returns.

The parsers themselves live beside their vendor's adapter (`providers.sms.twilio`,
`providers.sms.vonage`, `providers.email.sendgrid`, `providers.email.postmark`): each turns
one vendor's webhook payload into `DeliveryStatus` values (or nothing, for events that say
nothing about delivery, such as opens and clicks) and raises `MalformedDeliveryStatus` for a
payload that cannot be one of theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

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


# A vendor's message id: printable ASCII without spaces (Twilio SM…, Vonage hex, SendGrid's
# dotted ids, Postmark UUIDs), never longer than this.
_MESSAGE_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
# Our idempotency key as vendors echo it back: `<verification id>:<send number>`.
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,64}:[0-9]{1,6}$")
# NUL, other control characters and lone surrogates: no database stores the first and last.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_REPORT_TEXT = 500


def report_text(value: Any, *, max_length: int = MAX_REPORT_TEXT) -> str | None:
    """A report field as trimmed text (numbers too, as vendors write ids either way), or None
    when it is missing or blank; control characters dropped, cut to `max_length`."""
    if isinstance(value, str):
        text = _UNSTORABLE.sub(" ", value).strip()[:max_length]
        return text or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)[:max_length]
    return None


def report_id(value: Any, *, vendor: str) -> str | None:
    """A message id from a report, or None when absent; `MalformedDeliveryStatus` when it is
    present but could not be one the vendor issued (a NUL, 5,000 digits, spaces)."""
    if value is None or value == "":
        return None
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _MESSAGE_ID.match(text):
        raise MalformedDeliveryStatus(f"the message id is not one {vendor} issues")
    return text


def report_reference(value: Any) -> str | None:
    """Our idempotency key echoed back, or None when it is absent or not one we made (a
    reference we did not make matches no send, so it is ignored rather than refused)."""
    return value if isinstance(value, str) and _REFERENCE.match(value) else None
