"""Autotask PSA's REST transport (API v1.0), as `providers.crm.autotask` uses it: finding the
tenant's zone, the API user's headers on every call, item reads, `POST /{Entity}/query` paging,
and Autotask's error answers as `CrmError`s.

Shapes follow reference/vendor-apis.md §1.2: the zone is discovered once with
`zoneInformation?user=`, every call carries `ApiIntegrationCode`/`UserName`/`Secret` headers,
queries page through `pageDetails.nextPageUrl` (POSTed again with the same body), and errors
are `{"errors": ["…"]}` — with an unknown user or integration code answered by a 500.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx

from providers.crm import CrmAuthError, CrmNotFound, CrmUnavailable
from providers.crm.http import origin, raise_for_status, raise_request_failed, read_json_object
from providers.http import json_object_or_empty

LABEL = "Autotask"
_MAX_PAGES = 20  # a query never walks more than this many pages
_CREDENTIALS_HINT = "check AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE"
# Autotask answers an unknown API user or integration code with a 500; these words in its
# error text tell that apart from an outage.
_AUTH_500 = re.compile(
    r"integration ?code|user ?name|username|authenticat|credential|impersonat|zone information",
    re.IGNORECASE,
)


class AutotaskRest:
    """One tenant's API: the zone is looked up on first use and kept."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_url: str,
        username: str,
        secret: str,
        integration_code: str,
    ) -> None:
        self._client = client
        self._api_url = api_url
        self._username = username
        self._headers = {
            "ApiIntegrationCode": integration_code,
            "UserName": username,
            "Secret": secret,
            "Accept": "application/json",
        }
        self._zone: str | None = None
        self._zone_lock = asyncio.Lock()

    async def zone_url(self) -> str:
        """The tenant's zone (e.g. https://webservices5.autotask.net/ATServicesRest/), cached."""
        if self._zone is not None:
            return self._zone
        async with self._zone_lock:
            if self._zone is not None:
                return self._zone
            what = "find the Autotask zone"
            url = self._api_url.rstrip("/") + "/V1.0/zoneInformation"
            response = await self._request(
                "GET", url, params={"user": self._username}, what=what, auth=False
            )
            if response.status_code != 200:
                refused = response.status_code in (400, 401, 403, 404)
                if refused or _AUTH_500.search(_error_text(response)):
                    raise CrmAuthError(
                        f"Autotask does not know the API user ({response.status_code}): check "
                        "AUTOTASK_USERNAME (the API user's username) and AUTOTASK_API_URL.",
                        status=response.status_code,
                    )
                raise_for_answer(response, what=what, record=None)
            zone = read_json_object(response, label=LABEL, what=what).get("url")
            if not isinstance(zone, str) or urlsplit(zone).scheme not in ("http", "https"):
                raise CrmUnavailable(
                    "Autotask's zone lookup gave no usable URL; try again shortly."
                )
            self._zone = zone.rstrip("/") + "/V1.0/"
            return self._zone

    async def send(self, method: str, path: str, *, what: str, json: Any = None) -> httpx.Response:
        """`path` on the tenant's zone, as the API user; `what` names the errors' action."""
        return await self._request(method, await self.zone_url() + path, json=json, what=what)

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

    async def get_item(self, path: str, *, what: str) -> dict[str, Any] | None:
        """The `item` of `GET path`; None when Autotask has no such record."""
        response = await self.send("GET", path, what=what)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise_for_answer(response, what=what, record=None)
        item = read_json_object(response, label=LABEL, what=what).get("item")
        return item if isinstance(item, dict) else None

    async def query(
        self, entity: str, body: dict[str, Any], *, what: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield the items of `POST /{entity}/query`, following `pageDetails.nextPageUrl`."""
        url: str | None = await self.zone_url() + f"{entity}/query"
        zone_origin = origin(await self.zone_url())
        for _ in range(_MAX_PAGES):
            assert url is not None
            # nextPageUrl must be POSTed with the same filter body again (a GET is a 405).
            response = await self._request("POST", url, json=body, what=what)
            if response.status_code != 200:
                raise_for_answer(response, what=what, record=None)
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


def _error_text(response: httpx.Response) -> str:
    errors = json_object_or_empty(response).get("errors")
    if not isinstance(errors, list):
        return ""
    return " ".join(str(e) for e in errors if isinstance(e, str))


def raise_for_answer(response: httpx.Response, *, what: str, record: str | None) -> NoReturn:
    """Raise the CrmError a failed Autotask answer stands for, in Autotask's words."""
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
