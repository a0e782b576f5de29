"""Autotask PSA REST API v1.0: contacts, tickets and internal ticket notes.

Shapes and auth follow reference/vendor-apis.md §1.2: the zone is discovered once with
`zoneInformation?user=`, every call carries `ApiIntegrationCode`/`UserName`/`Secret` headers,
queries are `POST /{Entity}/query` with a JSON filter and page through `pageDetails.nextPageUrl`
(POSTed again with the same body), notes are `POST /Tickets/{id}/Notes`, and errors are
`{"errors": ["…"]}` — with an unknown user or integration code answered by a 500.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
import phonenumbers

from providers.crm import (
    ContactQuery,
    ContactRecord,
    CrmAuthError,
    CrmError,
    CrmNotFound,
    CrmRateLimited,
    CrmRejected,
    CrmUnavailable,
    LookupKind,
    NoteReceipt,
    TicketRecord,
)
from providers.crm.http import (
    idempotent_note,
    may_have_arrived,
    note_marker,
    origin,
    raise_for_status,
    raise_request_failed,
    read_json_object,
)
from providers.crm.phones import to_e164
from providers.http import json_object_or_empty

PROVIDER = "autotask"
LABEL = "Autotask"
NOTE_TITLE = "PIN Verify"
TITLE_MAX = 255
DESCRIPTION_MAX = 32000
_MAX_PAGES = 20
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
_CREDENTIALS_HINT = "check AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE"
# Autotask answers an unknown API user or integration code with a 500; these words in its
# error text tell that apart from an outage.
_AUTH_500 = re.compile(
    r"integration ?code|user ?name|username|authenticat|credential|impersonat|zone information",
    re.IGNORECASE,
)
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
        self._client = client
        self._config = config
        self._headers = {
            "ApiIntegrationCode": config.integration_code,
            "UserName": config.username,
            "Secret": config.secret,
            "Accept": "application/json",
        }
        self._zone: str | None = None
        self._zone_lock = asyncio.Lock()

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
        pages = self._query("Contacts", body, what="search contacts")
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
        item = await self._get_item(f"Contacts/{ref}", what="read the contact")
        if item is None:
            return None
        phone, email = self._match(item, phone=None, email=None) or (None, None)
        names = await self._company_names({_ref(item.get("companyID"))})
        return self._record(item, phone=phone, email=email, companies=names)

    # ---- tickets ---------------------------------------------------------------------------

    async def get_ticket(self, number: str) -> TicketRecord | None:
        number = number.strip().lstrip("#")
        if number.isdigit():
            item = await self._get_item(f"Tickets/{number}", what=f"read ticket {number}")
            return None if item is None else _ticket(item)
        if not _TICKET_NUMBER.fullmatch(number):
            return None
        body = {
            "MaxRecords": 1,
            "filter": [{"op": "eq", "field": "ticketNumber", "value": number.upper()}],
        }
        tickets = self._query("Tickets", body, what=f"find ticket {number}")
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
        await self._zone_url()  # so a failure below is about the write itself
        try:
            response = await self._send("POST", "Tickets", json=body, what=what)
            if response.status_code not in (200, 201):
                _raise_for_status(response, what=what, record=None)
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
            created = await self._get_item(f"Tickets/{item_id}", what="read the new ticket")
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
            notes = self._query("TicketNotes", body, what="read ticket notes")
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
            response = await self._send(
                "POST", f"Tickets/{ticket_ref}/Notes", json=payload, what=what
            )
            if response.status_code not in (200, 201):
                _raise_for_status(response, what=what, record=f"Ticket {ticket_ref}")
            return str(read_json_object(response, label=LABEL, what=what).get("itemId"))

        return await idempotent_note(key=key, first_attempt=first_attempt, find=find, post=post)

    async def check_credentials(self) -> None:
        what = "check the credentials"
        body = {"filter": [{"op": "gte", "field": "id", "value": 0}]}
        response = await self._send("POST", "Contacts/query/count", json=body, what=what)
        if response.status_code != 200:
            _raise_for_status(response, what=what, record=None)

    # ---- HTTP ------------------------------------------------------------------------------

    async def _zone_url(self) -> str:
        """The tenant's zone (e.g. https://webservices5.autotask.net/ATServicesRest/), cached."""
        if self._zone is not None:
            return self._zone
        async with self._zone_lock:
            if self._zone is not None:
                return self._zone
            what = "find the Autotask zone"
            url = self._config.api_url.rstrip("/") + "/V1.0/zoneInformation"
            response = await self._request(
                "GET", url, params={"user": self._config.username}, what=what, auth=False
            )
            if response.status_code != 200:
                refused = response.status_code in (400, 401, 403, 404)
                if refused or _AUTH_500.search(_error_text(response)):
                    raise CrmAuthError(
                        f"Autotask does not know the API user ({response.status_code}): check "
                        "AUTOTASK_USERNAME (the API user's username) and AUTOTASK_API_URL.",
                        status=response.status_code,
                    )
                _raise_for_status(response, what=what, record=None)
            zone = read_json_object(response, label=LABEL, what=what).get("url")
            if not isinstance(zone, str) or urlsplit(zone).scheme not in ("http", "https"):
                raise CrmUnavailable(
                    "Autotask's zone lookup gave no usable URL; try again shortly."
                )
            self._zone = zone.rstrip("/") + "/V1.0/"
            return self._zone

    async def _send(self, method: str, path: str, *, what: str, json: Any = None) -> httpx.Response:
        return await self._request(method, await self._zone_url() + path, json=json, what=what)

    async def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        json: Any = None,
        auth: bool = True,
    ) -> httpx.Response:
        headers = self._headers if auth else {"Accept": "application/json"}
        try:
            return await self._client.request(
                method, url, params=params, json=json, headers=headers
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise_request_failed(
                exc,
                label=LABEL,
                what=what,
                setting="AUTOTASK_API_URL",
                example="https://webservices.autotask.net/ATServicesRest/",
            )

    async def _get_item(self, path: str, *, what: str) -> dict[str, Any] | None:
        response = await self._send("GET", path, what=what)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            _raise_for_status(response, what=what, record=None)
        item = read_json_object(response, label=LABEL, what=what).get("item")
        return item if isinstance(item, dict) else None

    async def _query(
        self, entity: str, body: dict[str, Any], *, what: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield the items of `POST /{entity}/query`, following `pageDetails.nextPageUrl`."""
        url: str | None = await self._zone_url() + f"{entity}/query"
        zone_origin = origin(await self._zone_url())
        for _ in range(_MAX_PAGES):
            assert url is not None
            # nextPageUrl must be POSTed with the same filter body again (a GET is a 405).
            response = await self._request("POST", url, json=body, what=what)
            if response.status_code != 200:
                _raise_for_status(response, what=what, record=None)
            payload = read_json_object(response, label=LABEL, what=what)
            items = payload.get("items")
            if not isinstance(items, list):
                raise CrmUnavailable(
                    f"Autotask's answer had no items when trying to {what}; try again shortly."
                )
            for item in items:
                if isinstance(item, dict):
                    yield item
            details = payload.get("pageDetails")
            url = details.get("nextPageUrl") if isinstance(details, dict) else None
            # Credentials go only to the zone's host, whatever a page link says.
            if not isinstance(url, str) or not url or origin(url) != zone_origin:
                return

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
        companies = self._query("Companies", body, what="read company names")
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


def _error_text(response: httpx.Response) -> str:
    errors = json_object_or_empty(response).get("errors")
    if not isinstance(errors, list):
        return ""
    return " ".join(str(e) for e in errors if isinstance(e, str))


def _raise_for_status(response: httpx.Response, *, what: str, record: str | None) -> NoReturn:
    status = response.status_code
    text = _error_text(response)
    if status == 500 and _AUTH_500.search(text):
        raise CrmAuthError(
            f"Autotask refused the API user or integration code (500): {_CREDENTIALS_HINT}.",
            status=status,
        )
    raise_for_status(
        response,
        unauthorized=(
            "Autotask rejected the API user's secret (401): check AUTOTASK_SECRET and that "
            "the API user is active."
        ),
        forbidden=(
            f"Autotask's API user may not {what} (403): give its security level access to "
            "Contacts, Companies, Tickets and Ticket Notes."
        ),
        missing=(
            f"{record} was not found in Autotask (404)."
            if record is not None
            else f"Autotask answered 404 when trying to {what}: check AUTOTASK_API_URL."
        ),
        missing_error=CrmNotFound if record is not None else CrmAuthError,
        rate_limited=f"Autotask is throttling this tenant (429); will try to {what} again later.",
        server_error=(
            f"Autotask had a server error ({status}) when trying to {what}; try again shortly. "
            f"If it persists, {_CREDENTIALS_HINT} (Autotask answers 500 for those too)."
        ),
        refused=f"Autotask refused to {what} ({status}){f': {text[:200]}' if text else ''}.",
    )
