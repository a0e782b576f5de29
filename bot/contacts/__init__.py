"""Who the caller claims to be: what the agent typed (/verify text, ticket numbers), the
contact search through the CRM/PSA, and the built-in directory with its CSV import."""

from __future__ import annotations

from bot.contacts.directory import BuiltinDirectory, import_contacts, parse_contact_csv
from bot.contacts.lookup import TicketLookup, parse_lookup
from bot.contacts.service import ContactService, crm_problem
from bot.contacts.ticket_refs import parse_ticket_reference
from providers.crm import ContactQuery, ContactRecord, TicketRecord

__all__ = [
    "BuiltinDirectory",
    "ContactQuery",
    "ContactRecord",
    "ContactService",
    "TicketLookup",
    "TicketRecord",
    "crm_problem",
    "import_contacts",
    "parse_contact_csv",
    "parse_lookup",
    "parse_ticket_reference",
]
