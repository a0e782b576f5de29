"""A local Vonage SMS API: HTTP 200 with an error status inside, served over HTTP.

Reproduces: `POST /sms/json` (form fields api_key, api_secret, from, to, text, type, callback,
client-ref; or HTTP Basic auth) answering 200 with `messages[]` even on failure (status 4 for
bad credentials, 2 for a missing field, 3 for a malformed `to`), a long text split into parts
with one message-id each, `GET /account/get-balance` (Basic auth or query parameters; 401 on
bad credentials), magic destination numbers for the documented statuses, faults a test asks
for, and delivery receipts posted back to the app (`post_delivery_receipt`).
Assumes (not verified against Vonage): the exact `error-text` wording, and that the balance
endpoint answers 401 with an empty JSON problem body.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.vendor import ScriptedFake, basic_auth_matches

# Destinations (digits, as Vonage takes them) that get a documented error status.
MAGIC_TO_STATUS: dict[str, tuple[str, str]] = {
    "447700900003": ("3", "Invalid to address"),
    "447700900006": ("6", "Unroutable message - rejected"),
    "447700900007": ("7", "Number barred."),
    "447700900009": ("9", "Quota Exceeded - rejected"),
}
_DIGITS = re.compile(r"[1-9]\d{6,14}")
_ERROR_TEXT = {
    "1": "Throughput Rate Exceeded - please wait [ 1000 ] and retry",
    "2": "Missing Parameters",
    "4": "Bad Credentials",
    "5": "Internal Error",
    "9": "Quota Exceeded - rejected",
}
# GSM-7 parts hold 153 septets and UCS-2 parts 67 code units once a message is split.
_SINGLE = {"text": 160, "unicode": 70}
_PART = {"text": 153, "unicode": 67}


@dataclass(frozen=True)
class VonageSentSms:
    message_ids: tuple[str, ...]
    to: str
    from_: str
    text: str
    type: str
    client_ref: str | None
    callback: str | None


@dataclass(frozen=True)
class VonageRequest:
    method: str
    path: str
    form: dict[str, str]
    authenticated: bool


@dataclass
class _Fault:
    # Either an SMS API status under HTTP 200, or a bare HTTP status.
    status: str | None
    http_status: int
    retry_after: str | None


class FakeVonage(ScriptedFake[_Fault]):
    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        balance: float = 15.53,
    ) -> None:
        super().__init__()
        self.api_key = api_key or secrets.token_hex(4)
        self.api_secret = api_secret or secrets.token_hex(8)
        self.balance = balance
        self.messages: list[VonageSentSms] = []
        self.requests: list[VonageRequest] = []

    def reset(self) -> None:
        self.messages.clear()
        self.requests.clear()
        self._forget_script()
        self.balance = 15.53

    def fail_next(self, *, status: str, times: int = 1) -> None:
        """The next `times` SMS requests answer HTTP 200 with this error `status`."""
        self._queue_faults(_Fault(status, 200, None), times)

    def fail_http_next(
        self, *, http_status: int, times: int = 1, retry_after: float | None = None
    ) -> None:
        """The next `times` requests answer a bare HTTP error (a proxy, an outage)."""
        header = None if retry_after is None else str(retry_after)
        self._queue_faults(_Fault(None, http_status, header), times)

    def asgi_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/sms/json", self._send, methods=["POST"]),
                Route("/account/get-balance", self._balance, methods=["GET"]),
            ]
        )

    async def post_delivery_receipt(
        self,
        url: str,
        *,
        message_id: str,
        status: str,
        err_code: str = "0",
        method: Literal["GET", "POST", "POST-JSON"] = "GET",
    ) -> httpx.Response:
        """Send the delivery receipt Vonage would send for one of the accepted messages, the
        way the account's webhook settings say (GET query, form POST or JSON POST)."""
        sent = next(sms for sms in self.messages if message_id in sms.message_ids)
        now = datetime.now(UTC)
        receipt = {
            "msisdn": sent.to,
            "to": sent.from_,
            "network-code": "23410",
            "messageId": message_id,
            "price": "0.03330000",
            "status": status,
            "scts": now.strftime("%y%m%d%H%M"),
            "err-code": err_code,
            "api-key": self.api_key,
            "message-timestamp": now.strftime("%Y-%m-%d %H:%M:%S"),
        }
        if sent.client_ref is not None:
            receipt["client-ref"] = sent.client_ref
        async with httpx.AsyncClient() as client:
            if method == "GET":
                return await client.get(url, params=receipt)
            if method == "POST":
                return await client.post(url, data=receipt)
            return await client.post(url, json=receipt)

    async def _send(self, request: Request) -> Response:
        form = await _read_form(request)
        authenticated = self._credentials_ok(request, form)
        self.requests.append(VonageRequest("POST", request.url.path, form, authenticated))
        if (fault := self._next_fault()) is not None:
            if fault.status is None:
                return _bare(fault)
            return _rejected(fault.status, _ERROR_TEXT.get(fault.status, "Error"))
        if not authenticated:
            return _rejected("4", "Bad Credentials")
        to, from_, text = form.get("to"), form.get("from"), form.get("text")
        if not (to and from_ and text):
            return _rejected("2", "Missing to param" if not to else "Missing Parameters")
        if not _DIGITS.fullmatch(to):
            return _rejected("3", "Invalid to address")
        if to in MAGIC_TO_STATUS:
            return _rejected(*MAGIC_TO_STATUS[to])
        if self.balance <= 0:
            return _rejected("9", "Quota Exceeded - rejected")
        kind = form.get("type", "text")
        ids = tuple(secrets.token_hex(8).upper() for _ in range(_parts(text, kind)))
        self.messages.append(
            VonageSentSms(ids, to, from_, text, kind, form.get("client-ref"), form.get("callback"))
        )
        await self._maybe_delay(request)
        return JSONResponse(
            {
                "message-count": str(len(ids)),
                "messages": [
                    {
                        "to": to,
                        "message-id": message_id,
                        "status": "0",
                        "remaining-balance": f"{self.balance:.2f}",
                        "message-price": "0.03330000",
                        "network": "23410",
                        **({"client-ref": form["client-ref"]} if "client-ref" in form else {}),
                    }
                    for message_id in ids
                ],
            }
        )

    async def _balance(self, request: Request) -> Response:
        query = dict(request.query_params)
        authenticated = self._credentials_ok(request, query)
        self.requests.append(VonageRequest("GET", request.url.path, query, authenticated))
        if (fault := self._next_fault()) is not None:
            return _bare(fault)
        if not authenticated:
            return JSONResponse(
                {
                    "type": "https://developer.nexmo.com/api-errors#unauthorized",
                    "title": "Unauthorized",
                },
                status_code=401,
            )
        await self._maybe_delay(request)
        return JSONResponse({"value": self.balance, "autoReload": False})

    def _credentials_ok(self, request: Request, fields: dict[str, str]) -> bool:
        if "api_key" in fields or "api_secret" in fields:
            given = f"{fields.get('api_key', '')}:{fields.get('api_secret', '')}".encode()
            return hmac.compare_digest(given, f"{self.api_key}:{self.api_secret}".encode())
        return basic_auth_matches(request, self.api_key, self.api_secret)


async def _read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0]
    body = await request.body()
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    if content_type == "application/json":
        payload: Any = json.loads(body or b"{}")
        return {str(k): str(v) for k, v in payload.items()} if isinstance(payload, dict) else {}
    return {}


def _rejected(status: str, text: str) -> Response:
    # The point of this fake: a refusal is still HTTP 200.
    return JSONResponse(
        {"message-count": "1", "messages": [{"status": status, "error-text": text}]}
    )


def _bare(fault: _Fault) -> Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    return Response("upstream failure", status_code=fault.http_status, headers=headers)


def _parts(text: str, kind: str) -> int:
    units = len(text.encode("utf-16-le")) // 2 if kind == "unicode" else len(text)
    return 1 if units <= _SINGLE[kind] else -(-units // _PART[kind])
