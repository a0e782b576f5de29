"""The CRM/PSA port: find the contact a caller claims to be, and keep the ticket in step.

Adapters (one module per vendor) take an injected `httpx.AsyncClient` and typed config, never
read the environment, and raise only the `CrmError` family below (`raise ... from exc`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class LookupKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    NAME = "name"


@dataclass(frozen=True)
class ContactQuery:
    kind: LookupKind
    value: str  # E.164 for phones, a normalised address for emails, free text for names


@dataclass(frozen=True)
class ContactRecord:
    ref: str  # stable id within the CRM, e.g. "42"
    name: str
    company: str
    phone_e164: str | None
    email: str | None
    active: bool = True
    company_ref: str | None = None  # the PSA's company/organisation id, when it has one


@dataclass(frozen=True)
class TicketRecord:
    ref: str  # the PSA's id, used in API calls
    number: str  # what an agent types after '#'; equal to `ref` for most PSAs
    summary: str
    contact_ref: str | None
    company_ref: str | None
    closed: bool = False
    url: str | None = None  # a link an agent can open, when the PSA has one


@dataclass(frozen=True)
class NoteReceipt:
    ref: str  # the PSA's id of the note
    already_present: bool = False  # True when a retry found the note already written


class CrmError(Exception):
    """A PSA call failed; `message` is written for the agent (no secrets, no raw bodies)."""

    transient = False  # retrying later may succeed (outbox relay keeps trying)

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class CrmAuthError(CrmError):
    """401/403, or a vendor's own way of saying the credentials or permissions are wrong."""


class CrmNotFound(CrmError):
    """404 for a specific record (a search with no results is an empty list, not this)."""


class CrmRejected(CrmError):
    """400/409/422: the PSA refused this request; sending it again will not help."""


class CrmUnavailable(CrmError):
    """5xx, timeouts, connection errors: the PSA may recover."""

    transient = True


class CrmRateLimited(CrmUnavailable):
    """429; `retry_after` seconds when the PSA said so."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = 429
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ContactDirectory(Protocol):
    name: str  # registry key, e.g. "connectwise"
    label: str  # shown to agents, e.g. "ConnectWise PSA"
    supports_tickets: bool

    async def search(self, query: ContactQuery, *, limit: int) -> list[ContactRecord]:
        """Contacts matching the query, best first, at most `limit` (adapters page as needed)."""
        ...

    async def get(self, ref: str) -> ContactRecord | None: ...

    async def get_ticket(self, number: str) -> TicketRecord | None:
        """The ticket an agent means by `#number`; None when the PSA has no such ticket."""
        ...

    async def create_ticket(self, *, contact: ContactRecord, summary: str) -> TicketRecord: ...

    async def add_note(
        self, *, ticket_ref: str, text: str, key: str, first_attempt: bool
    ) -> NoteReceipt:
        """Write an internal (never customer-visible) note on the ticket.

        `key` identifies the note across retries; the adapter embeds it in the note text.
        When `first_attempt` is False the previous try may have reached the PSA (a timeout
        after the write), so the adapter first looks for a note carrying `key` on the ticket
        and returns it with `already_present=True` instead of writing a duplicate.
        """
        ...
