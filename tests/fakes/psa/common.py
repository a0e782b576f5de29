"""What every local PSA fake shares: recorded requests, an in-memory store and a fault queue.

A vendor fake subclasses `FakePsa`, declares its routes and its own error body, and gets:
- every request recorded (`requests`), before faults or auth checks;
- `fail_next` / `delay_next` / `fail_after_write_next` / `go_down` / `come_back`;
- companies, contacts, tickets and notes kept as plain dataclasses, with ids from
  per-kind counters that start far apart, so an adapter that mixes ids up finds nothing.

Faults are applied by a thin ASGI wrapper around the vendor's Starlette app, so a vendor's
handlers only implement the happy path, auth and the vendor's own validation.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from providers.crm import ContactDirectory
from tests.support.asgi import running_server

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # as received, e.g. /v4_6_release/apis/3.0/company/contacts
    query: dict[str, str]  # last value wins for a repeated parameter
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, a dict for form bodies, the raw text otherwise, None when empty


@dataclass(frozen=True)
class FakeNote:
    text: str
    internal: bool


@dataclass(frozen=True)
class FakeTicket:
    number: str
    summary: str
    contact_ref: str | None
    company_ref: str | None


@dataclass
class StoredCompany:
    ref: str
    name: str


@dataclass
class StoredContact:
    ref: str
    name: str
    company_ref: str
    phone: str | None  # in the vendor's own stored format
    email: str | None
    active: bool = True

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def last_name(self) -> str:
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) > 1 else ""


@dataclass
class StoredTicket:
    ref: str  # the id used in API paths
    number: str  # what an agent types after '#'; equal to ref unless the vendor differs
    summary: str
    contact_ref: str | None
    company_ref: str | None
    closed: bool = False


@dataclass
class StoredNote:
    ref: str
    ticket_ref: str
    text: str
    internal: bool
    raw: dict[str, Any] = field(default_factory=dict)  # the body as the adapter sent it


@dataclass(frozen=True)
class _StatusFault:
    status: int
    retry_after: int | None
    path_contains: str


class FakePsa:
    """Base of every PSA fake; subclasses set `vendor` and `api_prefix` and implement
    `routes`, `error_response`, `is_note_write`, `adapter` and `env`."""

    vendor: str = ""
    api_prefix: str = ""  # path under the server root that *_API_URL points at

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.server_url = ""  # http://127.0.0.1:<port>, set while serving
        self.companies: dict[str, StoredCompany] = {}
        self.contacts: dict[str, StoredContact] = {}
        self.stored_tickets: dict[str, StoredTicket] = {}
        self.stored_notes: list[StoredNote] = []
        self._company_ids = itertools.count(250)
        self._contact_ids = itertools.count(1001)
        self._ticket_ids = itertools.count(43180)
        self._note_ids = itertools.count(900001)
        self._faults: deque[_StatusFault] = deque()
        self._delays: deque[float] = deque()
        self._fail_after_write = 0
        self._down = False

    # ---- what tests call -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What the vendor's *_API_URL is set to."""
        return self.server_url + self.api_prefix

    def add_company(self, name: str) -> str:
        ref = str(next(self._company_ids))
        self.companies[ref] = StoredCompany(ref, name)
        return ref

    def add_contact(
        self,
        *,
        name: str,
        company_ref: str,
        phone: str | None = None,
        email: str | None = None,
        active: bool = True,
    ) -> str:
        if company_ref not in self.companies:
            raise KeyError(f"unknown company {company_ref!r}")
        ref = str(next(self._contact_ids))
        self.contacts[ref] = StoredContact(ref, name, company_ref, phone, email, active)
        return ref

    def add_ticket(self, *, summary: str, contact_ref: str | None, company_ref: str | None) -> str:
        return self.store_ticket(
            summary=summary, contact_ref=contact_ref, company_ref=company_ref
        ).number

    def tickets(self) -> list[FakeTicket]:
        return [
            FakeTicket(t.number, t.summary, t.contact_ref, t.company_ref)
            for t in self.stored_tickets.values()
        ]

    def notes(self, ticket_number: str) -> list[FakeNote]:
        ticket = self.ticket_by_number(ticket_number)
        if ticket is None:
            return []
        return [
            FakeNote(n.text, n.internal) for n in self.stored_notes if n.ticket_ref == ticket.ref
        ]

    def fail_next(
        self,
        status: int,
        *,
        retry_after: int | None = None,
        times: int = 1,
        path_contains: str = "",
    ) -> None:
        """The next `times` requests whose path contains `path_contains` answer `status`
        with the vendor's error body, before auth or any other check."""
        self._faults.extend(_StatusFault(status, retry_after, path_contains) for _ in range(times))

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """The next `times` requests are handled (a write is stored), then the reply is held
        for `seconds`: a client that times out cannot tell whether the write happened."""
        self._delays.extend(seconds for _ in range(times))

    def fail_after_write_next(self) -> None:
        """The next note write is stored, then answered 502 (an ambiguous failure)."""
        self._fail_after_write += 1

    def go_down(self) -> None:
        self._down = True

    def come_back(self) -> None:
        self._down = False

    def reset_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._fail_after_write = 0
        self._down = False

    # ---- for vendor subclasses -------------------------------------------------------------

    def store_ticket(
        self, *, summary: str, contact_ref: str | None, company_ref: str | None
    ) -> StoredTicket:
        ref = str(next(self._ticket_ids))
        ticket = StoredTicket(ref, self.ticket_number_for(ref), summary, contact_ref, company_ref)
        self.stored_tickets[ref] = ticket
        return ticket

    def store_note(
        self, *, ticket_ref: str, text: str, internal: bool, raw: dict[str, Any]
    ) -> StoredNote:
        note = StoredNote(str(next(self._note_ids)), ticket_ref, text, internal, raw)
        self.stored_notes.append(note)
        return note

    def ticket_number_for(self, ref: str) -> str:
        """The agent-facing number of a new ticket; vendors with separate numbers override."""
        return ref

    def ticket_by_number(self, number: str) -> StoredTicket | None:
        return next((t for t in self.stored_tickets.values() if t.number == number), None)

    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def error_response(self, status: int, *, retry_after: int | None = None) -> Response:
        """The vendor's own error reply for a forced fault (and for 503 while down)."""
        raise NotImplementedError

    def is_note_write(self, method: str, path: str) -> bool:
        raise NotImplementedError

    def adapter(
        self, client: httpx.AsyncClient, *, valid_credentials: bool = True
    ) -> ContactDirectory:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    # ---- serving ---------------------------------------------------------------------------

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        async with running_server(self.asgi_app()) as url:
            self.server_url = url
            try:
                yield
            finally:
                self.server_url = ""

    def asgi_app(self) -> Callable[[Message, Receive, Send], Awaitable[None]]:
        inner = Starlette(routes=self.routes())

        async def app(scope: Message, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            await self._handle(inner, scope, receive, send)

        return app

    async def _handle(self, inner: Starlette, scope: Message, receive: Receive, send: Send) -> None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        request = Request(scope)
        path = request.url.path
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=_parse_body(bytes(body), request.headers.get("content-type", "")),
            )
        )
        if self._down:
            await self.error_response(503)(scope, receive, send)
            return
        fault = next((f for f in self._faults if f.path_contains in path), None)
        if fault is not None:
            self._faults.remove(fault)
            await self.error_response(fault.status, retry_after=fault.retry_after)(
                scope, receive, send
            )
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        sent: list[Message] = []

        async def capture(message: Message) -> None:
            sent.append(message)

        await inner(scope, replay, capture)
        status = next((m["status"] for m in sent if m["type"] == "http.response.start"), 500)
        if (
            self._fail_after_write
            and 200 <= status < 300
            and self.is_note_write(request.method, path)
        ):
            self._fail_after_write -= 1
            await self.error_response(502)(scope, receive, send)
            return
        if self._delays:
            await _hold(self._delays.popleft(), receive)
        for message in sent:
            await send(message)


async def _hold(seconds: float, receive: Receive) -> None:
    # Waiting on the client's disconnect lets the server stop promptly once a test's client
    # has timed out, instead of holding shutdown for the whole delay.
    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), timeout=seconds)


def _parse_body(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    text = body.decode(errors="replace")
    kind = content_type.split(";")[0].strip().lower()
    if kind.endswith("json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    return text
