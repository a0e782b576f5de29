"""Who the caller claims to be: contact search and lookup through the CRM/PSA port.

The edge (commands/) asks here instead of calling the CRM adapter: CRM errors become one
`ContactsUnavailable` with words for the agent, and the adapter's types stay behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.errors import ContactsUnavailable
from providers.crm import ContactDirectory, ContactQuery, ContactRecord, CrmError


def crm_problem(label: str, exc: CrmError) -> str:
    """A CRM failure in words for the agent: transient ones say to try again."""
    if exc.transient:
        return f"{label} is not answering right now: {exc.message} Try again in a minute."
    return exc.message


class ContactService:
    def __init__(self, directory: ContactDirectory) -> None:
        self._directory = directory

    @property
    def name(self) -> str:
        """The directory's registry name, e.g. "connectwise" or "directory"."""
        return self._directory.name

    @property
    def label(self) -> str:
        """The directory's name as agents read it, e.g. "ConnectWise PSA"."""
        return self._directory.label

    @property
    def supports_tickets(self) -> bool:
        return self._directory.supports_tickets

    async def search(self, query: ContactQuery, *, limit: int) -> Sequence[ContactRecord]:
        """Contacts matching the agent's query, at most `limit`."""
        try:
            return await self._directory.search(query, limit=limit)
        except CrmError as exc:
            raise ContactsUnavailable(crm_problem(self.label, exc)) from exc

    async def get(self, ref: str) -> ContactRecord | None:
        """One contact by the directory's own reference; None when it no longer exists."""
        try:
            return await self._directory.get(ref)
        except CrmError as exc:
            raise ContactsUnavailable(crm_problem(self.label, exc)) from exc
