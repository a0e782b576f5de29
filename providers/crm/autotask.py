"""Autotask PSA REST API v1.0: contacts, tickets and internal ticket notes.

Shapes follow reference/vendor-apis.md §1.2: contacts, companies and notes are found with
`POST /{Entity}/query` and a JSON filter, notes are written with `POST /Tickets/{id}/Notes`.
How requests reach the tenant's zone and how Autotask's errors read is in
`providers.crm.autotask_rest`.
"""

from __future__ import annotations

import re
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import httpx
import phonenumbers

from providers.crm import (
    ContactQuery,
    ContactRecord,
    CrmError,
    CrmNotFound,
    CrmRateLimited,
    CrmRejected,
    CrmUnavailable,
    LookupKind,
    NoteReceipt,
    TicketRecord,
)
from providers.crm.autotask_rest import LABEL, AutotaskRest, raise_for_answer
from providers.crm.http import (
    idempotent_note,
    may_have_arrived,
    note_marker,
    read_json_object,
)
from providers.crm.phones import to_e164

PROVIDER = "autotask"
NOTE_TITLE = "PIN Verify"
TITLE_MAX = 255
DESCRIPTION_MAX = 32000
_CONTACT_FIELDS = [
    "id",
    "firstName",
    "lastName",
    "emailAddress",
    "emailAddress2",
    "emailAddress3",
    "phone",
    "mobilePhone",
    "alternatePhone",
    "companyID",
    "isActive",
]
_PHONE_FIELDS = ("phone", "mobilePhone", "alternatePhone")
_EMAIL_FIELDS = ("emailAddress", "emailAddress2", "emailAddress3")
_TICKET_NUMBER = re.compile(r"T\d{8}\.\d{4,}", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\w'.\-]|_", re.UNICODE)


@dataclass(frozen=True)
class AutotaskConfig:
    api_url: str  # where the zone is looked up: https://webservices.autotask.net/ATServicesRest/
    username: str
    secret: str
    integration_code: str
    default_region: str = "US"  # how to read phone numbers stored without a country code
    page_size: int = 100  # MaxRecords per query page (Autotask allows up to 500)
    # Instance picklists (GET /TicketNotes/entityInformation/fields); these are the defaults
    # of a new Autotask instance: "Task Notes", published to the internal project team only.
    note_type: int = 3
    note_publish: int = 2
    ticket_status: int = 1  # New
    ticket_priority: int = 2  # Medium
    ticket_queue_id: int | None = None


class AutotaskPsa:
    name = PROVIDER
    label = LABEL
    supports_tickets = True

    def __init__(self, client: httpx.AsyncClient, config: AutotaskConfig) -> None:
        self._config = config
        self._rest = AutotaskRest(
            client,
            api_url=config.api_url,
            username=config.username,
            secret=config.secret,
            integration_code=config.integration_code,
        )

    # ---- contacts --------------------------------------------------------------------------

    async def search(self, query: ContactQuery, *, limit: int) -> list[ContactRecord]:
        if limit <= 0:
            return []
        wanted_phone: str | None = None
        wanted_email: str | None = None
        if query.kind is LookupKind.PHONE:
            fragments = _phone_fragments(query.value)
            if not fragments:
                return []
            wanted_phone = query.value
            filters: list[dict[str, Any]] = [
                {
                    "op": "or",
                    "items": [
                        {"op": "contains", "field": field, "value": fragment}
                        for field in _PHONE_FIELDS
                        for fragment in fragments
                    ],
                }
            ]
        elif query.kind is LookupKind.EMAIL:
            wanted_email = query.value.strip().lower()
            if not wanted_email:
                return []
            filters = [
                {
                    "op": "or",
                    "items": [
                        {"op": "eq", "field": field, "value": wanted_email}
                        for field in _EMAIL_FIELDS
                    ],
                }
            ]
        else:
            words = [w for w in (_NAME_WORD.sub("", part) for part in query.value.split()) if w]
            if not words:
                return []
            filters = [
                {
                    "op": "or",
                    "items": [
                        {"op": "beginsWith", "field": "firstName", "value": word},
                        {"op": "beginsWith", "field": "lastName", "value": word},
                    ],
                }
                for word in words
            ]
        body = {
            "MaxRecords": self._config.page_size,
            "IncludeFields": _CONTACT_FIELDS,
            "filter": filters,
        }
        matches: list[tuple[dict[str, Any], str | None, str | None]] = []
        pages = self._rest.query("Contacts", body, what="search contacts")
        async with aclosing(pages):
            async for item in pages:
                found = self._match(item, phone=wanted_phone, email=wanted_email)
                if found is not None:
                    matches.append((item, *found))
                if len(matches) >= limit:
                    break
        names = await self._company_names({_ref(item.get("companyID")) for item, _, _ in matches})
        records = [self._record(item, phone=p, email=e, companies=names) for item, p, e in matches]
        # Active contacts first: an agent picks among them; the inactive ones are shown marked.
        return sorted(records, key=lambda record: not record.active)

    async def get(self, ref: str) -> ContactRecord | None:
        if not ref.isdigit():
            return None
        item = await self._rest.get_item(f"Contacts/{ref}", what="read the contact")
        if item is None:
            return None
        phone, email = self._match(item, phone=None, email=None) or (None, None)
        names = await self._company_names({_ref(item.get("companyID"))})
        return self._record(item, phone=phone, email=email, companies=names)

    # ---- tickets ---------------------------------------------------------------------------

    async def get_ticket(self, number: str) -> TicketRecord | None:
        number = number.strip().lstrip("#")
        if number.isdigit():
            item = await self._rest.get_item(f"Tickets/{number}", what=f"read ticket {number}")
            return None if item is None else _ticket(item)
        if not _TICKET_NUMBER.fullmatch(number):
            return None
        body = {
            "MaxRecords": 1,
            "filter": [{"op": "eq", "field": "ticketNumber", "value": number.upper()}],
        }
        tickets = self._rest.query("Tickets", body, what=f"find ticket {number}")
        async with aclosing(tickets):
            async for item in tickets:
                return _ticket(item)
        return None

    async def create_ticket(self, *, contact: ContactRecord, summary: str) -> TicketRecord:
        summary = summary.strip()
        if not summary:
            raise CrmRejected("An Autotask ticket needs a title.")
        if len(summary) > TITLE_MAX:
            raise CrmRejected(
                f"Autotask ticket titles are limited to {TITLE_MAX} characters "
                f"(this one has {len(summary)}); shorten it."
            )
        if not contact.company_ref or not contact.company_ref.isdigit():
            raise CrmRejected(
                f"{contact.name} has no company in Autotask, and a ticket needs one; "
                "add the contact to a company first."
            )
        body: dict[str, Any] = {
            "companyID": int(contact.company_ref),
            "title": summary,
            "status": self._config.ticket_status,
            "priority": self._config.ticket_priority,
        }
        if contact.ref.isdigit():
            body["contactID"] = int(contact.ref)
        if self._config.ticket_queue_id is not None:
            body["queueID"] = self._config.ticket_queue_id
        what = "create a ticket"
        await self._rest.zone_url()  # so a failure below is about the write itself
        try:
            response = await self._rest.send("POST", "Tickets", json=body, what=what)
            if response.status_code not in (200, 201):
                raise_for_answer(response, what=what, record=None)
            item_id = read_json_object(response, label=LABEL, what=what).get("itemId")
        except CrmUnavailable as exc:
            if isinstance(exc, CrmRateLimited) or not may_have_arrived(exc):
                raise
            raise CrmUnavailable(
                "Autotask did not confirm the new ticket; it may have been created — look for "
                "it in Autotask (or tag it by number) before creating another.",
                status=exc.status,
            ) from exc
        if not isinstance(item_id, int) or isinstance(item_id, bool):
            raise CrmUnavailable(
                "Autotask did not say which ticket it created; look for it in Autotask "
                "before creating another."
            )
        try:
            created = await self._rest.get_item(f"Tickets/{item_id}", what="read the new ticket")
        except CrmError:
            created = None
        if created is None:
            # The ticket exists; its T-number is unknown until Autotask shows it, and its id
            # works as a number for get_ticket, so never fail (and invite a duplicate) here.
            return TicketRecord(
                ref=str(item_id),
                number=str(item_id),
                summary=summary,
                contact_ref=contact.ref if contact.ref.isdigit() else None,
                company_ref=contact.company_ref,
            )
        return _ticket(created)

    async def add_note(
        self, *, ticket_ref: str, text: str, key: str, first_attempt: bool
    ) -> NoteReceipt:
        if not ticket_ref.isdigit():
            raise CrmNotFound(f"{ticket_ref} is not an Autotask ticket id.")

        def description(marker: str) -> str:
            return f"{text.rstrip()}\n\n{marker}"

        # Refused before looking or writing: no retry would ever fit it.
        if len(description(note_marker(key))) > DESCRIPTION_MAX:
            raise CrmRejected(
                f"The note is longer than Autotask's {DESCRIPTION_MAX} characters; shorten it."
            )

        async def find(marker: str) -> str | None:
            body = {
                "MaxRecords": self._config.page_size,
                "IncludeFields": ["id", "description"],
                "filter": [
                    {"op": "eq", "field": "ticketID", "value": int(ticket_ref)},
                    {"op": "contains", "field": "description", "value": marker},
                ],
            }
            notes = self._rest.query("TicketNotes", body, what="read ticket notes")
            async with aclosing(notes):
                async for note in notes:
                    lines = str(note.get("description") or "").rstrip().splitlines()
                    if lines and lines[-1].strip() == marker:
                        return str(note.get("id"))
            return None

        async def post(marker: str) -> str:
            payload = {
                "ticketID": int(ticket_ref),
                "title": NOTE_TITLE,
                "description": description(marker),
                "noteType": self._config.note_type,
                "publish": self._config.note_publish,
            }
            what = f"add a note to ticket {ticket_ref}"
            response = await self._rest.send(
                "POST", f"Tickets/{ticket_ref}/Notes", json=payload, what=what
            )
            if response.status_code not in (200, 201):
                raise_for_answer(response, what=what, record=f"Ticket {ticket_ref}")
            return str(read_json_object(response, label=LABEL, what=what).get("itemId"))

        return await idempotent_note(key=key, first_attempt=first_attempt, find=find, post=post)

    async def check_credentials(self) -> None:
        what = "check the credentials"
        body = {"filter": [{"op": "gte", "field": "id", "value": 0}]}
        response = await self._rest.send("POST", "Contacts/query/count", json=body, what=what)
        if response.status_code != 200:
            raise_for_answer(response, what=what, record=None)

    async def _company_names(self, refs: set[str | None]) -> dict[str, str]:
        ids = sorted(int(ref) for ref in refs if ref and ref.isdigit())
        if not ids:
            return {}
        body = {
            "MaxRecords": min(max(len(ids), 1), 500),
            "IncludeFields": ["id", "companyName"],
            "filter": [{"op": "in", "field": "id", "value": ids}],
        }
        names: dict[str, str] = {}
        companies = self._rest.query("Companies", body, what="read company names")
        async with aclosing(companies):
            async for item in companies:
                names[str(item.get("id"))] = str(item.get("companyName") or "")
        return names

    def _match(
        self, item: dict[str, Any], *, phone: str | None, email: str | None
    ) -> tuple[str | None, str | None] | None:
        """(phone, email) to show for a contact, or None when it does not really match.

        The `contains` search finds candidates; stored values are then compared exactly (in
        E.164, or case-insensitively for emails), because Autotask keeps free text.
        """
        region = self._config.default_region
        numbers = [to_e164(str(item.get(field) or ""), region) for field in _PHONE_FIELDS]
        if phone is not None:
            if phone not in numbers:
                return None
            shown_phone: str | None = phone
        else:
            shown_phone = next((n for n in numbers if n), None)
        addresses = [str(item.get(field) or "").strip() for field in _EMAIL_FIELDS]
        if email is not None:
            shown_email = next((a for a in addresses if a.lower() == email), None)
            if shown_email is None:
                return None
        else:
            shown_email = next((a for a in addresses if a), None)
        return shown_phone, shown_email

    def _record(
        self,
        item: dict[str, Any],
        *,
        phone: str | None,
        email: str | None,
        companies: dict[str, str],
    ) -> ContactRecord:
        company_ref = _ref(item.get("companyID"))
        name = " ".join(
            str(part) for part in (item.get("firstName"), item.get("lastName")) if part
        ).strip()
        return ContactRecord(
            ref=str(item.get("id")),
            name=name or f"Contact {item.get('id')}",
            company=companies.get(company_ref or "", ""),
            phone_e164=phone,
            email=email,
            active=bool(item.get("isActive", True)),  # 1/0 on contacts, true/false elsewhere
            company_ref=company_ref,
        )


def _ticket(item: dict[str, Any]) -> TicketRecord:
    ref = str(item.get("id"))
    return TicketRecord(
        ref=ref,
        number=str(item.get("ticketNumber") or ref),
        summary=str(item.get("title") or ""),
        contact_ref=_ref(item.get("contactID")),
        company_ref=_ref(item.get("companyID")),
        closed=item.get("status") == 5,  # 5 is "Complete" in every Autotask instance
    )


def _ref(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str) and str(value).isdigit():
        return str(value)
    return None


def _phone_fragments(e164: str) -> list[str]:
    """Substrings any stored spelling of the number contains: the last two national digit
    groups joined as people write them ("5557611", "555-7611", "555 7611", "555.7611")."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return []
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    groups = re.findall(r"\d+", national)
    if len(groups) < 2:
        significant = phonenumbers.national_significant_number(number)
        return [significant[-7:]] if len(significant) >= 4 else []
    head, tail = groups[-2], groups[-1]
    return [f"{head}{sep}{tail}" for sep in ("", "-", " ", ".")]
