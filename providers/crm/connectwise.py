"""ConnectWise PSA (Manage) REST API 3.0: contacts, service tickets and internal ticket notes.

Shapes and auth follow reference/vendor-apis.md §1.1: Basic `companyId+publicKey:privateKey`, a
`clientId` header on every call, `conditions`/`childConditions` queries, `page`/`pageSize`
paging with a `Link` header, and `{"code": …, "message": …, "errors": […]}` error bodies.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
import phonenumbers

from providers.crm import (
    ContactQuery,
    ContactRecord,
    CrmAuthError,
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
    origin,
    raise_for_status,
    raise_request_failed,
    read_json_object,
)
from providers.crm.phones import to_e164
from providers.http import json_object_or_empty

PROVIDER = "connectwise"
LABEL = "ConnectWise PSA"
_NAME = "ConnectWise"  # how messages name it
SUMMARY_MAX = 100  # ConnectWise's service ticket summary column
_MAX_PAGES = 20  # a search never walks more than this many pages
_CONTACT_FIELDS = "id,firstName,lastName,company,communicationItems,inactiveFlag"
_KEYS_HINT = (
    "check CONNECTWISE_COMPANY_ID, CONNECTWISE_PUBLIC_KEY and CONNECTWISE_PRIVATE_KEY "
    "and that the API member is active"
)
_ROLE_HINT = (
    "give the API member's security role Inquire on Company > Contacts and Add/Edit/Inquire "
    "on Service Desk > Service Tickets"
)
# Letters of any script, digits, and the punctuation names carry; everything else (quotes,
# wildcards, operators) would change the meaning of a ConnectWise condition.
_NAME_WORD = re.compile(r"[^\w'.\-]|_", re.UNICODE)


@dataclass(frozen=True)
class ConnectWiseConfig:
    api_url: str  # e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0
    company_id: str
    public_key: str
    private_key: str
    client_id: str
    default_region: str = "US"  # how to read phone numbers stored without a country code
    page_size: int = 100  # ConnectWise allows up to 1000


class ConnectWisePsa:
    name = PROVIDER
    label = LABEL
    supports_tickets = True

    def __init__(self, client: httpx.AsyncClient, config: ConnectWiseConfig) -> None:
        self._client = client
        self._config = config
        self._base = config.api_url.rstrip("/")
        self._auth = httpx.BasicAuth(f"{config.company_id}+{config.public_key}", config.private_key)
        self._headers = {"clientId": config.client_id, "Accept": "application/json"}

    # ---- contacts --------------------------------------------------------------------------

    async def search(self, query: ContactQuery, *, limit: int) -> list[ContactRecord]:
        if limit <= 0:
            return []
        params: dict[str, str]
        wanted_phone: str | None = None
        wanted_email: str | None = None
        if query.kind is LookupKind.PHONE:
            pattern = _phone_pattern(query.value)
            if pattern is None:
                return []
            wanted_phone = query.value
            params = {
                "childConditions": (
                    f'communicationItems/value like "{pattern}" '
                    'AND communicationItems/communicationType="Phone"'
                )
            }
        elif query.kind is LookupKind.EMAIL:
            wanted_email = query.value.strip().lower()
            if not wanted_email or '"' in wanted_email or "\\" in wanted_email:
                return []
            params = {
                "childConditions": (
                    f'communicationItems/value="{wanted_email}" '
                    'AND communicationItems/communicationType="Email"'
                )
            }
        else:
            words = [w for w in (_NAME_WORD.sub("", part) for part in query.value.split()) if w]
            if not words:
                return []
            params = {
                "conditions": " and ".join(
                    f'(firstName like "{w}%" or lastName like "{w}%")' for w in words
                )
            }
        params |= {"fields": _CONTACT_FIELDS, "orderBy": "lastName asc, firstName asc, id asc"}

        found: list[ContactRecord] = []
        pages = self._pages("/company/contacts", params, what="search contacts")
        async with aclosing(pages):
            async for item in pages:
                record = self._contact(item, phone=wanted_phone, email=wanted_email)
                if record is not None:
                    found.append(record)
                if len(found) >= limit:
                    break
        # Active contacts first: an agent picks among them; the inactive ones are shown marked.
        return sorted(found, key=lambda record: not record.active)

    async def get(self, ref: str) -> ContactRecord | None:
        if not ref.isdigit():
            return None
        item = await self._get_one(f"/company/contacts/{ref}", what="read the contact")
        return None if item is None else self._contact(item, phone=None, email=None)

    # ---- tickets ---------------------------------------------------------------------------

    async def get_ticket(self, number: str) -> TicketRecord | None:
        number = number.strip().lstrip("#")
        if not number.isdigit():
            return None
        item = await self._get_one(f"/service/tickets/{number}", what=f"read ticket #{number}")
        return None if item is None else _ticket(item)

    async def create_ticket(self, *, contact: ContactRecord, summary: str) -> TicketRecord:
        summary = summary.strip()
        if not summary:
            raise CrmRejected("A ConnectWise ticket needs a summary.")
        if len(summary) > SUMMARY_MAX:
            raise CrmRejected(
                f"ConnectWise ticket summaries are limited to {SUMMARY_MAX} characters "
                f"(this one has {len(summary)}); shorten it."
            )
        if not contact.company_ref or not contact.company_ref.isdigit():
            raise CrmRejected(
                f"{contact.name} has no company in ConnectWise, and a ticket needs one; "
                "add the contact to a company first."
            )
        body: dict[str, Any] = {"summary": summary, "company": {"id": int(contact.company_ref)}}
        if contact.ref.isdigit():
            body["contact"] = {"id": int(contact.ref)}
        unconfirmed = (
            "ConnectWise did not confirm the new ticket; it may have been created — look for it "
            "in ConnectWise (or tag it by number) before creating another."
        )
        try:
            response = await self._send(
                "POST", "/service/tickets", json=body, what="create a ticket"
            )
            if response.status_code not in (200, 201):
                _raise_for_status(response, what="create a ticket", record=None)
            return _ticket(read_json_object(response, label=_NAME, what="create a ticket"))
        except CrmUnavailable as exc:
            if isinstance(exc, CrmRateLimited) or not may_have_arrived(exc):
                raise
            raise CrmUnavailable(unconfirmed, status=exc.status) from exc

    async def add_note(
        self, *, ticket_ref: str, text: str, key: str, first_attempt: bool
    ) -> NoteReceipt:
        if not ticket_ref.isdigit():
            raise CrmNotFound(f"#{ticket_ref} is not a ConnectWise ticket number.")
        path = f"/service/tickets/{ticket_ref}/notes"

        async def find(marker: str) -> str | None:
            notes = self._pages(path, {"fields": "id,text"}, what="read ticket notes")
            async with aclosing(notes):
                async for note in notes:
                    lines = str(note.get("text") or "").splitlines()
                    if lines and lines[-1].strip() == marker:
                        return str(note.get("id"))
            return None

        async def post(marker: str) -> str:
            body = {
                "text": f"{text.rstrip()}\n\n{marker}",
                # Exactly one tab flag: Internal, never Discussion or Resolution
                # (customer-visible).
                "detailDescriptionFlag": False,
                "internalAnalysisFlag": True,
                "resolutionFlag": False,
                "processNotifications": False,
            }
            what = f"add a note to ticket #{ticket_ref}"
            response = await self._send("POST", path, json=body, what=what)
            if response.status_code not in (200, 201):
                _raise_for_status(response, what=what, record=f"Ticket #{ticket_ref}")
            return str(read_json_object(response, label=_NAME, what=what).get("id"))

        return await idempotent_note(key=key, first_attempt=first_attempt, find=find, post=post)

    async def check_credentials(self) -> None:
        response = await self._send(
            "GET",
            "/company/contacts",
            params={"pageSize": "1", "fields": "id"},
            what="check the credentials",
        )
        if response.status_code != 200:
            _raise_for_status(response, what="check the credentials", record=None)

    # ---- HTTP ------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path_or_url: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        url = path_or_url if path_or_url.startswith("http") else self._base + path_or_url
        try:
            return await self._client.request(
                method, url, params=params, json=json, auth=self._auth, headers=self._headers
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise_request_failed(
                exc,
                label=_NAME,
                what=what,
                setting="CONNECTWISE_API_URL",
                example="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
            )

    async def _get_one(self, path: str, *, what: str) -> dict[str, Any] | None:
        response = await self._send("GET", path, what=what)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            _raise_for_status(response, what=what, record=None)
        return read_json_object(response, label=_NAME, what=what)

    async def _pages(
        self, path: str, params: dict[str, str], *, what: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield the items of a list endpoint, following `Link: <…>; rel="next"`."""
        url: str | None = self._base + path
        page_params: dict[str, str] | None = params | {
            "page": "1",
            "pageSize": str(self._config.page_size),
        }
        home = origin(self._base)
        for _ in range(_MAX_PAGES):
            assert url is not None
            response = await self._send("GET", url, params=page_params, what=what)
            if response.status_code != 200:
                _raise_for_status(response, what=what, record=None)
            try:
                items = response.json()
                if not isinstance(items, list):
                    raise TypeError("expected a JSON array")
            except (ValueError, TypeError) as exc:
                raise CrmUnavailable(
                    f"ConnectWise answered with something other than JSON when trying to {what};"
                    " check CONNECTWISE_API_URL, or try again shortly."
                ) from exc
            for item in items:
                if isinstance(item, dict):
                    yield item
            url = response.links.get("next", {}).get("url")
            # Credentials go only to the configured host, whatever a Link header says.
            if not url or origin(url) != home:
                return
            page_params = None  # the next link carries the query

    def _contact(
        self, item: dict[str, Any], *, phone: str | None, email: str | None
    ) -> ContactRecord | None:
        """Our record for a ConnectWise contact, or None when it does not really match.

        The `like` search finds candidates; the stored values are then compared exactly (in
        E.164, or case-insensitively for emails), because ConnectWise keeps free text.
        """
        items = [c for c in item.get("communicationItems") or [] if isinstance(c, dict)]
        phones = [c for c in items if c.get("communicationType") == "Phone"]
        emails = [c for c in items if c.get("communicationType") == "Email"]
        region = self._config.default_region
        matched_phone: str | None = None
        if phone is not None:
            if not any(to_e164(str(c.get("value") or ""), region) == phone for c in phones):
                return None
            matched_phone = phone
        else:
            for candidate in sorted(phones, key=lambda c: not c.get("defaultFlag")):
                matched_phone = to_e164(str(candidate.get("value") or ""), region)
                if matched_phone:
                    break
        addresses = [str(c.get("value") or "").strip() for c in emails]
        if email is not None:
            matched = [a for a in addresses if a.lower() == email]
            if not matched:
                return None
            matched_email: str | None = matched[0]
        else:
            default = [str(c.get("value") or "").strip() for c in emails if c.get("defaultFlag")]
            matched_email = next((a for a in default + addresses if a), None)
        company = item.get("company")
        if not isinstance(company, dict):
            company = {}
        name = " ".join(
            part for part in (item.get("firstName"), item.get("lastName")) if part
        ).strip()
        return ContactRecord(
            ref=str(item.get("id")),
            name=name or f"Contact {item.get('id')}",
            company=str(company.get("name") or ""),
            phone_e164=matched_phone,
            email=matched_email,
            active=not item.get("inactiveFlag", False),
            company_ref=str(company["id"]) if company.get("id") is not None else None,
        )


