"""The email port: what the domain needs from any email provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class EmailMessage:
    to: str  # validated address
    subject: str
    text_body: str
    idempotency_key: str
    html_body: str | None = None


@dataclass(frozen=True)
class EmailReceipt:
    provider: str
    message_id: str
    status: str


class EmailSender(Protocol):
    name: str

    async def send(self, message: EmailMessage) -> EmailReceipt:
        """Hand the message to the provider or raise a `providers.errors.DeliveryError`."""
        ...
