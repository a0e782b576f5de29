"""HaloPSA: end users, tickets and private actions over Halo's REST API (OAuth2 client credentials).

Halo's tokens are short-lived, so the adapter caches one, refreshes it shortly before
`expires_in` runs out, and re-authenticates once when the API still answers 401 (a token
revoked or expired early). Bodies of POST /api/Tickets and /api/Actions are JSON arrays.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from providers.crm import (
    ContactQuery,
    ContactRecord,
    CrmAuthError,
    CrmNotFound,
    CrmRejected,
    CrmUnavailable,
    LookupKind,
    NoteReceipt,
    TicketRecord,
)
from providers.crm.http import idempotent_note, raise_for_status, raise_transport_error
from providers.crm.phones import national_digits, to_e164
from providers.http import json_object_or_empty

# Halo's default "Closed" status; other closed-like statuses are tenant-defined.
_CLOSED_STATUS_ID = 9
_PAGE_SIZE = 100
# A phone search matches on the last digits (see `search`), so a large tenant can return
# many candidates; stop after this many pages rather than walk the whole user list.
_MAX_PAGES = 10
_CREDENTIALS_HINT = (
    "check HALOPSA_CLIENT_ID, HALOPSA_CLIENT_SECRET and HALOPSA_TENANT, and that the API "
    "application in Halo (Configuration › Integrations › HaloPSA API) uses Client ID and "
    "Secret (Services) and is active"
)
_PERMISSIONS_HINT = (
    "give the API application's agent access to customers and tickets "
    "(read:customers, read:tickets, edit:tickets)"
)


@dataclass(frozen=True)
class HaloConfig:
    api_url: str  # the "Resource Server", e.g. https://acme.halopsa.com/api
    auth_url: str  # the "Authorisation Server", e.g. https://acme.halopsa.com/auth
    client_id: str
    client_secret: str
    tenant: str | None = None  # hosted Halo only
    default_region: str = "US"


class HaloPsa:
    name = "halopsa"
    label = "HaloPSA"
    supports_tickets = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: HaloConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._config = config
        self._clock = clock
        self._api = config.api_url.rstrip("/")
        self._token_url = f"{config.auth_url.rstrip('/')}/token"
        self._token: str | None = None
        self._token_renew_at = 0.0
        self._token_lock = asyncio.Lock()

    # ---- the port --------------------------------------------------------------------------

    async def search(self, query: ContactQuery, *, limit: int) -> list[ContactRecord]:
        params: dict[str, str] = {"includeinactive": "true"}
        wanted_phone: str | None = None
        if query.kind is LookupKind.PHONE:
            wanted_phone = query.value
            # Halo stores numbers as typed ("(513) 555-7611", "01234 567890"), so a search for
            # the E.164 form or the full national number can miss. The last four digits are
            # contiguous in every common format; exact matching happens here, on E.164.
            params["search"] = national_digits(query.value)[-4:]
            params["search_phonenumbers"] = "true"
        else:
            params["search"] = query.value
        found: list[ContactRecord] = []
        seen = 0
        for page_no in range(1, _MAX_PAGES + 1):
            page = await self._get_json(
                "/Users",
                params={
                    **params,
                    "pageinate": "true",
                    "page_size": str(_PAGE_SIZE),
                    "page_no": str(page_no),
                },
                action="search contacts",
            )
            users = _list_field(page, "users")
            for user in users:
                record = self._contact(user, wanted_phone=wanted_phone)
                if record is None:
                    continue
                if query.kind is LookupKind.EMAIL and (
                    record.email is None or record.email.casefold() != query.value.casefold()
                ):
                    continue
                found.append(record)
            total = page.get("record_count") if isinstance(page, dict) else None
            seen += len(users)
            if not users or len(found) >= limit or (isinstance(total, int) and seen >= total):
                break
        # Active contacts first: an inactive one is shown but cannot be sent to.
        found.sort(key=lambda record: not record.active)
        return found[:limit]

    async def get(self, ref: str) -> ContactRecord | None:
        if not ref.isdigit():
            return None
        try:
            user = await self._get_json(f"/Users/{ref}", params=None, action="read the contact")
        except CrmNotFound:
            return None
        return self._contact(user, wanted_phone=None) if isinstance(user, dict) else None

    async def get_ticket(self, number: str) -> TicketRecord | None:
        number = number.strip().lstrip("#")
        if not number.isdigit():
            return None
        try:
            ticket = await self._get_json(
                f"/Tickets/{number}", params=None, action=f"read ticket #{number}"
            )
        except CrmNotFound:
            return None
        return self._ticket(ticket) if isinstance(ticket, dict) and ticket.get("id") else None

    async def create_ticket(self, *, contact: ContactRecord, summary: str) -> TicketRecord:
        summary = summary.strip()
        if not summary:
            raise CrmRejected("A HaloPSA ticket needs a summary.")
        if not contact.ref.isdigit():
            raise CrmRejected(f"{contact.name} is not a HaloPSA user; pick a HaloPSA contact.")
        item: dict[str, Any] = {
            "summary": summary,
            "details": f"Opened from PIN Verify for {contact.name}.",
            "user_id": int(contact.ref),
        }
        if contact.company_ref and contact.company_ref.isdigit():
            item["client_id"] = int(contact.company_ref)
        response = await self._request(
            "POST", "/Tickets", json=[item], action="create the ticket", writing=True
        )
        created = _first_object(_json(response, "create the ticket"))
        if created is None or not created.get("id"):
            raise CrmUnavailable(
                "HaloPSA answered the new ticket without an id; check HaloPSA before retrying, "
                "the ticket may exist."
            )
        return self._ticket(created)

    async def add_note(
        self, *, ticket_ref: str, text: str, key: str, first_attempt: bool
    ) -> NoteReceipt:
        if not ticket_ref.isdigit():
            raise CrmNotFound(f"#{ticket_ref} is not a HaloPSA ticket number.")

        async def post(marker: str) -> str:
            action = {
                "ticket_id": int(ticket_ref),
                "note": f"{text}\n\n{marker}",
                "outcome": "Private Note",
                "hiddenfromuser": True,
                "sendemail": False,
            }
            response = await self._request(
                "POST",
                "/Actions",
                json=[action],
                action=f"add a note to ticket #{ticket_ref}",
                writing=True,
            )
            created = _first_object(_json(response, "add the note"))
            note_id = created.get("id") if created is not None else None
            return str(note_id) if note_id is not None else ""

        return await idempotent_note(
            key=key,
            first_attempt=first_attempt,
            find=lambda marker: self._find_note(ticket_ref, marker),
            post=post,
        )

    async def check_credentials(self) -> None:
        """One token request and one cheap read; raises with what the admin should fix."""
        await self._get_json(
            "/Users",
            params={"pageinate": "true", "page_size": "1", "page_no": "1"},
            action="read users (credentials check)",
        )

    # ---- mapping ---------------------------------------------------------------------------

    def _contact(self, user: Any, *, wanted_phone: str | None) -> ContactRecord | None:
        if not isinstance(user, dict) or user.get("id") in (None, ""):
            return None
        numbers = [
            to_e164(user.get(field), self._config.default_region)
            for field in ("mobilenumber", "phonenumber", "mobilenumber2")
        ]
        if wanted_phone is not None and wanted_phone not in numbers:
            return None
        client_id = user.get("client_id")
        email = user.get("emailaddress")
        return ContactRecord(
            ref=str(user["id"]),
            name=str(user.get("name") or "").strip(),
            company=str(user.get("client_name") or ""),
            # The mobile first: it is the one that takes an SMS.
            phone_e164=next((number for number in numbers if number), None),
            email=email.strip() if isinstance(email, str) and email.strip() else None,
            active=not bool(user.get("inactive")),
            company_ref=str(client_id) if isinstance(client_id, int) and client_id > 0 else None,
        )

    def _ticket(self, ticket: Mapping[str, Any]) -> TicketRecord:
        ticket_id = str(ticket["id"])
        user_id, client_id = ticket.get("user_id"), ticket.get("client_id")
        portal = self._api.removesuffix("/api")
        return TicketRecord(
            ref=ticket_id,
            number=ticket_id,
            summary=str(ticket.get("summary") or ""),
            contact_ref=str(user_id) if isinstance(user_id, int) and user_id > 0 else None,
            company_ref=str(client_id) if isinstance(client_id, int) and client_id > 0 else None,
            closed=ticket.get("status_id") == _CLOSED_STATUS_ID,
            url=f"{portal}/tickets?id={ticket_id}",
        )

    async def _find_note(self, ticket_ref: str, marker: str) -> str | None:
        try:
            page = await self._get_json(
                "/Actions",
                params={"ticket_id": ticket_ref, "excludesys": "true"},
                action=f"read the notes of ticket #{ticket_ref}",
            )
        except CrmNotFound:
            return None
        for action in _list_field(page, "actions"):
            note = action.get("note") if isinstance(action, dict) else None
            if isinstance(note, str) and marker in note:
                return str(action.get("id", ""))
        return None

    # ---- HTTP ------------------------------------------------------------------------------

    async def _get_json(self, path: str, *, params: dict[str, str] | None, action: str) -> Any:
        response = await self._request("GET", path, params=params, action=action)
        return _json(response, action)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: dict[str, str] | None = None,
        json: Any = None,
        writing: bool = False,
    ) -> httpx.Response:
        token = await self._access_token(stale=None)
        response = await self._send(method, path, token, params, json, action, writing)
        if response.status_code == 401:
            # Halo says 401 for an expired token: a write answered 401 was not applied, so
            # one retry with a fresh token is safe for reads and writes alike.
            token = await self._access_token(stale=token)
            response = await self._send(method, path, token, params, json, action, writing)
        if response.status_code >= 400:
            _raise_for_status(response, action)
        return response

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: dict[str, str] | None,
        json: Any,
        action: str,
        writing: bool,
    ) -> httpx.Response:
        try:
            return await self._client.request(
                method,
                f"{self._api}{path}",
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise_transport_error(
                exc, label="HaloPSA", action=action, writing=writing, setting="HALOPSA_API_URL"
            )

    async def _access_token(self, *, stale: str | None) -> str:
        """The cached token, renewed when near expiry or when `stale` was just refused."""
        async with self._token_lock:
            fresh = self._token is not None and self._clock() < self._token_renew_at
            if fresh and self._token != stale:
                assert self._token is not None
                return self._token
            self._token = None
            token, expires_in = await self._fetch_token()
            # Renew a little early (a quarter of the lifetime, at most a minute) so a request
            # never leaves with a token that expires on the way.
            self._token_renew_at = self._clock() + expires_in - min(60.0, expires_in / 4)
            self._token = token
            return token

    async def _fetch_token(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._config.client_id,
            "client_secret": self._config.client_secret,
            "scope": "all",
        }
        params = {"tenant": self._config.tenant} if self._config.tenant else None
        action = "sign in"
        try:
            response = await self._client.post(self._token_url, data=form, params=params)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise_transport_error(
                exc, label="HaloPSA", action=action, writing=False, setting="HALOPSA_AUTH_URL"
            )
        if response.status_code in (400, 401, 403):
            error = _oauth_error(response)
            if error == "invalid_scope":
                raise CrmAuthError(
                    "HaloPSA refused the token scope 'all': allow the API application "
                    "all permissions it needs (customers and tickets).",
                    status=response.status_code,
                )
            raise CrmAuthError(
                f"HaloPSA refused the API credentials ({error or response.status_code}): "
                f"{_CREDENTIALS_HINT}.",
                status=response.status_code,
            )
        if response.status_code == 404:
            raise CrmAuthError(
                "HaloPSA has no token endpoint at HALOPSA_AUTH_URL: set it to the "
                "Authorisation Server shown in Halo's API settings (…/auth).",
                status=404,
            )
        if response.status_code >= 300:
            _raise_for_status(response, action)
        payload = _json(response, action)
        token = payload.get("access_token") if isinstance(payload, dict) else None
        expires_in = payload.get("expires_in") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise CrmUnavailable("HaloPSA answered the sign-in without a token; try again shortly.")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        return token, max(lifetime, 0.0)


def _raise_for_status(response: httpx.Response, action: str) -> NoReturn:
    status = response.status_code
    raise_for_status(
        response,
        unauthorized=(
            f"HaloPSA refused a fresh token while trying to {action} (401): {_CREDENTIALS_HINT}."
        ),
        forbidden=(
            f"HaloPSA does not allow the API application to {action} (403): {_PERMISSIONS_HINT}."
        ),
        missing=f"HaloPSA could not {action}: it does not exist (404).",
        rate_limited=(
            f"HaloPSA is throttling requests (429) and could not {action}; it will be retried "
            "shortly."
        ),
        server_error=(
            f"HaloPSA had a server error ({status}) and could not {action}; try again shortly."
        ),
        refused=(
            f"HaloPSA refused to {action} (HTTP {status}); check the ticket and contact in HaloPSA."
        ),
    )


def _json(response: httpx.Response, action: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise CrmUnavailable(
            f"HaloPSA answered with something that is not JSON while trying to {action}; "
            "check HALOPSA_API_URL points at the Resource Server (…/api)."
        ) from exc


def _oauth_error(response: httpx.Response) -> str | None:
    error = json_object_or_empty(response).get("error")
    return error if isinstance(error, str) else None


def _list_field(payload: Any, name: str) -> list[Any]:
    if isinstance(payload, dict):
        value = payload.get(name)
        return value if isinstance(value, list) else []
    # Some Halo endpoints answer a bare array when not paginating.
    return payload if isinstance(payload, list) else []


def _first_object(payload: Any) -> dict[str, Any] | None:
    # A POST of a one-item array may be answered with the object or with a one-item array.
    if isinstance(payload, list):
        payload = payload[0] if payload else None
    return payload if isinstance(payload, dict) else None
