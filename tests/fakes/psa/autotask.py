"""A local Autotask PSA REST API v1.0 (reference/vendor-apis.md §1.2 and the fakes table).

Reproduces: `GET zoneInformation?user=` answering with the fake's own zone URL (a separate
path, so an adapter that skips discovery finds nothing) [doc]; the three auth headers, not
Basic [doc]; a wrong secret → 401 with an empty body, an unknown user or integration code →
500 `{"errors": […]}` [obs]; `POST /{Entity}/query` evaluating `eq noteq gt gte lt lte
beginsWith endsWith contains exist notExist in notIn` and `and`/`or` groups, rejecting unknown
operators and fields with a 500 [obs], capping `MaxRecords` at 500 and OR conditions at 500
[doc]; `pageDetails.nextPageUrl` accepted only as a POST carrying the same filter again
(GET → 405, no body → 500) [obs]; `/query/count`; `GET /{Entity}/{id}` → `{"item": …}` or 404;
`POST /Tickets` → `{"itemId": n}`; `POST /Tickets/{id}/Notes` requiring ticketID, description
(≤ 32000), noteType and publish (missing → 500) [doc/obs]; `POST /TicketNotes` → 404 [obs];
`POST /TicketNotes/query`; an hourly request cap answered with 429 [doc: 10,000/hour].
Assumes: string comparisons ignore case (SQL Server collation); the 500 texts for an unknown
user or integration code (configurable: `bad_user_error`, `bad_code_error`); a note is internal
unless `publish` is 1 ("All Autotask Users", visible in the client portal); ticket status 5 is
Complete; a new ticket needs companyID, title, status and priority, and its contact must
belong to that company.
The filter language (operators, groups, the OR cap) lives in `autotask_filters`.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from providers.crm.autotask import AutotaskConfig, AutotaskPsa
from tests.fakes.psa.autotask_filters import QueryError, filter_of, matching
from tests.fakes.psa.common import FakePsa, StoredContact, StoredNote, StoredTicket

GLOBAL_PREFIX = "/ATServicesRest"  # where AUTOTASK_API_URL points: the zone lookup
ZONE_PREFIX = "/zone5/ATServicesRest"  # what zoneInformation answers
MAX_RECORDS = 500
DESCRIPTION_MAX = 32000
NOTE_TYPES = frozenset({1, 2, 3})
PUBLISH_VALUES = frozenset({1, 2, 4})
CLIENT_VISIBLE_PUBLISH = 1
COMPLETE = 5


class FakeAutotask(FakePsa):
    vendor = "autotask"
    api_prefix = GLOBAL_PREFIX

    def __init__(self) -> None:
        super().__init__()
        self.username = "pinverify-api@acme.example"
        self.secret = secrets.token_hex(8)
        self.integration_code = secrets.token_hex(12).upper()
        self.bad_user_error = "Unable to authenticate: the user name is not valid."
        self.bad_code_error = "IntegrationCode is invalid."
        self.hourly_cap: int | None = None  # requests answered before a 429, when set
        self.adapter_page_size = 2  # small, so every multi-result test pages
        self._pagings: dict[str, tuple[str, int, str]] = {}  # token → entity, offset, body
        self._served = 0
        self._ticket_seq = 0

    # ---- FakePsa ---------------------------------------------------------------------------

    @property
    def zone_url(self) -> str:
        return self.server_url + ZONE_PREFIX + "/"

    def routes(self) -> list[BaseRoute]:
        z = ZONE_PREFIX + "/V1.0"
        return [
            Route(f"{GLOBAL_PREFIX}/V1.0/zoneInformation", self._zone_information),
            # Every zone host answers zoneInformation too.
            Route(f"{z}/zoneInformation", self._zone_information),
            Route(f"{z}/TicketNotes", self._ticket_notes_root, methods=["POST"]),
            Route(f"{z}/{{entity}}/query", self._query, methods=["POST"]),
            Route(f"{z}/{{entity}}/query/count", self._count, methods=["POST"]),
            Route(f"{z}/{{entity}}/query/next", self._next, methods=["GET", "POST"]),
            Route(f"{z}/Tickets", self._create_ticket, methods=["POST"]),
            Route(f"{z}/Tickets/{{id}}/Notes", self._create_note, methods=["POST"]),
            Route(f"{z}/{{entity}}/{{id}}", self._get, methods=["GET"]),
        ]

    def error_response(self, status: int, *, retry_after: int | None = None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        if status == 401:
            return Response(b"", status_code=401, headers=headers)
        if status in (502, 503, 504):
            return Response(
                "<html><body>Service Unavailable</body></html>",
                status_code=status,
                media_type="text/html",
                headers=headers,
            )
        messages = {
            403: "The logged in Resource does not have adequate permissions.",
            404: "The requested resource does not exist.",
            409: "The object was changed by another user.",
            429: "Request limit exceeded.",
            500: "An unexpected error occurred while processing the request.",
        }
        return _errors(status, messages.get(status, "Error."), headers=headers)

    def is_note_write(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith("/Notes")

    def adapter(self, client: httpx.AsyncClient, *, valid_credentials: bool = True) -> AutotaskPsa:
        return AutotaskPsa(client, self.config(valid_credentials=valid_credentials))

    def config(
        self,
        *,
        valid_credentials: bool = True,
        username: str | None = None,
        integration_code: str | None = None,
    ) -> AutotaskConfig:
        return AutotaskConfig(
            api_url=self.base_url + "/",
            username=username or self.username,
            secret=self.secret if valid_credentials else "not-the-secret",
            integration_code=integration_code or self.integration_code,
            page_size=self.adapter_page_size,
        )

    def env(self) -> dict[str, str]:
        return {
            "CRM_PROVIDER": self.vendor,
            "AUTOTASK_API_URL": self.base_url + "/",
            "AUTOTASK_USERNAME": self.username,
            "AUTOTASK_SECRET": self.secret,
            "AUTOTASK_INTEGRATION_CODE": self.integration_code,
        }

    def ticket_number_for(self, ref: str) -> str:
        self._ticket_seq += 1
        return f"T{datetime.now(UTC):%Y%m%d}.{self._ticket_seq:04d}"

    def note_fields(self, ticket_number: str) -> list[dict[str, Any]]:
        """The note bodies as the adapter sent them (noteType, publish, title…)."""
        ticket = self.ticket_by_number(ticket_number)
        return [n.raw for n in self.stored_notes if ticket and n.ticket_ref == ticket.ref]

    # ---- JSON shapes -----------------------------------------------------------------------

    def entities(self, entity: str) -> list[dict[str, Any]] | None:
        name = entity.lower()
        if name == "contacts":
            return [self._contact_json(c) for c in self.contacts.values()]
        if name == "companies":
            return [
                {"id": int(c.ref), "companyName": c.name, "isActive": True, "companyType": 1}
                for c in self.companies.values()
            ]
        if name == "tickets":
            return [self._ticket_json(t) for t in self.stored_tickets.values()]
        if name == "ticketnotes":
            return [_note_json(n) for n in self.stored_notes]
        return None

    def _contact_json(self, contact: StoredContact) -> dict[str, Any]:
        return {
            "id": int(contact.ref),
            "firstName": contact.first_name,
            "lastName": contact.last_name,
            "emailAddress": contact.email,
            "emailAddress2": None,
            "emailAddress3": None,
            "phone": contact.phone,
            "mobilePhone": None,
            "alternatePhone": None,
            "companyID": int(contact.company_ref),
            "isActive": 1 if contact.active else 0,
            "primaryContact": False,
            "title": None,
        }

    def _ticket_json(self, ticket: StoredTicket) -> dict[str, Any]:
        return {
            "id": int(ticket.ref),
            "ticketNumber": ticket.number,
            "title": ticket.summary,
            "description": None,
            "status": COMPLETE if ticket.closed else 1,
            "priority": 2,
            "companyID": int(ticket.company_ref) if ticket.company_ref else None,
            "contactID": int(ticket.contact_ref) if ticket.contact_ref else None,
            "queueID": None,
            "assignedResourceID": None,
        }

    # ---- handlers --------------------------------------------------------------------------

    def _refuse(self, request: Request) -> Response | None:
        if self.hourly_cap is not None:
            self._served += 1
            if self._served > self.hourly_cap:
                return _errors(429, "The hourly request limit has been exceeded.")
        user = request.headers.get("username", "")
        if not hmac.compare_digest(user.encode(), self.username.encode()):
            return _errors(500, self.bad_user_error)
        code = request.headers.get("apiintegrationcode", "")
        if not hmac.compare_digest(code.encode(), self.integration_code.encode()):
            return _errors(500, self.bad_code_error)
        secret = request.headers.get("secret", "")
        if not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return Response(b"", status_code=401)
        return None

    async def _zone_information(self, request: Request) -> Response:
        if request.query_params.get("user", "").lower() != self.username.lower():
            return _errors(500, "Zone information could not be determined")
        return JSONResponse(
            {
                "zoneName": "Fake Zone 5",
                "url": self.zone_url,
                "webUrl": self.server_url + "/web/",
                "ci": 5,
                "dataBaseType": "Production",
            }
        )

    async def _ticket_notes_root(self, request: Request) -> Response:
        return _errors(404, "The requested resource does not exist.")

    async def _query(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        raw = await request.body()
        return self._answer(request, request.path_params["entity"], raw, offset=0)

    async def _next(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        if request.method != "POST":
            return _errors(405, "The requested resource does not support http method 'GET'.")
        paging = self._pagings.get(request.query_params.get("paging", ""))
        raw = await request.body()
        if paging is None or not raw:
            return _errors(500, "Object reference not set to an instance of an object.")
        entity, offset, first_body = paging
        if filter_of(raw) != filter_of(first_body.encode()):
            return _errors(500, "The paging token does not match this query.")
        return self._answer(request, entity, raw, offset=offset)

    async def _count(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        entity = request.path_params["entity"]
        try:
            matched = self._matching(entity, await request.body())
        except QueryError as exc:
            return _errors(500, str(exc))
        return JSONResponse({"queryCount": len(matched)})

    def _matching(self, entity: str, raw: bytes) -> list[dict[str, Any]]:
        records = self.entities(entity)
        if records is None:
            raise QueryError(f"Entity {entity} is not queryable.")
        return matching(records, raw)

    def _answer(self, request: Request, entity: str, raw: bytes, *, offset: int) -> Response:
        try:
            matched = self._matching(entity, raw)
            body = json.loads(raw)
            size = body.get("MaxRecords", MAX_RECORDS)
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise QueryError("MaxRecords must be a positive integer.")
            size = min(size, MAX_RECORDS)
        except QueryError as exc:
            return _errors(500, str(exc))
        chunk = matched[offset : offset + size]
        include = body.get("IncludeFields")
        if isinstance(include, list) and include:
            wanted = {str(f).lower() for f in include} | {"id"}
            chunk = [{k: v for k, v in item.items() if k.lower() in wanted} for item in chunk]
        next_url = None
        if offset + size < len(matched):
            token = secrets.token_urlsafe(12)
            self._pagings[token] = (entity, offset + size, raw.decode())
            next_url = f"{self.zone_url}V1.0/{entity}/query/next?paging={token}"
        return JSONResponse(
            {
                "items": chunk,
                "pageDetails": {
                    "count": len(chunk),
                    "requestCount": size,
                    "prevPageUrl": None,
                    "nextPageUrl": next_url,
                },
            }
        )

    async def _get(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        records = self.entities(request.path_params["entity"])
        if records is None:
            return _errors(404, "The requested resource does not exist.")
        ref = request.path_params["id"]
        item = next((r for r in records if str(r.get("id")) == ref), None)
        if item is None:
            return _errors(404, f"No matching records found for id {ref}.")
        return JSONResponse({"item": item})

    async def _create_ticket(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _errors(500, "The request body is not a Ticket.")
        missing = [f for f in ("companyID", "title", "status", "priority") if body.get(f) is None]
        if missing:
            return _errors(500, f"Missing required fields: {', '.join(missing)}.")
        title = body["title"]
        if not isinstance(title, str) or not title.strip() or len(title) > 255:
            return _errors(500, "title must be between 1 and 255 characters.")
        company_ref = str(body["companyID"])
        if company_ref not in self.companies:
            return _errors(500, f"Value {company_ref} for companyID does not exist.")
        contact_ref = None
        if body.get("contactID") is not None:
            contact_ref = str(body["contactID"])
            contact = self.contacts.get(contact_ref)
            if contact is None or contact.company_ref != company_ref:
                return _errors(500, "contactID must be a contact of companyID.")
        ticket = self.store_ticket(summary=title, contact_ref=contact_ref, company_ref=company_ref)
        return JSONResponse({"itemId": int(ticket.ref)})

    async def _create_note(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        ticket = self.stored_tickets.get(request.path_params["id"])
        if ticket is None:
            return _errors(404, f"No matching records found for id {request.path_params['id']}.")
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _errors(500, "The request body is not a TicketNote.")
        missing = [f for f in ("ticketID", "description", "noteType", "publish") if f not in body]
        if missing:
            return _errors(500, f"Missing required fields: {', '.join(missing)}.")
        if str(body["ticketID"]) != ticket.ref:
            return _errors(500, "ticketID does not match the parent ticket.")
        description = body["description"]
        if not isinstance(description, str) or not description.strip():
            return _errors(500, "description is required.")
        if len(description) > DESCRIPTION_MAX:
            return _errors(500, "description exceeds 32000 characters.")
        if body["noteType"] not in NOTE_TYPES:
            return _errors(500, f"Value {body['noteType']} for noteType is not a valid value.")
        if body["publish"] not in PUBLISH_VALUES:
            return _errors(500, f"Value {body['publish']} for publish is not a valid value.")
        note = self.store_note(
            ticket_ref=ticket.ref,
            text=description,
            internal=body["publish"] != CLIENT_VISIBLE_PUBLISH,
            raw=body,
        )
        return JSONResponse({"itemId": int(note.ref)})


@asynccontextmanager
async def running_fake_autotask() -> AsyncIterator[FakeAutotask]:
    fake = FakeAutotask()
    async with fake.serving():
        yield fake


def _note_json(note: StoredNote) -> dict[str, Any]:
    return {
        "id": int(note.ref),
        "ticketID": int(note.ticket_ref),
        "title": note.raw.get("title"),
        "description": note.text,
        "noteType": note.raw.get("noteType"),
        "publish": note.raw.get("publish"),
        "createDateTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "creatorResourceID": 29682885,
    }


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _errors(status: int, *messages: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"errors": list(messages)}, status_code=status, headers=headers)
