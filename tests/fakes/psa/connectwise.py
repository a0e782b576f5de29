"""A local ConnectWise PSA REST API 3.0 (reference/vendor-apis.md §1.1 and the fakes table).

Reproduces [doc]: Basic auth `companyId+publicKey:privateKey` checked exactly; the `clientId`
header required on every call (missing or unregistered → 400 naming clientId); `conditions`
and `childConditions` (`= != < <= > >= like contains in`, `and`/`or`, parentheses, quoted
strings, slash paths; a malformed condition → 400 InvalidObject); `fields`; `page`/`pageSize`
(default 25, max 1000) with a `Link` header; bare JSON arrays; contacts whose phones and
emails live in `communicationItems`; `GET/POST /service/tickets`; `GET/POST
/service/tickets/{id}/notes` answering 201 and requiring exactly one of the three tab flags;
error bodies `{"code": "NotFound"|"InvalidObject"|"Security", "message", "errors"}`.
Assumes: string comparisons are case-insensitive (SQL Server's default collation); a
`childConditions` expression matches when one array element satisfies all of it; 401/409/
429/500 body codes (Unauthorized, Conflict, TooManyRequests, UnexpectedError); a new ticket
needs only summary and company (a default board), and its contact must belong to that company.
The `conditions`/`childConditions`/`orderBy` query language lives in `connectwise_query`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from providers.crm.connectwise import ConnectWiseConfig, ConnectWisePsa
from tests.fakes.psa.common import FakePsa, StoredContact, StoredTicket
from tests.fakes.psa.connectwise_query import ConditionError, ordered_by, parse_conditions
from tests.fakes.vendor import basic_auth_matches

API_PREFIX = "/v4_6_release/apis/3.0"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
SUMMARY_MAX = 100

_ERROR_CODES = {
    400: ("InvalidObject", "The request is invalid."),
    401: ("Unauthorized", "Authentication failed."),
    403: ("Security", "You do not have security permission to access this resource."),
    404: ("NotFound", "The requested resource was not found."),
    409: ("Conflict", "The record was changed by another user."),
    429: ("TooManyRequests", "Too many requests."),
    500: ("UnexpectedError", "An unexpected error occurred."),
}


class FakeConnectWise(FakePsa):
    vendor = "connectwise"
    api_prefix = API_PREFIX

    def __init__(self) -> None:
        super().__init__()
        self.company_id = "pinverify"
        self.public_key = secrets.token_hex(8)
        self.private_key = secrets.token_hex(8)
        self.client_id = "2f1c9a5e-7d4b-4c1e-9f0a-" + secrets.token_hex(6)
        self.max_page_size = MAX_PAGE_SIZE
        self.adapter_page_size = 2  # small, so every multi-result test pages

    # ---- FakePsa ---------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        p = API_PREFIX
        return [
            Route(f"{p}/company/contacts", self._contacts, methods=["GET"]),
            Route(f"{p}/company/contacts/{{id}}", self._contact, methods=["GET"]),
            Route(f"{p}/service/tickets", self._create_ticket, methods=["POST"]),
            Route(f"{p}/service/tickets/{{id}}", self._ticket, methods=["GET"]),
            Route(f"{p}/service/tickets/{{id}}/notes", self._notes, methods=["GET", "POST"]),
        ]

    def error_response(self, status: int, *, retry_after: int | None = None) -> Response:
        if status in (502, 503, 504):
            # What a load balancer in front of the API answers: not ConnectWise's JSON.
            return Response(
                "<html><body>Service Unavailable</body></html>",
                status_code=status,
                media_type="text/html",
                headers=_retry_header(retry_after),
            )
        code, message = _ERROR_CODES.get(status, ("UnexpectedError", "Error."))
        return _error(status, code, message, headers=_retry_header(retry_after))

    def is_note_write(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith("/notes")

    def adapter(
        self, client: httpx.AsyncClient, *, valid_credentials: bool = True
    ) -> ConnectWisePsa:
        return ConnectWisePsa(client, self.config(valid_credentials=valid_credentials))

    def config(self, *, valid_credentials: bool = True) -> ConnectWiseConfig:
        return ConnectWiseConfig(
            api_url=self.base_url,
            company_id=self.company_id,
            public_key=self.public_key,
            private_key=self.private_key if valid_credentials else "not-the-private-key",
            client_id=self.client_id,
            page_size=self.adapter_page_size,
        )

    def env(self) -> dict[str, str]:
        return {
            "CRM_PROVIDER": self.vendor,
            "CONNECTWISE_API_URL": self.base_url,
            "CONNECTWISE_COMPANY_ID": self.company_id,
            "CONNECTWISE_PUBLIC_KEY": self.public_key,
            "CONNECTWISE_PRIVATE_KEY": self.private_key,
            "CONNECTWISE_CLIENT_ID": self.client_id,
        }

    # ---- JSON shapes -----------------------------------------------------------------------

    def contact_json(self, contact: StoredContact) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        if contact.phone is not None:
            items.append(
                {
                    "id": len(items) + 1,
                    "type": {"id": 2, "name": "Direct"},
                    "value": contact.phone,
                    "extension": None,
                    "defaultFlag": True,
                    "communicationType": "Phone",
                }
            )
        if contact.email is not None:
            items.append(
                {
                    "id": len(items) + 1,
                    "type": {"id": 1, "name": "Email"},
                    "value": contact.email,
                    "extension": None,
                    "defaultFlag": True,
                    "communicationType": "Email",
                    "domain": "@" + contact.email.rpartition("@")[2],
                }
            )
        return {
            "id": int(contact.ref),
            "firstName": contact.first_name,
            "lastName": contact.last_name,
            "company": self._company_ref_json(contact.company_ref),
            "site": {"id": 1, "name": "Main"},
            "inactiveFlag": not contact.active,
            "defaultPhoneType": "Direct" if contact.phone else None,
            "defaultPhoneNbr": contact.phone,
            "communicationItems": items,
            "types": [],
            "_info": {"lastUpdated": _now(), "updatedBy": "pinverify"},
        }

    def ticket_json(self, ticket: StoredTicket) -> dict[str, Any]:
        contact = self.contacts.get(ticket.contact_ref or "")
        return {
            "id": int(ticket.ref),
            "summary": ticket.summary,
            "board": {"id": 1, "name": "Service Board"},
            "status": {"id": 1, "name": "Closed" if ticket.closed else "New"},
            "company": self._company_ref_json(ticket.company_ref),
            "contact": {"id": int(contact.ref), "name": contact.name} if contact else None,
            "contactEmailAddress": contact.email if contact else None,
            "contactPhoneNumber": contact.phone if contact else None,
            "priority": {"id": 4, "name": "Priority 3 - Normal Response"},
            "closedFlag": ticket.closed,
            "_info": {"lastUpdated": _now(), "updatedBy": "pinverify"},
        }

    def _company_ref_json(self, ref: str | None) -> dict[str, Any] | None:
        company = self.companies.get(ref or "")
        if company is None:
            return None
        identifier = re.sub(r"\W", "", company.name)[:25] or f"C{company.ref}"
        return {"id": int(company.ref), "identifier": identifier, "name": company.name}

    # ---- handlers --------------------------------------------------------------------------

    def _refuse(self, request: Request) -> Response | None:
        client_id = request.headers.get("clientid")
        if not client_id or client_id != self.client_id:
            return _error(
                400,
                "InvalidObject",
                "clientId is required: register an integration to get a clientId.",
                errors=[{"code": "Required", "field": "clientId", "message": "clientId"}],
            )
        user = f"{self.company_id}+{self.public_key}"
        if not basic_auth_matches(request, user, self.private_key):
            return _error(401, "Unauthorized", "Authentication failed.")
        return None

    async def _contacts(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        items = [self.contact_json(c) for c in self.contacts.values()]
        return self._list(request, items, resource="contact")

    async def _contact(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        contact = self.contacts.get(request.path_params["id"])
        if contact is None:
            return _not_found("Contact")
        return JSONResponse(_only_fields(self.contact_json(contact), request))

    async def _ticket(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        ticket = self.stored_tickets.get(request.path_params["id"])
        if ticket is None:
            return _not_found("Ticket")
        return JSONResponse(_only_fields(self.ticket_json(ticket), request))

    async def _create_ticket(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _invalid("ticket", "body", "InvalidObject", "The request body is not JSON.")
        summary = body.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            return _invalid("ticket", "summary", "Required", "summary is required.")
        if len(summary) > SUMMARY_MAX:
            return _invalid("ticket", "summary", "MaxLengthField", "summary is too long.")
        company_ref = str(_ref_id(body.get("company")) or "")
        if company_ref not in self.companies:
            return _invalid("ticket", "company", "NotFound", "company was not found.")
        contact_ref: str | None = None
        if body.get("contact") is not None:
            contact_ref = str(_ref_id(body.get("contact")) or "")
            contact = self.contacts.get(contact_ref)
            if contact is None:
                return _invalid("ticket", "contact", "NotFound", "contact was not found.")
            if contact.company_ref != company_ref:
                return _invalid(
                    "ticket", "contact", "InvalidObject", "contact is not in the company."
                )
        ticket = self.store_ticket(
            summary=summary, contact_ref=contact_ref, company_ref=company_ref
        )
        return JSONResponse(self.ticket_json(ticket), status_code=201)

    async def _notes(self, request: Request) -> Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        ticket = self.stored_tickets.get(request.path_params["id"])
        if ticket is None:
            return _not_found("Ticket")
        if request.method == "GET":
            notes = [
                _note_json(n.ref, ticket.ref, n.raw)
                for n in self.stored_notes
                if n.ticket_ref == ticket.ref
            ]
            return self._list(request, notes, resource="note")
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _invalid("note", "body", "InvalidObject", "The request body is not JSON.")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _invalid("note", "text", "Required", "text is required.")
        flags = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")
        if sum(body.get(flag) is True for flag in flags) != 1:
            return _invalid(
                "note", "detailDescriptionFlag", "InvalidObject", "Exactly one flag must be true."
            )
        note = self.store_note(
            ticket_ref=ticket.ref,
            text=text,
            internal=body.get("internalAnalysisFlag") is True,
            raw=body,
        )
        return JSONResponse(_note_json(note.ref, ticket.ref, body), status_code=201)

    def _list(self, request: Request, items: list[dict[str, Any]], *, resource: str) -> Response:
        query = request.query_params
        try:
            if conditions := query.get("conditions"):
                matcher = parse_conditions(conditions, items[0] if items else None)
                items = [item for item in items if matcher(item)]
            if child := query.get("childConditions"):
                matcher = parse_conditions(child, items[0] if items else None, child=True)
                items = [item for item in items if matcher(item)]
            items = ordered_by(items, query.get("orderBy"))
            page = int(query.get("page", "1"))
            size = min(int(query.get("pageSize", str(DEFAULT_PAGE_SIZE))), self.max_page_size)
            if page < 1 or size < 1:
                raise ConditionError("page and pageSize must be positive")
        except (ConditionError, ValueError) as exc:
            return _invalid(resource, "conditions", "InvalidObject", str(exc))
        chunk = items[(page - 1) * size : page * size]
        last = max(1, -(-len(items) // size))
        links = [f'<{request.url.include_query_params(page=1)}>; rel="first"']
        if page > 1:
            links.append(f'<{request.url.include_query_params(page=page - 1)}>; rel="prev"')
        if page < last:
            links.append(f'<{request.url.include_query_params(page=page + 1)}>; rel="next"')
        links.append(f'<{request.url.include_query_params(page=last)}>; rel="last"')
        body = [_only_fields(item, request) for item in chunk]
        return JSONResponse(body, headers={"Link": ", ".join(links)})


@asynccontextmanager
async def running_fake_connectwise() -> AsyncIterator[FakeConnectWise]:
    fake = FakeConnectWise()
    async with fake.serving():
        yield fake


def _only_fields(item: dict[str, Any], request: Request) -> dict[str, Any]:
    wanted = request.query_params.get("fields")
    if not wanted:
        return item
    names = {name.strip().split("/")[0].lower() for name in wanted.split(",") if name.strip()}
    return {key: val for key, val in item.items() if key.lower() in names}


def _note_json(ref: str, ticket_ref: str, raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(ref),
        "ticketId": int(ticket_ref),
        "text": raw.get("text"),
        "detailDescriptionFlag": raw.get("detailDescriptionFlag", False),
        "internalAnalysisFlag": raw.get("internalAnalysisFlag", False),
        "resolutionFlag": raw.get("resolutionFlag", False),
        "member": {"id": 176, "identifier": "pinverify-api", "name": "PIN Verify API"},
        "dateCreated": _now(),
        "createdBy": "pinverify-api",
        "_info": {"lastUpdated": _now()},
    }


def _ref_id(value: Any) -> int | None:
    if isinstance(value, dict) and isinstance(value.get("id"), int):
        return int(value["id"])
    return None


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _error(
    status: int,
    code: str,
    message: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


def _invalid(resource: str, field: str, code: str, message: str) -> Response:
    return _error(
        400,
        "InvalidObject",
        f"{resource} object is invalid",
        errors=[{"code": code, "message": message, "resource": resource, "field": field}],
    )


def _not_found(what: str) -> Response:
    return _error(404, "NotFound", f"{what} not found")


def _retry_header(retry_after: int | None) -> dict[str, str] | None:
    return {"Retry-After": str(retry_after)} if retry_after is not None else None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
