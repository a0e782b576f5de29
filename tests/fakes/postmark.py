"""A local Postmark API: `POST /email` and `GET /server`, served over HTTP.

Reproduces: the `X-Postmark-Server-Token` header checked exactly (401, ErrorCode 10), the
`POSTMARK_API_TEST` token that validates without sending, 200 with `MessageID` and
`ErrorCode: 0`, HTTP 422 with `ErrorCode` 300 (invalid To/From, no body), 400 (From is not a
Sender Signature), **406 for `inactive@…` recipients**, 412 while the account is pending;
faults a test asks for (429, 5xx, delays); and Delivery/Bounce webhooks posted back to the
app (`post_webhook`, `delivery_webhook`, `bounce_webhook`).
Assumes (not verified against Postmark): the exact `Message` wording, and a 429 body of
`{"ErrorCode": 429, ...}`.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.vendor import ScriptedFake

TEST_TOKEN = "POSTMARK_API_TEST"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class PostmarkMail:
    message_id: str
    from_: str
    to: str
    subject: str
    text: str | None
    html: str | None
    message_stream: str
    metadata: dict[str, str]
    payload: dict[str, Any]


@dataclass(frozen=True)
class PostmarkRequest:
    method: str
    path: str
    token: str | None
    json: Any


@dataclass
class _Fault:
    status: int
    retry_after: str | None


class FakePostmark(ScriptedFake[_Fault]):
    def __init__(
        self,
        *,
        server_token: str | None = None,
        sender_signatures: frozenset[str] = frozenset({"helpdesk@msp.example"}),
    ) -> None:
        super().__init__()
        self.server_token = server_token or str(uuid.uuid4())
        self.sender_signatures = sender_signatures
        self.account_pending = False
        self.messages: list[PostmarkMail] = []
        self.requests: list[PostmarkRequest] = []

    def reset(self) -> None:
        self.messages.clear()
        self.requests.clear()
        self.account_pending = False
        self._forget_script()

    def fail_next(self, *, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """The next `times` requests get `status` (429 with Postmark's body), before checks."""
        header = None if retry_after is None else str(retry_after)
        self._queue_faults(_Fault(status, header), times)

    def asgi_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/email", self._send, methods=["POST"]),
                Route("/server", self._server, methods=["GET"]),
            ]
        )

    def delivery_webhook(self, mail: PostmarkMail) -> dict[str, Any]:
        return {
            "RecordType": "Delivery",
            "ServerID": 23,
            "MessageStream": mail.message_stream,
            "MessageID": mail.message_id,
            "Recipient": mail.to,
            "Tag": "",
            "DeliveredAt": _now(),
            "Details": "smtp;250 2.0.0 OK",
            "Metadata": mail.metadata,
        }

    def bounce_webhook(
        self,
        mail: PostmarkMail,
        *,
        type_: str = "HardBounce",
        type_code: int = 1,
        description: str = "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        inactive: bool = True,
    ) -> dict[str, Any]:
        return {
            "RecordType": "Bounce",
            "ID": secrets.randbelow(10**12),
            "Type": type_,
            "TypeCode": type_code,
            "Name": type_,
            "Tag": "",
            "MessageID": mail.message_id,
            "ServerID": 23,
            "MessageStream": mail.message_stream,
            "Description": description,
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Email": mail.to,
            "From": mail.from_,
            "BouncedAt": _now(),
            "DumpAvailable": False,
            "Inactive": inactive,
            "CanActivate": True,
            "Subject": mail.subject,
            "Metadata": mail.metadata,
        }

    async def post_webhook(
        self, url: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST one webhook record to the app (Postmark sends one record per request)."""
        async with httpx.AsyncClient() as client:
            return await client.post(url, json=payload, headers=headers)

    async def _send(self, request: Request) -> Response:
        token = request.headers.get("x-postmark-server-token")
        try:
            payload: Any = await request.json()
        except ValueError:
            payload = None
        self.requests.append(PostmarkRequest("POST", request.url.path, token, payload))
        if (fault := self._next_fault()) is not None:
            return _fault_response(fault)
        if not token:
            return _error(
                401,
                10,
                "No Account or Server API tokens were supplied in the HTTP headers. Please add "
                "a header for either X-Postmark-Server-Token or X-Postmark-Account-Token.",
            )
        if not (self._token_ok(token) or token == TEST_TOKEN):
            return _error(
                401,
                10,
                "The Server Token you provided in the X-Postmark-Server-Token request header "
                "was invalid. Please verify that you are using a valid token.",
            )
        if not isinstance(payload, dict):
            return _error(422, 300, "Invalid email request: the body must be a JSON object.")
        problem = self._validate(payload)
        if problem is not None:
            return _error(422, *problem)
        message_id = str(uuid.uuid4())
        if token != TEST_TOKEN:
            metadata = payload.get("Metadata") or {}
            self.messages.append(
                PostmarkMail(
                    message_id=message_id,
                    from_=payload["From"],
                    to=payload["To"],
                    subject=payload.get("Subject", ""),
                    text=payload.get("TextBody"),
                    html=payload.get("HtmlBody"),
                    message_stream=payload.get("MessageStream", "outbound"),
                    metadata={str(k): str(v) for k, v in metadata.items()},
                    payload=payload,
                )
            )
        await self._maybe_delay(request)
        return JSONResponse(
            {
                "To": payload["To"],
                "SubmittedAt": _now(),
                "MessageID": message_id,
                "ErrorCode": 0,
                "Message": "OK",
            }
        )

    async def _server(self, request: Request) -> Response:
        token = request.headers.get("x-postmark-server-token")
        self.requests.append(PostmarkRequest("GET", request.url.path, token, None))
        if (fault := self._next_fault()) is not None:
            return _fault_response(fault)
        if not (token and self._token_ok(token)):
            return _error(401, 10, "The Server Token you provided was invalid.")
        await self._maybe_delay(request)
        return JSONResponse(
            {
                "ID": 23,
                "Name": "PIN Verify fake server",
                "ApiTokens": [self.server_token],
                "Color": "purple",
                "DeliveryType": "Live",
            }
        )

    def _token_ok(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.server_token.encode())

    def _validate(self, payload: dict[str, Any]) -> tuple[int, str] | None:
        sender, to = payload.get("From"), payload.get("To")
        sender_address = _address(sender)
        if sender_address is None:
            return 300, f"Invalid 'From' address: '{sender}'."
        if not isinstance(to, str) or not _EMAIL.fullmatch(to):
            return 300, f"Invalid 'To' address: '{to}'."
        if not (payload.get("TextBody") or payload.get("HtmlBody")):
            return 300, "Provide either email TextBody or HtmlBody or both."
        if sender_address.lower() not in self.sender_signatures:
            return (
                400,
                f"The 'From' address you supplied ({sender_address}) is not a Sender Signature "
                "on your account. Please add and confirm this address in order to be able to "
                "use it in the 'From' field of your messages.",
            )
        if to.lower().startswith("inactive@"):
            return (
                406,
                "You tried to send to recipient(s) that have been marked as inactive. Found "
                f"inactive addresses: {to}. Inactive recipients are ones that have generated a "
                "hard bounce, a spam complaint, or a manual suppression.",
            )
        if self.account_pending and to.rpartition("@")[2] != sender_address.rpartition("@")[2]:
            return (
                412,
                "While your account is pending approval, all recipient addresses must share "
                "the same domain as the 'From' address.",
            )
        return None


def _address(value: Any) -> str | None:
    # From may be "Name <addr>" or a bare address.
    if not isinstance(value, str):
        return None
    _, address = parseaddr(value)
    return address if _EMAIL.fullmatch(address) else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _error(status: int, code: int, message: str) -> Response:
    return JSONResponse({"ErrorCode": code, "Message": message}, status_code=status)


def _fault_response(fault: _Fault) -> Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    if fault.status == 429:
        return JSONResponse(
            {"ErrorCode": 429, "Message": "Rate limit exceeded."}, status_code=429, headers=headers
        )
    return Response("upstream failure", status_code=fault.status, headers=headers)
