"""What providers tell us after a send, in our words: the types every delivery-report parser
returns.

The parsers themselves live beside their vendor's adapter (`providers.sms.twilio`,
`providers.sms.vonage`, `providers.email.sendgrid`, `providers.email.postmark`): each turns
one vendor's webhook payload into `DeliveryStatus` values (or nothing, for events that say
nothing about delivery, such as opens and clicks) and raises `MalformedDeliveryStatus` for a
payload that cannot be one of theirs.
"""

from __future__ import annotations

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


def report_text(value: Any) -> str | None:
    """A report field as trimmed text (numbers too, as vendors write ids either way), or None
    when it is missing or blank."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
