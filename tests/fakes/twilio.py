"""A local Twilio Messaging API: the documented request and error shapes, served over HTTP.

Reproduces: `POST /2010-04-01/Accounts/{sid}/Messages.json` (form-encoded To/From/Body/
StatusCallback), `GET /2010-04-01/Accounts/{sid}.json`, HTTP Basic auth checked exactly,
Twilio's JSON error body, the test-credential magic To numbers, and faults a test asks for.
Status callbacks: `post_status_callback` POSTs the form Twilio sends to a message's
StatusCallback, signed with X-Twilio-Signature computed here, independently of the app's
validator (HMAC-SHA1 over the URL and the sorted key+value pairs, base64); `tamper=True` alters
the form after signing, as an attacker replaying a callback with another status would.
Assumes (not verified against Twilio): a path SID other than the authenticated one is 20003,
and To must be strict E.164.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.vendor import ScriptedFake, basic_auth_matches

API_VERSION = "2010-04-01"
TEST_FROM_NUMBER = "+15005550006"

# Twilio's test-credential To numbers (vendor-apis.md §2.1, "as remembered"): status 400.
MAGIC_TO_ERRORS: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: {to}, is not currently reachable via SMS."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region "
        "indicated by the 'To' number: {to}.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number {to} is not a valid mobile number"),
}

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MAX_BODY = 1600
_DEFAULT_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service unavailable",
}
# GSM 03.38 basic set; anything else forces UCS-2 (70/67 chars per segment instead of 160/153).
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SentSms:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    authenticated: bool


@dataclass
class _Fault:
    status: int
    code: int | None
    retry_after: str | None


class FakeTwilio(ScriptedFake[_Fault]):
    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        owned_numbers: frozenset[str] = frozenset({TEST_FROM_NUMBER}),
    ) -> None:
        super().__init__()
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.owned_numbers = owned_numbers
        self.messages: list[SentSms] = []
        self.requests: list[RecordedRequest] = []

    def reset(self) -> None:
        """Forget messages, requests and pending faults (for a server shared by many tests)."""
        self.messages.clear()
        self.requests.clear()
        self._forget_script()

    def fail_next(
        self,
        *,
        status: int,
        code: int | None = None,
        times: int = 1,
        retry_after: float | str | None = None,
    ) -> None:
        """The next `times` requests get `status` with Twilio's error body, before any checks."""
        if code is None:
            code = {401: 20003, 429: 20429, 500: 20500, 503: 20503}.get(status)
        header = None if retry_after is None else str(retry_after)
        self._queue_faults(_Fault(status, code, header), times)

    async def post_status_callback(
        self,
        url: str,
        *,
        message_sid: str,
        status: str,
        error_code: int | str | None = None,
        tamper: bool = False,
        signed_url: str | None = None,
    ) -> httpx.Response:
        """POST Twilio's status callback for one accepted message to `url`, signed.

        `signed_url` is the URL Twilio believes it called, when it differs from where the
        request lands (a proxy in front of the app); the signature covers that one.
        """
        sent = next((sms for sms in self.messages if sms.sid == message_sid), None)
        form = {
            "MessageSid": message_sid,
            "SmsSid": message_sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "From": sent.from_ if sent else TEST_FROM_NUMBER,
            "To": sent.to if sent else "+14155550123",
            "ApiVersion": API_VERSION,
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        if status in ("delivered", "undelivered"):
            form["RawDlrDoneDate"] = time.strftime("%y%m%d%H%M", time.gmtime())
        signature = _sign(self.auth_token, signed_url or url, form)
        if tamper:
            # The classic forgery: replay a genuine callback claiming another outcome.
            flipped = "delivered" if status != "delivered" else "failed"
            form["MessageStatus"] = form["SmsStatus"] = flipped
        async with httpx.AsyncClient() as client:
            return await client.post(url, data=form, headers={"X-Twilio-Signature": signature})

    def asgi_app(self) -> Starlette:
        prefix = f"/{API_VERSION}/Accounts/{{sid}}"
        return Starlette(
            routes=[
                Route(f"{prefix}/Messages.json", self._create_message, methods=["POST"]),
                Route(f"{prefix}.json", self._fetch_account, methods=["GET"]),
            ]
        )

    async def _create_message(self, request: Request) -> Response:
        form = await _read_form(request)
        authenticated = self._authenticated(request)
        self.requests.append(RecordedRequest("POST", request.url.path, form, authenticated))
        if (fault := self._next_fault()) is not None:
            return _fault_response(fault)
        if not authenticated:
            return _unauthenticated()
        to, from_, body = form.get("To"), form.get("From"), form.get("Body")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not from_:
            return _error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if not _E164.fullmatch(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in MAGIC_TO_ERRORS:
            code, text = MAGIC_TO_ERRORS[to]
            return _error(400, code, text.format(to=to))
        if from_ not in self.owned_numbers:
            return _error(
                400,
                21606,
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        if len(body) > _MAX_BODY:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        sid = "SM" + secrets.token_hex(16)
        callback = form.get("StatusCallback")
        self.messages.append(SentSms(sid, to, from_, body, callback))
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        payload = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": from_,
            "messaging_service_sid": None,
            "body": body,
            "status": "queued",
            "num_segments": str(_segments(body)),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": API_VERSION,
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
        }
        await self._maybe_delay(request)
        return JSONResponse(payload, status_code=201)

    async def _fetch_account(self, request: Request) -> Response:
        authenticated = self._authenticated(request)
        self.requests.append(RecordedRequest("GET", request.url.path, {}, authenticated))
        if (fault := self._next_fault()) is not None:
            return _fault_response(fault)
        if not authenticated:
            return _unauthenticated()
        await self._maybe_delay(request)
        return JSONResponse(
            {
                "sid": self.account_sid,
                "friendly_name": "PIN Verify fake account",
                "status": "active",
                "type": "Full",
                "date_created": formatdate(usegmt=True).replace("GMT", "+0000"),
                "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json",
            }
        )

    def _authenticated(self, request: Request) -> bool:
        if request.path_params["sid"] != self.account_sid:
            return False
        return basic_auth_matches(request, self.account_sid, self.auth_token)


async def _read_form(request: Request) -> dict[str, str]:
    # Parsed by hand: Starlette's form parser needs python-multipart, which Twilio's
    # form-urlencoded bodies do not justify.
    if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
        return {}
    body = (await request.body()).decode()
    return dict(parse_qsl(body, keep_blank_values=True))


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
        headers=headers,
    )


def _unauthenticated() -> Response:
    return _error(
        401, 20003, "Authenticate", headers={"WWW-Authenticate": 'Basic realm="Twilio API"'}
    )


def _fault_response(fault: _Fault) -> Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    if fault.code is None:
        return Response("upstream failure", status_code=fault.status, headers=headers)
    message = _DEFAULT_MESSAGES.get(fault.code, "Error")
    return _error(fault.status, fault.code, message, headers=headers)


def _sign(auth_token: str, url: str, form: dict[str, str]) -> str:
    # Twilio's documented algorithm, written out here so the app's validator is tested
    # against an independent implementation rather than against itself.
    data = url
    for key in sorted(form):
        data += key + form[key]
    mac = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def _segments(body: str) -> int:
    if all(ch in _GSM7 or ch in _GSM7_EXTENDED for ch in body):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in body)
        single, multi = 160, 153
    else:
        # UCS-2 counts UTF-16 code units, so characters outside the BMP take two.
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)
