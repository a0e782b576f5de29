"""Zendesk Support: users, organizations, tickets and private comments over the v2 REST API.

Auth is HTTP Basic with `{email}/token` and an API token. Users are found with
`users/search.json` (names, emails) and the unified `search.json` (`phone:*digits`), both
offset-paged through `next_page`; a ticket's comments are cursor-paged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

_PER_PAGE = 100  # Zendesk's maximum for search and list endpoints
_MAX_PAGES = 10  # the Search API stops at 1,000 results (10 pages of 100) anyway
_CLOSED_STATUSES = frozenset({"solved", "closed"})
_CREDENTIALS_HINT = (
    "check ZENDESK_EMAIL and ZENDESK_API_TOKEN, and that token access is enabled in "
    "Admin Center › Apps and integrations › Zendesk API"
)
_PERMISSIONS_HINT = (
    "ZENDESK_EMAIL must be an agent or admin who can see the requester's tickets and users"
)


@dataclass(frozen=True)
class ZendeskConfig:
    api_url: str  # e.g. https://acme.zendesk.com/api/v2
    email: str
    api_token: str
    default_region: str = "US"


class ZendeskSupport:
    name = "zendesk"
    label = "Zendesk"
    supports_tickets = True

    def __init__(self, client: httpx.AsyncClient, config: ZendeskConfig) -> None:
        self._client = client
        self._config = config
        self._api = config.api_url.rstrip("/")
        self._auth = httpx.BasicAuth(f"{config.email}/token", config.api_token)

    # ---- the port --------------------------------------------------------------------------

    async def search(self, query: ContactQuery, *, limit: int) -> list[ContactRecord]:
        wanted_phone: str | None = None
        if query.kind is LookupKind.PHONE:
            wanted_phone = query.value
            # No '+' and no punctuation; the leading '*' matches whatever prefix is stored.
            path = "/search.json"
            params = {"query": f"type:user phone:*{national_digits(query.value)}"}
            field = "results"
        else:
            path = "/users/search.json"
            params = {"query": query.value}
            field = "users"
        users: list[Mapping[str, Any]] = []
        url: str | None = f"{self._api}{path}"
        request_params: dict[str, str] | None = {**params, "per_page": str(_PER_PAGE)}
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            page = await self._get_json(url, params=request_params, action="search contacts")
            for user in _dicts(page.get(field)):
                if user.get("result_type", "user") != "user":
                    continue
                if not self._matches(user, query, wanted_phone):
                    continue
                users.append(user)
            if len(users) >= limit:
                break
            url, request_params = self._next_page(page.get("next_page")), None
        users.sort(key=lambda user: not _active(user))
        users = users[:limit]
        companies = await self._organization_names(user.get("organization_id") for user in users)
        return [self._contact(user, companies) for user in users]

    async def get(self, ref: str) -> ContactRecord | None:
        if not ref.isdigit():
            return None
        try:
            payload = await self._get_json(
                f"{self._api}/users/{ref}.json", params=None, action="read the contact"
            )
        except CrmNotFound:
            return None
        user = payload.get("user")
        if not isinstance(user, dict) or user.get("id") is None:
            return None
        companies = await self._organization_names([user.get("organization_id")])
        return self._contact(user, companies)

    async def get_ticket(self, number: str) -> TicketRecord | None:
        number = number.strip().lstrip("#")
        if not number.isdigit():
            return None
        try:
            payload = await self._get_json(
                f"{self._api}/tickets/{number}.json",
                params=None,
                action=f"read ticket #{number}",
            )
        except CrmNotFound:
            return None
        ticket = payload.get("ticket")
        return self._ticket(ticket) if isinstance(ticket, dict) and ticket.get("id") else None

    async def create_ticket(self, *, contact: ContactRecord, summary: str) -> TicketRecord:
        summary = summary.strip()
        if not summary:
            raise CrmRejected("A Zendesk ticket needs a subject.")
        if not contact.ref.isdigit():
            raise CrmRejected(f"{contact.name} is not a Zendesk user; pick a Zendesk contact.")
        ticket: dict[str, Any] = {
            "subject": summary,
            # Zendesk requires a first comment; a private one does not email the requester.
            "comment": {"body": f"Opened from PIN Verify: {summary}", "public": False},
            "requester_id": int(contact.ref),
        }
        if contact.company_ref and contact.company_ref.isdigit():
            ticket["organization_id"] = int(contact.company_ref)
        response = await self._request(
            "POST",
            f"{self._api}/tickets.json",
            json={"ticket": ticket},
            action="create the ticket",
            writing=True,
        )
        created = _json(response, "create the ticket").get("ticket")
        if not isinstance(created, dict) or not created.get("id"):
            raise CrmUnavailable(
                "Zendesk answered the new ticket without an id; check Zendesk before retrying, "
                "the ticket may exist."
            )
        return self._ticket(created)

    async def add_note(
        self, *, ticket_ref: str, text: str, key: str, first_attempt: bool
    ) -> NoteReceipt:
        if not ticket_ref.isdigit():
            raise CrmNotFound(f"#{ticket_ref} is not a Zendesk ticket number.")

        async def post(marker: str) -> str:
            response = await self._request(
                "PUT",
                f"{self._api}/tickets/{ticket_ref}.json",
                json={"ticket": {"comment": {"body": f"{text}\n\n{marker}", "public": False}}},
                action=f"add a note to ticket #{ticket_ref}",
                writing=True,
            )
            return _comment_id(_json(response, "add the note").get("audit"))

        return await idempotent_note(
            key=key,
            first_attempt=first_attempt,
            find=lambda marker: self._find_comment(ticket_ref, marker),
            post=post,
        )

    async def check_credentials(self) -> None:
        """One cheap authenticated read; raises with what the admin should fix."""
        payload = await self._get_json(
            f"{self._api}/users/me.json", params=None, action="read the API user"
        )
        me = payload.get("user")
        # Without valid credentials users/me answers 200 with the anonymous user (id null).
        if not isinstance(me, dict) or me.get("id") is None:
            raise CrmAuthError(
                f"Zendesk did not recognise the API credentials: {_CREDENTIALS_HINT}."
            )
        if me.get("role") not in ("agent", "admin"):
            raise CrmAuthError(f"Zendesk signed in as an end user: {_PERMISSIONS_HINT}.")

    # ---- mapping ---------------------------------------------------------------------------

    def _matches(
        self, user: Mapping[str, Any], query: ContactQuery, wanted_phone: str | None
    ) -> bool:
        if wanted_phone is not None:
            # `phone:*digits` is a suffix match; only an exact E.164 match is the caller.
            return to_e164(user.get("phone"), self._config.default_region) == wanted_phone
        if query.kind is LookupKind.EMAIL:
            email = user.get("email")
            return isinstance(email, str) and email.casefold() == query.value.casefold()
        return True

    def _contact(self, user: Mapping[str, Any], companies: Mapping[int, str]) -> ContactRecord:
        org = user.get("organization_id")
        email = user.get("email")
        return ContactRecord(
            ref=str(user["id"]),
            name=str(user.get("name") or "").strip(),
            company=companies.get(org, "") if isinstance(org, int) else "",
            phone_e164=to_e164(user.get("phone"), self._config.default_region),
            email=email.strip() if isinstance(email, str) and email.strip() else None,
            active=_active(user),
            company_ref=str(org) if isinstance(org, int) else None,
        )

    def _ticket(self, ticket: Mapping[str, Any]) -> TicketRecord:
        ticket_id = str(ticket["id"])
        requester, org = ticket.get("requester_id"), ticket.get("organization_id")
        agent_ui = self._api.removesuffix("/api/v2")
        return TicketRecord(
            ref=ticket_id,
            number=ticket_id,
            summary=str(ticket.get("subject") or ticket.get("raw_subject") or ""),
            contact_ref=str(requester) if isinstance(requester, int) else None,
            company_ref=str(org) if isinstance(org, int) else None,
            closed=ticket.get("status") in _CLOSED_STATUSES,
            url=f"{agent_ui}/agent/tickets/{ticket_id}",
        )

    async def _organization_names(self, ids: Iterable[Any]) -> dict[int, str]:
        wanted = sorted({org for org in ids if isinstance(org, int)})
        if not wanted:
            return {}
        payload = await self._get_json(
            f"{self._api}/organizations/show_many.json",
            params={"ids": ",".join(str(org) for org in wanted)},
            action="read the contacts' organizations",
        )
        return {
            org["id"]: str(org.get("name") or "")
            for org in _dicts(payload.get("organizations"))
            if isinstance(org.get("id"), int)
        }

    async def _find_comment(self, ticket_ref: str, marker: str) -> str | None:
        url: str | None = f"{self._api}/tickets/{ticket_ref}/comments.json"
        params: dict[str, str] | None = {"page[size]": str(_PER_PAGE)}
        while url is not None:
            try:
                page = await self._get_json(
                    url, params=params, action=f"read the notes of ticket #{ticket_ref}"
                )
            except CrmNotFound:
                return None
            for comment in _dicts(page.get("comments")):
                bodies = (comment.get("body"), comment.get("plain_body"))
                if any(isinstance(body, str) and marker in body for body in bodies):
                    return str(comment.get("id", ""))
            meta, links = page.get("meta"), page.get("links")
            has_more = isinstance(meta, dict) and meta.get("has_more") is True
            following = links.get("next") if has_more and isinstance(links, dict) else None
            url = self._next_page(following if following else page.get("next_page"))
            params = None
        return None

    def _next_page(self, link: Any) -> str | None:
        # Credentials go only to our own Zendesk: a next link elsewhere ends the paging.
        if isinstance(link, str) and link.startswith(f"{self._api}/"):
            return link
        return None

    # ---- HTTP ------------------------------------------------------------------------------

    async def _get_json(
        self, url: str, *, params: dict[str, str] | None, action: str
    ) -> Mapping[str, Any]:
        return _json(await self._request("GET", url, params=params, action=action), action)

    async def _request(
        self,
        method: str,
        url: str,
        *,
        action: str,
        params: dict[str, str] | None = None,
        json: Any = None,
        writing: bool = False,
    ) -> httpx.Response:
        try:
            response = await self._client.request(
                method,
                url,
                params=params,
                json=json,
                auth=self._auth,
                headers={"Accept": "application/json"},
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise_transport_error(
                exc, label="Zendesk", action=action, writing=writing, setting="ZENDESK_API_URL"
            )
        if response.status_code >= 400:
            _raise_for_status(response, action)
        return response


def _raise_for_status(response: httpx.Response, action: str) -> NoReturn:
    status = response.status_code
    details = _validation_details(response)
    raise_for_status(
        response,
        unauthorized=f"Zendesk refused the API credentials (401): {_CREDENTIALS_HINT}.",
        forbidden=f"Zendesk does not allow the API user to {action} (403): {_PERMISSIONS_HINT}.",
        missing=f"Zendesk could not {action}: it does not exist (404).",
        rate_limited=(
            f"Zendesk is rate limiting the API (429) and could not {action}; it will be retried "
            "shortly."
        ),
        server_error=(
            f"Zendesk had a server error ({status}) and could not {action}; try again shortly."
        ),
        refused=f"Zendesk refused to {action} (HTTP {status}){f': {details}' if details else ''}.",
    )


def _validation_details(response: httpx.Response) -> str:
    """RecordInvalid's field messages (e.g. "Requester: is suspended"), short and plain."""
    payload = json_object_or_empty(response)
    messages: list[str] = []
    details = payload.get("details")
    if isinstance(details, dict):
        for problems in details.values():
            for problem in _dicts(problems):
                description = problem.get("description")
                if isinstance(description, str):
                    messages.append(description)
    if not messages and isinstance(payload.get("description"), str):
        messages.append(payload["description"])
    text = "; ".join(messages)
    return text if len(text) <= 200 else text[:197] + "..."


def _json(response: httpx.Response, action: str) -> Mapping[str, Any]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise CrmUnavailable(
            f"Zendesk answered with something that is not JSON while trying to {action}; "
            "check ZENDESK_API_URL ends in /api/v2."
        ) from exc
    if not isinstance(payload, dict):
        raise CrmUnavailable(f"Zendesk answered with an unexpected shape while trying to {action}.")
    return payload


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _active(user: Mapping[str, Any]) -> bool:
    # `active` is false for deleted users; a suspended user cannot be helped either.
    return user.get("active", True) is not False and not user.get("suspended")


def _comment_id(audit: Any) -> str:
    if not isinstance(audit, dict):
        return ""
    for event in _dicts(audit.get("events")):
        if event.get("type") == "Comment" and event.get("id") is not None:
            return str(event["id"])
    return str(audit.get("id", ""))
