"""A local SendGrid v3 API: Mail Send and API key scopes, served over HTTP.

Reproduces: `POST /v3/mail/send` with `Authorization: Bearer`, answering **202 with an empty
body and an `X-Message-Id` header**; validation of personalizations, from, subject and content
(text/plain first) answered 400 with SendGrid's `{"errors":[{"message","field","help"}]}`; 401
for an unknown key or used-up credits, 403 for a key without `mail.send` or a From that is
not a verified sender; `GET /v3/scopes`; faults a test asks for (429 with Retry-After or
X-RateLimit-Reset, 5xx, delays); and Event Webhook posts back to the app (`post_events`,
`event_for`).
Assumes (not verified against SendGrid): the exact error wording and `help` links, and an
email check as simple as "one @ and a dot in the domain".
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.vendor import ScriptedFake

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
FULL_ACCESS_SCOPES = ("mail.send", "scopes.read", "user.profile.read")


@dataclass(frozen=True)
class SendGridMail:
    message_id: str
    to: tuple[str, ...]
    from_email: str
    from_name: str | None
    subject: str
    text: str
    html: str | None
    custom_args: dict[str, str]
    payload: dict[str, Any]


@dataclass(frozen=True)
class SendGridRequest:
    method: str
    path: str
    authorization: str | None
    json: Any


@dataclass
class _Fault:
    status: int
    retry_after: str | None
    rate_limit_reset: float | None


class FakeSendGrid(ScriptedFake[_Fault]):
    def __init__(
        self,
        *,
        api_key: str | None = None,
        verified_senders: frozenset[str] = frozenset({"helpdesk@msp.example"}),
    ) -> None:
        super().__init__()
        self.api_key = api_key or "SG." + secrets.token_urlsafe(16) + "." + secrets.token_urlsafe(
            24
        )
        self.verified_senders = verified_senders
        # Other keys the account knows, with their scopes (a restricted key, say).
        self.keys: dict[str, tuple[str, ...]] = {}
        # A free plan that has used its monthly credits answers sends with 401.
        self.credits_exhausted = False
        self.messages: list[SendGridMail] = []
        self.requests: list[SendGridRequest] = []

    def reset(self) -> None:
        self.messages.clear()
        self.requests.clear()
        self.keys.clear()
        self.credits_exhausted = False
        self._forget_script()

    def fail_next(
        self,
        *,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        rate_limit_reset_in: float | None = None,
    ) -> None:
        """The next `times` requests get `status`, before any checks. A 429 may carry
        `Retry-After` and/or `X-RateLimit-Reset` (now + `rate_limit_reset_in`)."""
        header = None if retry_after is None else str(retry_after)
        self._queue_faults(_Fault(status, header, rate_limit_reset_in), times)

    def asgi_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v3/mail/send", self._send, methods=["POST"]),
                Route("/v3/scopes", self._scopes, methods=["GET"]),
            ]
        )

    def event_for(self, mail: SendGridMail, event: str, **extra: Any) -> dict[str, Any]:
        """One Event Webhook event about an accepted mail, as SendGrid would post it."""
        return {
            "email": mail.to[0],
            "timestamp": int(time.time()),
            "smtp-id": f"<{mail.message_id}@ismtpd-555>",
            "event": event,
            "sg_event_id": secrets.token_urlsafe(16),
            "sg_message_id": f"{mail.message_id}.filterdrecv-5645d9c87f-78xgx-1-5E2A6A7E-4A.0",
            **mail.custom_args,
            **extra,
        }

    async def post_events(
        self, url: str, events: list[dict[str, Any]], *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST a batch of events to the app's Event Webhook URL, as one JSON array."""
        async with httpx.AsyncClient() as client:
            return await client.post(url, json=events, headers=headers)

    async def _send(self, request: Request) -> Response:
        authorization = request.headers.get("authorization")
        try:
            payload: Any = await request.json()
        except ValueError:
            payload = None
        self.requests.append(SendGridRequest("POST", request.url.path, authorization, payload))
        if (fault := self._next_fault()) is not None:
            return _fault_response(fault)
        scopes = self._scopes_of(authorization)
        if scopes is None:
            return _errors(
                401, "The provided authorization grant is invalid, expired, or revoked", None
            )
        if "mail.send" not in scopes:
            return _errors(403, "access forbidden", None)
        if self.credits_exhausted:
            return _errors(401, "Maximum credits exceeded", None)
        if not isinstance(payload, dict):
            return _errors(400, "Bad Request", None)
        problem = _validate(payload)
        if problem is not None:
            return _errors(400, *problem)
        sender = payload["from"]
        if sender["email"].lower() not in self.verified_senders:
            return _errors(
                403,
                "The from address does not match a verified Sender Identity. Mail cannot be "
                "sent until this error is resolved.",
                "from",
            )
        message_id = secrets.token_urlsafe(16)[:22]
        content = {part["type"]: part["value"] for part in payload["content"]}
        personalization = payload["personalizations"][0]
        self.messages.append(
            SendGridMail(
                message_id=message_id,
                to=tuple(to["email"] for to in personalization["to"]),
                from_email=sender["email"],
                from_name=sender.get("name"),
                subject=personalization.get("subject", payload.get("subject", "")),
                text=content.get("text/plain", ""),
                html=content.get("text/html"),
                custom_args={
                    str(k): str(v)
                    for k, v in (
                        payload.get("custom_args", {}) | personalization.get("custom_args", {})
                    ).items()
                },
                payload=payload,
            )
        )
        await self._maybe_delay(request)
        return Response(status_code=202, headers={"X-Message-Id": message_id})

    async def _scopes(self, request: Request) -> Response:
        authorization = request.headers.get("authorization")
        self.requests.append(SendGridRequest("GET", request.url.path, authorization, None))
        if (fault := self._next_fault()) is not None:
            return _fault_response(fault)
        scopes = self._scopes_of(authorization)
        if scopes is None:
            return _errors(401, "authorization required", None)
        await self._maybe_delay(request)
        return JSONResponse({"scopes": list(scopes)})

    def _scopes_of(self, authorization: str | None) -> tuple[str, ...] | None:
        scheme, _, key = (authorization or "").partition(" ")
        if scheme != "Bearer":
            return None
        if secrets.compare_digest(key.encode(), self.api_key.encode()):
            return FULL_ACCESS_SCOPES
        return self.keys.get(key)


