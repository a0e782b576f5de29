"""The CRM/PSA port: find the contact a caller claims to be."""

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


class ContactDirectory(Protocol):
    name: str

    async def search(self, query: ContactQuery, *, limit: int) -> list[ContactRecord]:
        """Contacts matching the query, best first, at most `limit`."""
        ...

    async def get(self, ref: str) -> ContactRecord | None: ...
