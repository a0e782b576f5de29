"""A local HaloPSA: OAuth2 client credentials with short-lived tokens, Users, Tickets, Actions.

Reproduces (reference/vendor-apis.md §1.3 and the fakes table in §5): `GET /api/authinfo`;
`POST /auth/token` (form: grant_type=client_credentials, client_id, client_secret, scope;
`?tenant=` for hosted Halo) issuing a Bearer token with `expires_in`; an expired or unknown
token answers 401; `GET /api/Users?search=` matching name and email, and phone numbers only
with `search_phonenumbers=true`, with `includeinactive`, `pageinate`/`page_size`/`page_no`
and `record_count`; `GET /api/Users/{id}`; `GET /api/Tickets/{id}` (paths case-insensitive);
`POST /api/Tickets` and `POST /api/Actions` taking only a JSON array (an object is 400);
unknown ticket 404.
Assumes (not documented by Halo): tokens live `token_ttl` seconds (2 by default, to exercise
refresh; Halo's are longer); bad client credentials are an OAuth2 400 `invalid_client`;
error bodies are short plain text; a POST of one item is answered with the created object;
`GET /api/Actions?ticket_id=` lists a ticket's actions as `{"record_count", "actions"}`;
phone search is a plain substring match on the stored text; `page_size` is capped at
`page_size_cap` (2 by default, so that every test pages); a user's `client_id` must match
the ticket's `client_id` on create; `hiddenfromuser` is the only "internal" flag.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from providers.crm.halopsa import HaloConfig, HaloPsa
from tests.fakes.psa.common import FakePsa, StoredContact, StoredTicket

Handler = Callable[[Request, re.Match[str]], Awaitable[Response]]

_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "An error has occurred.",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class _Site:
    id: int
    name: str
    client_ref: str


class FakeHalo(FakePsa):
    vendor = "halopsa"
    api_prefix = "/api"

    def __init__(
        self, *, tenant: str | None = None, token_ttl: int = 2, page_size_cap: int = 2
    ) -> None:
        super().__init__()
        self.client_id = "pinverify-" + secrets.token_hex(4)
        self.client_secret = secrets.token_urlsafe(24)
        self.tenant = tenant
        self.token_ttl = token_ttl
        self.page_size_cap = page_size_cap
        self.tokens_issued = 0
        self.mobiles: dict[str, str] = {}  # contact ref -> mobilenumber, stored format
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._sites: dict[str, _Site] = {}  # client ref -> its "Main" site
        self._site_ids = itertools.count(18)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/api/authinfo"), self._authinfo),
            ("POST", re.compile(r"/auth/token"), self._token),
            ("GET", re.compile(r"/api/users"), self._list_users),
            ("GET", re.compile(r"/api/users/(?P<id>[^/]+)"), self._get_user),
            ("GET", re.compile(r"/api/tickets/(?P<id>[^/]+)"), self._get_ticket),
            ("POST", re.compile(r"/api/tickets"), self._create_tickets),
            ("GET", re.compile(r"/api/actions"), self._list_actions),
            ("POST", re.compile(r"/api/actions"), self._create_actions),
        ]

    # ---- test controls ---------------------------------------------------------------------

    @property
    def auth_url(self) -> str:
        return self.server_url + "/auth"

    def add_company(self, name: str) -> str:
        ref = super().add_company(name)
        self._sites[ref] = _Site(next(self._site_ids), "Main", ref)
        return ref

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on, as when Halo expired it early."""
        self._tokens.clear()

    def adapter(self, client: httpx.AsyncClient, *, valid_credentials: bool = True) -> HaloPsa:
        return HaloPsa(client, self.config(valid_credentials=valid_credentials))

    def config(self, *, valid_credentials: bool = True) -> HaloConfig:
        return HaloConfig(
            api_url=self.base_url,
            auth_url=self.auth_url,
            client_id=self.client_id,
            client_secret=self.client_secret if valid_credentials else "not-the-secret",
            tenant=self.tenant,
        )

    def env(self) -> dict[str, str]:
        values = {
            "CRM_PROVIDER": "halopsa",
            "HALOPSA_API_URL": self.base_url,
            "HALOPSA_AUTH_URL": self.auth_url,
            "HALOPSA_CLIENT_ID": self.client_id,
            "HALOPSA_CLIENT_SECRET": self.client_secret,
        }
        if self.tenant:
            values["HALOPSA_TENANT"] = self.tenant
        return values

    # ---- FakePsa hooks ---------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        # One route for everything: Halo's paths are case-insensitive (/api/tickets works too).
        methods = ["GET", "POST", "PUT", "DELETE"]
        return [Route("/{path:path}", self._dispatch, methods=methods)]

    def error_response(self, status: int, *, retry_after: int | None = None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return PlainTextResponse(_STATUS_TEXT.get(status, "Error"), status, headers=headers)

    def is_note_write(self, method: str, path: str) -> bool:
        return method == "POST" and path.lower().rstrip("/") == "/api/actions"

    # ---- dispatch and auth -----------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path.lower().rstrip("/")
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            allowed = True
            if method == request.method:
                if handler not in (self._authinfo, self._token) and not self._authorised(request):
                    return Response(
                        status_code=401,
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                    )
                return await handler(request, match)
        return self.error_response(405 if allowed else 404)

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expiry = self._tokens.get(token) if scheme.lower() == "bearer" else None
        return expiry is not None and time.monotonic() < expiry

    async def _authinfo(self, request: Request, match: re.Match[str]) -> Response:
        return JSONResponse({"auth_url": self.auth_url, "tenant_id": self.tenant or ""})

    async def _token(self, request: Request, match: re.Match[str]) -> Response:
        if request.headers.get("content-type", "").split(";")[0] != (
            "application/x-www-form-urlencoded"
        ):
            return _oauth_error("invalid_request")
        # Parsed by hand: Starlette's form parser needs python-multipart.
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if self.tenant is not None and request.query_params.get("tenant") != self.tenant:
            return _oauth_error("invalid_request")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type")
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            str(form.get("client_secret", "")), self.client_secret
        ):
            return _oauth_error("invalid_client")
        if form.get("scope") != "all":
            return _oauth_error("invalid_scope")
        token = secrets.token_urlsafe(32)
        self._tokens[token] = time.monotonic() + self.token_ttl
        self.tokens_issued += 1
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}
        )

    # ---- users -----------------------------------------------------------------------------

    async def _list_users(self, request: Request, match: re.Match[str]) -> Response:
        params = request.query_params
        term = (params.get("search") or "").strip().lower()
        phones = _flag(params.get("search_phonenumbers"))
        matches = [
            contact
            for contact in self.contacts.values()
            if (contact.active or _flag(params.get("includeinactive")))
            and (not term or term in self._searchable(contact, phones=phones))
        ]
        if not _flag(params.get("pageinate")):
            count = _int(params.get("count"), default=100)
            return JSONResponse(
                {
                    "record_count": len(matches),
                    "users": [self._user_json(c) for c in matches[:count]],
                }
            )
        size = min(_int(params.get("page_size"), default=50), self.page_size_cap)
        page_no = _int(params.get("page_no"), default=1)
        if size < 1 or page_no < 1:
            return self.error_response(400)
        chunk = matches[(page_no - 1) * size : page_no * size]
        return JSONResponse(
            {
                "page_no": page_no,
                "page_size": size,
                "record_count": len(matches),
                "users": [self._user_json(c) for c in chunk],
            }
        )

    def _searchable(self, contact: StoredContact, *, phones: bool) -> str:
        parts = [contact.name, contact.email or ""]
        if phones:
            parts += [contact.phone or "", self.mobiles.get(contact.ref, "")]
        return "\n".join(parts).lower()

    async def _get_user(self, request: Request, match: re.Match[str]) -> Response:
        contact = self.contacts.get(match["id"])
        if contact is None:
            return self.error_response(404)
        return JSONResponse(self._user_json(contact))

    def _user_json(self, contact: StoredContact) -> dict[str, Any]:
        site = self._sites[contact.company_ref]
        return {
            "id": int(contact.ref),
            "name": contact.name,
            "firstname": contact.first_name,
            "surname": contact.last_name,
            "emailaddress": contact.email or "",
            "phonenumber": contact.phone or "",
            "mobilenumber": self.mobiles.get(contact.ref, ""),
            "client_id": int(contact.company_ref),
            "client_name": self.companies[contact.company_ref].name,
            "site_id": site.id,
            "site_name": site.name,
            "inactive": not contact.active,
            "use": "user",
        }

    # ---- tickets ---------------------------------------------------------------------------

    async def _get_ticket(self, request: Request, match: re.Match[str]) -> Response:
        ticket = self.stored_tickets.get(match["id"])
        if ticket is None:
            return self.error_response(404)
        return JSONResponse(self._ticket_json(ticket))

    async def _create_tickets(self, request: Request, match: re.Match[str]) -> Response:
        items = await _array_body(request)
        if items is None:
            return PlainTextResponse("The request body must be a JSON array.", 400)
        created: list[dict[str, Any]] = []
        for item in items:
            summary = str(item.get("summary") or "").strip()
            user_id = item.get("user_id")
            contact = self.contacts.get(str(user_id)) if user_id is not None else None
            if not summary or (user_id is not None and contact is None):
                return PlainTextResponse("Please enter a valid summary and user.", 400)
            client_id = item.get("client_id")
            company_ref = str(client_id) if client_id is not None else None
            if contact is not None:
                if company_ref is not None and company_ref != contact.company_ref:
                    return PlainTextResponse("The user does not belong to this client.", 400)
                company_ref = contact.company_ref
            if company_ref is not None and company_ref not in self.companies:
                return PlainTextResponse("Client not found.", 400)
            ticket = self.store_ticket(
                summary=summary,
                contact_ref=contact.ref if contact else None,
                company_ref=company_ref,
            )
            created.append(self._ticket_json(ticket))
        return JSONResponse(created[0] if len(created) == 1 else created, 201)

    def _ticket_json(self, ticket: StoredTicket) -> dict[str, Any]:
        contact = self.contacts.get(ticket.contact_ref or "")
        company = self.companies.get(ticket.company_ref or "")
        return {
            "id": int(ticket.ref),
            "summary": ticket.summary,
            "details": "",
            "status_id": 9 if ticket.closed else 1,
            "client_id": int(company.ref) if company else 0,
            "client_name": company.name if company else "",
            "site_id": self._sites[company.ref].id if company else 0,
            "user_id": int(contact.ref) if contact else 0,
            "user_name": contact.name if contact else "",
            "agent_id": 1,
            "team": "Service Desk",
        }

    # ---- actions (notes) -------------------------------------------------------------------

    async def _list_actions(self, request: Request, match: re.Match[str]) -> Response:
        ticket_ref = request.query_params.get("ticket_id", "")
        if ticket_ref not in self.stored_tickets:
            return self.error_response(404)
        actions = [
            {
                "id": int(note.ref),
                "ticket_id": int(note.ticket_ref),
                "note": note.text,
                "outcome": note.raw.get("outcome", ""),
                "hiddenfromuser": note.internal,
            }
            for note in self.stored_notes
            if note.ticket_ref == ticket_ref
        ]
        return JSONResponse({"record_count": len(actions), "actions": actions})

    async def _create_actions(self, request: Request, match: re.Match[str]) -> Response:
        items = await _array_body(request)
        if items is None:
            return PlainTextResponse("The request body must be a JSON array.", 400)
        created: list[dict[str, Any]] = []
        for item in items:
            ticket_ref = str(item.get("ticket_id", ""))
            if ticket_ref not in self.stored_tickets:
                return self.error_response(404)
            text = item.get("note")
            if not isinstance(text, str) or not text.strip():
                return PlainTextResponse("Please enter a note.", 400)
            note = self.store_note(
                ticket_ref=ticket_ref,
                text=text,
                internal=item.get("hiddenfromuser") is True,
                raw=item,
            )
            created.append(
                {
                    "id": int(note.ref),
                    "ticket_id": int(ticket_ref),
                    "note": text,
                    "outcome": item.get("outcome", ""),
                    "hiddenfromuser": note.internal,
                }
            )
        return JSONResponse(created[0] if len(created) == 1 else created, 201)


@asynccontextmanager
async def running_fake_halo(**options: Any) -> AsyncIterator[FakeHalo]:
    fake = FakeHalo(**options)
    async with fake.serving():
        yield fake


async def _array_body(request: Request) -> list[dict[str, Any]] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        return None
    return body


def _oauth_error(error: str) -> Response:
    return JSONResponse({"error": error}, 400)


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"


def _int(value: str | None, *, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return -1