def _validate(payload: dict[str, Any]) -> tuple[str, str] | None:
    personalizations = payload.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return (
            "The personalizations field is required and must have at least one personalization.",
            "personalizations",
        )
    for i, personalization in enumerate(personalizations):
        tos = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(tos, list) or not tos:
            return (
                "The to array is required for all personalization objects, and must have "
                "at least one email object with a valid email address.",
                f"personalizations.{i}.to",
            )
        for j, to in enumerate(tos):
            email = to.get("email") if isinstance(to, dict) else None
            if not isinstance(email, str) or not _EMAIL.fullmatch(email):
                return ("Does not contain a valid address.", f"personalizations.{i}.to.{j}.email")
    sender = payload.get("from")
    if not isinstance(sender, dict) or not isinstance(sender.get("email"), str):
        return ("The from object must be provided for every email send.", "from")
    if not _EMAIL.fullmatch(sender["email"]):
        return ("The from email does not contain a valid address.", "from.email")
    subject = payload.get("subject")
    if not isinstance(subject, str) or not subject:
        return (
            "The subject is required. You can get around this requirement if you use a "
            "template with a subject defined or if every personalization has a subject "
            "defined.",
            "subject",
        )
    if "\n" in subject or "\r" in subject:
        return ("The subject cannot contain line breaks.", "subject")
    content = payload.get("content")
    if not isinstance(content, list) or not content:
        return (
            "Unless a valid template_id is provided, the content parameter is required. "
            "There must be at least one defined content block.",
            "content",
        )
    types = [part.get("type") if isinstance(part, dict) else None for part in content]
    if any(not isinstance(part, dict) or not part.get("value") for part in content):
        return (
            "The content value must be a string at least one character in length.",
            "content.0.value",
        )
    if "text/plain" in types and types[0] != "text/plain":
        return (
            "The text/plain content type must be first, followed by any other content type.",
            "content.0.type",
        )
    return None


def _errors(status: int, message: str, field: str | None) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "field": field, "help": _HELP if field else None}]},
        status_code=status,
    )


def _fault_response(fault: _Fault) -> Response:
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = fault.retry_after
    if fault.rate_limit_reset is not None:
        headers["X-RateLimit-Limit"] = "600"
        headers["X-RateLimit-Remaining"] = "0"
        headers["X-RateLimit-Reset"] = str(int(time.time() + fault.rate_limit_reset))
    if fault.status == 429:
        return JSONResponse(
            {"errors": [{"message": "too many requests", "field": None, "help": None}]},
            status_code=429,
            headers=headers,
        )
    return Response("upstream failure", status_code=fault.status, headers=headers)
