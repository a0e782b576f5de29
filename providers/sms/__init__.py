"""The SMS port: what the domain needs from any SMS provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164, already validated by the domain
    body: str
    # Stable per (verification, send): a retry of the same click must not become a second SMS.
    idempotency_key: str


@dataclass(frozen=True)
class SmsReceipt:
    provider: str
    message_id: str
    status: str  # the provider's own first status, e.g. Twilio's "queued"


class SmsSender(Protocol):
    name: str

    async def send(self, message: SmsMessage) -> SmsReceipt:
        """Hand the message to the provider or raise a `providers.errors.DeliveryError`."""
        ...