def _ticket(item: dict[str, Any]) -> TicketRecord:
    contact = item.get("contact") if isinstance(item.get("contact"), dict) else None
    company = item.get("company") if isinstance(item.get("company"), dict) else None
    ref = str(item.get("id"))
    return TicketRecord(
        ref=ref,
        number=ref,
        summary=str(item.get("summary") or ""),
        contact_ref=str(contact["id"]) if contact and contact.get("id") is not None else None,
        company_ref=str(company["id"]) if company and company.get("id") is not None else None,
        closed=bool(item.get("closedFlag", False)),
    )


def _phone_pattern(e164: str) -> str | None:
    """A `like` pattern matching the national number however ConnectWise stores it.

    Wildcards between the digit groups find "5135557611", "513-555-7611" and "(513) 555-7611"
    alike; the exact comparison happens on our side.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    groups = re.findall(r"\d+", national)
    significant = phonenumbers.national_significant_number(number)
    if not significant:
        return None
    # Drop a national trunk prefix (the "0" of 020 7946 0958) that stored numbers may omit.
    extra = len("".join(groups)) - len(significant)
    if extra < 0 or not "".join(groups).endswith(significant):
        groups, extra = [significant], 0
    while extra > 0:
        cut = min(extra, len(groups[0]))
        groups[0] = groups[0][cut:]
        extra -= cut
        groups = [g for g in groups if g]
    return "%" + "%".join(groups) + "%"


def _raise_for_status(response: httpx.Response, *, what: str, record: str | None) -> NoReturn:
    status = response.status_code
    body = json_object_or_empty(response)
    code = body.get("code") if isinstance(body.get("code"), str) else None
    label = f"{status} {code}" if code else str(status)
    if status == 400 and "clientid" in _text(body).lower():
        raise CrmAuthError(
            f"ConnectWise refused the request without a registered clientId ({label}): set "
            "CONNECTWISE_CLIENT_ID to the clientId issued at developer.connectwise.com.",
            status=status,
        )
    forbidden = f"ConnectWise's API member may not {what} ({label}): {_ROLE_HINT}."
    if code == "Security" and status != 401:
        raise CrmAuthError(forbidden, status=status)
    detail = _details(body)
    raise_for_status(
        response,
        unauthorized=f"ConnectWise rejected the API keys ({label}): {_KEYS_HINT}.",
        forbidden=forbidden,
        # A list endpoint does not 404; ConnectWise cloud answers 404 for a wrong site or
        # company id.
        missing=(
            f"{record} was not found in ConnectWise ({label})."
            if record is not None
            else f"ConnectWise answered 404 when trying to {what}: check CONNECTWISE_API_URL "
            "(…/v4_6_release/apis/3.0) and CONNECTWISE_COMPANY_ID."
        ),
        missing_error=CrmNotFound if record is not None else CrmAuthError,
        rate_limited=(
            f"ConnectWise is rate limiting requests ({label}); will try to {what} again later."
        ),
        server_error=(
            f"ConnectWise had a server error ({label}) when trying to {what}; try again shortly."
        ),
        refused=f"ConnectWise refused to {what} ({label}){': ' + detail if detail else ''}.",
    )


def _text(body: dict[str, Any]) -> str:
    parts = [str(body.get("code") or ""), str(body.get("message") or "")]
    for item in body.get("errors") or []:
        if isinstance(item, dict):
            parts += [str(item.get("field") or ""), str(item.get("message") or "")]
    return " ".join(parts)


def _details(body: dict[str, Any]) -> str:
    """Field-level reasons (`summary: MaxLengthField`), never raw values from the body."""
    reasons = []
    for item in body.get("errors") or []:
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            field = item.get("field")
            reasons.append(f"{field}: {item['code']}" if isinstance(field, str) else item["code"])
    return ", ".join(reasons[:3])
