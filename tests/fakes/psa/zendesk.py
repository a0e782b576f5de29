"""A local Zendesk Support API v2: users, organizations, search, tickets and comments.

Reproduces (reference/vendor-apis.md §1.4 and the fakes table in §5): HTTP Basic auth as
`{email}/token:{api_token}` (anything else is 401 `{"error":"Couldn't authenticate you"}`);
`GET users/search.json?query=` returning `{"users","count","next_page"}`; `GET search.json`
with `type:user` and `phone:*digits` (the leading `*` matches any stored prefix), at most 100
per page and 1,000 results (page past that: 422); `GET tickets/{id}.json` returning
`{"ticket":{id,subject,status,requester_id,organization_id,…}}`; `PUT tickets/{id}.json`
with `{"ticket":{"comment":{"body","public"}}}` storing the comment with its `public` flag
(public unless `public` is false); 404 `RecordNotFound`, 422 `RecordInvalid` with
`details`, 429 with `Retry-After`; cursor paging (`page[size]`, `meta.has_more`,
`links.next`) on a ticket's comments, and offset-only paging on users/search.json (a
`page[size]` there is a 400, as reported by integrators).
Assumes: `users/me.json` without credentials answers the anonymous user (id null);
`organizations/show_many.json?ids=` for organization names; `POST tickets.json` needs a
comment body and an existing requester, and the organization must be the requester's;
search matching is a case-insensitive substring on each word of name and email; search is
indexed immediately (the real index lags by minutes); `per_page` is capped at
`page_size_cap` (2 by default, so that every test pages); error bodies for 403/409/429/5xx.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from providers.crm.zendesk import ZendeskConfig, ZendeskSupport
from tests.fakes.psa.common import FakePsa, StoredContact, StoredNote, StoredTicket
from tests.fakes.vendor import basic_auth_matches

_ERRORS: dict[int, dict[str, Any]] = {
    401: {"error": "Couldn't authenticate you"},
    403: {
        "error": "Forbidden",
        "description": "You do not have access to this page. Please contact the account "
        "owner of this help desk for further help.",
    },
    404: {"error": "RecordNotFound", "description": "Not found"},
    409: {"error": "Conflict", "description": "The request conflicted with another update."},
    422: {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"base": [{"description": "Requester: is suspended", "error": "invalid"}]},
    },
    429: {
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed API requests per minute exceeded",
    },
}
_NOT_DIGIT = re.compile(r"\D")


class FakeZendesk(FakePsa):
    vendor = "zendesk"
    api_prefix = "/api/v2"

    def __init__(self, *, page_size_cap: int = 2) -> None:
        super().__init__()
        self.email = "pin-verify@example.com"
        self.api_token = secrets.token_urlsafe(30)
        self.page_size_cap = page_size_cap
        self.agent_role = "admin"
        self.suspended: set[str] = set()  # contact refs
        self._descriptions: dict[str, dict[str, Any]] = {}  # ticket ref -> first comment

    # ---- test controls ---------------------------------------------------------------------

    def adapter(
        self, client: httpx.AsyncClient, *, valid_credentials: bool = True
    ) -> ZendeskSupport:
        return ZendeskSupport(client, self.config(valid_credentials=valid_credentials))

    def config(self, *, valid_credentials: bool = True) -> ZendeskConfig:
        return ZendeskConfig(
            api_url=self.base_url,
            email=self.email,
            api_token=self.api_token if valid_credentials else "not-the-token",
        )

    def env(self) -> dict[str, str]:
        return {
            "CRM_PROVIDER": "zendesk",
            "ZENDESK_API_URL": self.base_url,
            "ZENDESK_EMAIL": self.email,
            "ZENDESK_API_TOKEN": self.api_token,
        }

    # ---- FakePsa hooks ---------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        p = self.api_prefix
        return [
            Route(f"{p}/users/me.json", self._me, methods=["GET"]),
            Route(f"{p}/users/search.json", self._search_users, methods=["GET"]),
            Route(f"{p}/users/{{id}}.json", self._get_user, methods=["GET"]),
            Route(f"{p}/search.json", self._search, methods=["GET"]),
            Route(f"{p}/organizations/show_many.json", self._show_orgs, methods=["GET"]),
            Route(f"{p}/organizations/{{id}}.json", self._get_org, methods=["GET"]),
            Route(f"{p}/tickets.json", self._create_ticket, methods=["POST"]),
            Route(f"{p}/tickets/{{id}}.json", self._get_ticket, methods=["GET"]),
            Route(f"{p}/tickets/{{id}}.json", self._update_ticket, methods=["PUT"]),
            Route(f"{p}/tickets/{{id}}/comments.json", self._comments, methods=["GET"]),
        ]

    def error_response(self, status: int, *, retry_after: int | None = None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        body = _ERRORS.get(status)
        if body is None:
            # 5xx come from Zendesk's edge as a short page, not the API's JSON.
            return Response(
                "<html><body>Service unavailable</body></html>",
                status,
                headers=headers,
                media_type="text/html",
            )
        return JSONResponse(body, status, headers=headers)

    def is_note_write(self, method: str, path: str) -> bool:
        return (
            method == "PUT"
            and re.fullmatch(rf"{self.api_prefix}/tickets/\d+\.json", path) is not None
        )

    # ---- auth ------------------------------------------------------------------------------

    def _credentials(self, request: Request) -> bool | None:
        """True for the right token, False for wrong credentials, None for none at all."""
        if not request.headers.get("authorization", "").partition(" ")[2]:
            return None
        return basic_auth_matches(request, f"{self.email}/token", self.api_token)

    def _refused(self, request: Request) -> Response | None:
        return None if self._credentials(request) else self.error_response(401)

    # ---- users and organizations -----------------------------------------------------------

    async def _me(self, request: Request) -> Response:
        credentials = self._credentials(request)
        if credentials is None:
            return JSONResponse(
                {"user": {"id": None, "name": "Anonymous user", "role": "end-user"}}
            )
        if not credentials:
            return self.error_response(401)
        return JSONResponse(
            {"user": {"id": 1, "name": "PIN Verify", "email": self.email, "role": self.agent_role}}
        )

    async def _search_users(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        params = request.query_params
        if any(key.startswith("page[") for key in params):
            return JSONResponse(
                {
                    "error": {
                        "title": "Invalid attribute",
                        "message": "You passed an invalid value for the page attribute. Invalid "
                        "parameter: page must be an integer from api/v2/users/search",
                    }
                },
                400,
            )
        words = (params.get("query") or "").lower().split()
        found = [
            contact
            for contact in self.contacts.values()
            if words
            and all(word in f"{contact.name}\n{contact.email or ''}".lower() for word in words)
        ]
        return self._offset_page(request, "users", [self._user_json(c) for c in found])

    async def _search(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        terms = (request.query_params.get("query") or "").split()
        if "type:user" not in terms:
            return _invalid("This fake's search supports only type:user queries.")
        found = list(self.contacts.values())
        for term in terms:
            key, _, value = term.partition(":")
            if key == "type":
                continue
            if key == "role" and value == "end-user":
                continue
            if key != "phone" or not value:
                return _invalid(f"This fake's search does not support {term!r}.")
            found = [c for c in found if _phone_matches(c.phone, value)]
        results = [{**self._user_json(c), "result_type": "user"} for c in found]
        return self._offset_page(request, "results", results, limit=1000)

    async def _get_user(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        contact = self.contacts.get(request.path_params["id"])
        if contact is None:
            return self.error_response(404)
        return JSONResponse({"user": self._user_json(contact)})

    def _user_json(self, contact: StoredContact) -> dict[str, Any]:
        return {
            "id": int(contact.ref),
            "url": f"{self.base_url}/users/{contact.ref}.json",
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "organization_id": int(contact.company_ref),
            "role": "end-user",
            "active": contact.active,
            "suspended": contact.ref in self.suspended,
        }

    async def _show_orgs(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        ids = [part for part in (request.query_params.get("ids") or "").split(",") if part]
        return JSONResponse(
            {
                "organizations": [
                    {"id": int(ref), "name": self.companies[ref].name}
                    for ref in ids
                    if ref in self.companies
                ]
            }
        )

    async def _get_org(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        company = self.companies.get(request.path_params["id"])
        if company is None:
            return self.error_response(404)
        return JSONResponse({"organization": {"id": int(company.ref), "name": company.name}})

    # ---- tickets and comments --------------------------------------------------------------

    async def _get_ticket(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        ticket = self.stored_tickets.get(request.path_params["id"])
        if ticket is None:
            return self.error_response(404)
        return JSONResponse({"ticket": self._ticket_json(ticket)})

    async def _create_ticket(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await _json_body(request)
        ticket = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(ticket, dict):
            return _invalid("Ticket: is required", field="ticket")
        comment = ticket.get("comment")
        if not isinstance(comment, dict) or not str(comment.get("body") or "").strip():
            return _invalid("Description: cannot be blank", field="description")
        requester = self.contacts.get(str(ticket.get("requester_id", "")))
        if requester is None:
            return _invalid("Requester: is invalid", field="requester")
        if requester.ref in self.suspended:
            return _invalid("Requester: is suspended", field="requester")
        org = ticket.get("organization_id")
        if org is not None and str(org) != requester.company_ref:
            return _invalid(
                "Organization: the requester is not a member of this organization",
                field="organization_id",
            )
        stored = self.store_ticket(
            summary=str(ticket.get("subject") or "").strip(),
            contact_ref=requester.ref,
            company_ref=requester.company_ref,
        )
        self._descriptions[stored.ref] = {
            "id": int(stored.ref) * 10,
            "body": comment["body"],
            "public": comment.get("public") is not False,
        }
        return JSONResponse({"ticket": self._ticket_json(stored)}, 201)

    async def _update_ticket(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        stored = self.stored_tickets.get(request.path_params["id"])
        if stored is None:
            return self.error_response(404)
        body = await _json_body(request)
        ticket = body.get("ticket") if isinstance(body, dict) else None
        comment = ticket.get("comment") if isinstance(ticket, dict) else None
        if not isinstance(comment, dict) or not str(comment.get("body") or "").strip():
            return _invalid("Comment: cannot be blank", field="comment")
        # A comment is public unless it says otherwise: a missing flag emails the requester.
        note = self.store_note(
            ticket_ref=stored.ref,
            text=str(comment["body"]),
            internal=comment.get("public") is False,
            raw=comment,
        )
        audit = {
            "id": int(note.ref) + 7_000_000,
            "ticket_id": int(stored.ref),
            "events": [
                {
                    "id": int(note.ref),
                    "type": "Comment",
                    "body": note.text,
                    "public": not note.internal,
                }
            ],
        }
        return JSONResponse({"ticket": self._ticket_json(stored), "audit": audit})

    async def _comments(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        stored = self.stored_tickets.get(request.path_params["id"])
        if stored is None:
            return self.error_response(404)
        comments = [self._descriptions[stored.ref]] if stored.ref in self._descriptions else []
        comments += [
            _comment_json(note) for note in self.stored_notes if note.ticket_ref == stored.ref
        ]
        params = request.query_params
        if "page[size]" not in params:
            return self._offset_page(request, "comments", comments)
        size = min(_int(params.get("page[size]"), default=100), self.page_size_cap)
        start = _int(params.get("page[after]"), default=0)
        if size < 1 or start < 0:
            return _invalid("Invalid pagination parameters")
        chunk = comments[start : start + size]
        has_more = start + size < len(comments)
        after = str(start + size) if has_more else None
        next_link = (
            f"{self.base_url}/tickets/{stored.ref}/comments.json?"
            + urlencode({"page[size]": size, "page[after]": after})
            if has_more
            else None
        )
        return JSONResponse(
            {
                "comments": chunk,
                "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": None},
                "links": {"next": next_link, "prev": None},
            }
        )

    def _ticket_json(self, ticket: StoredTicket) -> dict[str, Any]:
        return {
            "id": int(ticket.ref),
            "url": f"{self.base_url}/tickets/{ticket.ref}.json",
            "subject": ticket.summary,
            "raw_subject": ticket.summary,
            "status": "closed" if ticket.closed else "open",
            "requester_id": int(ticket.contact_ref) if ticket.contact_ref else None,
            "organization_id": int(ticket.company_ref) if ticket.company_ref else None,
        }

    # ---- paging ----------------------------------------------------------------------------

    def _offset_page(
        self, request: Request, field: str, items: Sequence[Any], *, limit: int | None = None
    ) -> Response:
        params = request.query_params
        size = min(_int(params.get("per_page"), default=100), 100, self.page_size_cap)
        page = _int(params.get("page"), default=1)
        if size < 1 or page < 1:
            return _invalid("Invalid pagination parameters")
        if limit is not None and (page - 1) * size >= limit:
            return _invalid("Requested response size was greater than Search Response Limits")
        reachable = items[:limit] if limit is not None else items
        chunk = reachable[(page - 1) * size : page * size]
        following = page * size < len(reachable)
        next_page = None
        if following:
            query = {**dict(params), "page": str(page + 1), "per_page": str(size)}
            next_page = f"{self.server_url}{request.url.path}?{urlencode(query)}"
        previous = None
        if page > 1:
            query = {**dict(params), "page": str(page - 1), "per_page": str(size)}
            previous = f"{self.server_url}{request.url.path}?{urlencode(query)}"
        return JSONResponse(
            {
                field: list(chunk),
                "count": len(items),
                "next_page": next_page,
                "previous_page": previous,
            }
        )


@asynccontextmanager
async def running_fake_zendesk(**options: Any) -> AsyncIterator[FakeZendesk]:
    fake = FakeZendesk(**options)
    async with fake.serving():
        yield fake


def _phone_matches(stored: str | None, pattern: str) -> bool:
    digits = _NOT_DIGIT.sub("", stored or "")
    if not digits:
        return False
    if pattern.startswith("*"):
        return digits.endswith(_NOT_DIGIT.sub("", pattern))
    return digits == _NOT_DIGIT.sub("", pattern)


def _comment_json(note: StoredNote) -> dict[str, Any]:
    return {
        "id": int(note.ref),
        "type": "Comment",
        "body": note.text,
        "plain_body": note.text,
        "public": not note.internal,
    }


def _invalid(description: str, *, field: str = "base") -> Response:
    return JSONResponse(
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {field: [{"description": description, "error": "invalid"}]},
        },
        422,
    )


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _int(value: str | None, *, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return -1
