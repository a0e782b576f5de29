"""`SlackEmulator`: a workspace served as Slack's Web API over HTTP.

Routes (see `asgi_app`):
- `POST|GET /api/{method}`: the Web API. Point the bot's `SLACK_API_URL` at
  `emulator.api_url` (`{base_url}/api/`).
- `POST /response/{token}`: response_url deliveries, minted by `mint_response_url`.
- `POST /upload/{file_id}`: the upload URLs files.getUploadURLExternal hands out.

`rate_limits=RateLimits()` enforces Slack's pace (one post a second per channel, Tier 3
updates) with 429 + Retry-After; `stall_after(method, channel)` holds the HTTP answer to a
call that Slack already applied (to kill the app mid-delivery, as a crash would).

`base_url` is only known once the server has bound its port: set `emulator.base_url`
right after starting it. Until then, the first request the emulator receives fills it in
from that request's scheme and host.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from slack_emulator import (
    chat_methods,
    directory_methods,
    files_methods,
    history_methods,
    view_methods,
)
from slack_emulator.arguments import MethodArgs, decoded_for_record
from slack_emulator.errors import SlackApiFailure, invalid_arguments
from slack_emulator.faults import RESPONSE_URL, FaultPlan, InjectedFault
from slack_emulator.files_methods import UploadedFile, receive_upload
from slack_emulator.method_specs import MethodSpec, load_method_specs
from slack_emulator.rate_limits import RateLimits
from slack_emulator.records import ApiCall, InvalidPayload, Message
from slack_emulator.response_urls import (
    ResponseUrlRegistry,
    ResponseUrlTarget,
    deliver_response,
    refusal_for,
)
from slack_emulator.workspace import Workspace

MethodHandler = Callable[["SlackEmulator", MethodArgs], dict[str, Any]]

METHOD_HANDLERS: dict[str, MethodHandler] = {
    "auth.test": directory_methods.auth_test,
    "apps.connections.open": directory_methods.apps_connections_open,
    "chat.postMessage": chat_methods.post_message,
    "chat.update": chat_methods.update_message,
    "chat.postEphemeral": chat_methods.post_ephemeral,
    "chat.delete": chat_methods.delete_message,
    "conversations.open": directory_methods.conversations_open,
    "conversations.info": directory_methods.conversations_info,
    "conversations.history": history_methods.conversations_history,
    "conversations.replies": history_methods.conversations_replies,
    "files.getUploadURLExternal": files_methods.get_upload_url_external,
    "files.completeUploadExternal": files_methods.complete_upload_external,
    "users.info": directory_methods.users_info,
    "users.lookupByEmail": directory_methods.users_lookup_by_email,
    "usergroups.list": directory_methods.usergroups_list,
    "usergroups.users.list": directory_methods.usergroups_users_list,
    "views.open": view_methods.views_open,
    "views.push": view_methods.views_push,
    "views.update": view_methods.views_update,
    "views.publish": view_methods.views_publish,
}

# The bot scopes each method needs (any one of them), as Slack enforces with missing_scope.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "conversations.open": frozenset({"im:write"}),
    "conversations.info": frozenset({"channels:read", "groups:read", "im:read"}),
    "conversations.history": frozenset({"channels:history", "groups:history", "im:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history", "im:history"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "users.info": frozenset({"users:read"}),
    "users.lookupByEmail": frozenset({"users:read.email"}),
    "usergroups.list": frozenset({"usergroups:read"}),
    "usergroups.users.list": frozenset({"usergroups:read"}),
}

DEFAULT_BOT_SCOPES = frozenset({"commands"}).union(*METHOD_SCOPES.values())


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class SlackEmulator(Workspace):
    """A fake Slack workspace and Web API that answers like the real one, records every
    call, refuses what Slack refuses (arguments, Block Kit, triggers, response URLs),
    and fails on demand."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-emulator-bot-token",
        scopes: Iterable[str] = DEFAULT_BOT_SCOPES,
        base_url: str | None = None,
        team_id: str = "T0EMULATOR",
        team_name: str = "Emulator Workspace",
        team_domain: str = "emulator",
        bot_name: str = "pin-verify",
        clock: Callable[[], float] = time.time,
        rate_limits: RateLimits | None = None,
    ) -> None:
        super().__init__(
            team_id=team_id,
            team_name=team_name,
            team_domain=team_domain,
            bot_name=bot_name,
            clock=clock,
        )
        self.bot_token = bot_token
        self.scopes = frozenset(scopes)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.method_specs: dict[str, MethodSpec] = load_method_specs()
        self.calls: list[ApiCall] = []
        self.invalid_payloads: list[InvalidPayload] = []
        self.faults = FaultPlan()
        self.response_urls = ResponseUrlRegistry()
        self.rate_limits = rate_limits
        self.files: dict[str, UploadedFile] = {}
        self._stalls: list[tuple[str, str | None, asyncio.Event]] = []
        self.stalled = 0  # answers held by a stall (the call itself was applied)

    # -- what tests read and arrange -------------------------------------------------

    @property
    def api_url(self) -> str:
        """The value for the bot's SLACK_API_URL / WebClient(base_url=...)."""
        return f"{self._require_base_url()}/api/"

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def fail_next(
        self,
        method: str,
        *,
        error: str = "fatal_error",
        times: int = 1,
        retry_after: int = 1,
        http_status: int | None = None,
        channel: str | None = None,
    ) -> None:
        """Make the next `times` calls to `method` fail with `error`.

        `ratelimited` answers HTTP 429 with `Retry-After: retry_after`; other errors
        answer HTTP 200 unless `http_status` says otherwise. With `channel`, only calls
        aimed at that channel (id, or the user id whose DM it is) fail. An error the
        method's definition does not document is refused, to catch typos.
        """
        spec = self.method_specs.get(method)
        if spec is not None and error not in spec.errors | {"invalid_arguments"}:
            raise ValueError(f"{method} does not document the error {error!r}")
        self.faults.add(
            InjectedFault(
                method=method,
                error=error,
                remaining=times,
                retry_after=retry_after,
                http_status=http_status,
                channel=channel,
            )
        )

    def stall_after(self, method: str, *, channel: str | None = None) -> asyncio.Event:
        """Apply matching calls but hold their HTTP answers until the returned event is set
        (as if the app died before reading Slack's answer)."""
        release = asyncio.Event()
        self._stalls.append((method, channel, release))
        return release

    def upload_url(self, file_id: str) -> str:
        return f"{self._require_base_url()}/upload/{file_id}"

    def set_unavailable(self, methods: set[str] | None) -> None:
        """Answer HTTP 503 to these methods ("*": all, "response_url": deliveries)
        until called again with None."""
        self.faults.set_unavailable(methods)

    def mint_response_url(self, channel_id: str, user_id: str, origin: Message | None) -> str:
        target = ResponseUrlTarget(
            channel_id=channel_id, user_id=user_id, origin=origin, issued_at=self.clock()
        )
        return f"{self._require_base_url()}/response/{self.response_urls.mint(target)}"

    def record_invalid_payload(self, source: str, payload: Any, errors: list[str]) -> None:
        self.invalid_payloads.append(
            InvalidPayload(source=source, payload=payload, errors=errors, at=self.clock())
        )

    # -- the Web API ----------------------------------------------------------------

    def call(self, method: str, values: dict[str, Any], *, token: str | None) -> ApiAnswer:
        """Answer one Web API call (the HTTP route's core; usable in-process too)."""
        answer = self._answer(method, values, token)
        error = None if answer.body.get("ok") else str(answer.body.get("error"))
        self.calls.append(
            ApiCall(
                method=method,
                args=decoded_for_record(values),
                ok=error is None,
                error=error,
                at=self.clock(),
            )
        )
        return answer

    def _answer(self, method: str, values: dict[str, Any], token: str | None) -> ApiAnswer:
        spec = self.method_specs.get(method)
        handler = METHOD_HANDLERS.get(method)
        if spec is None or handler is None:
            return _failure("unknown_method", req_method=method)
        if token is None:
            return _failure("not_authed")
        if token != self.bot_token:
            return _failure("invalid_auth")
        if self.faults.is_unavailable(method):
            return ApiAnswer(503, {"ok": False, "error": "service_unavailable"})
        fault = self.faults.take(method, self._channels_named_by(values))
        if fault is not None:
            return ApiAnswer(fault.status, {"ok": False, "error": fault.error}, fault.headers)
        if self.rate_limits is not None:
            channel = values.get("channel")
            wait = self.rate_limits.retry_after(
                method, str(channel) if channel else None, self.clock()
            )
            if wait is not None:
                return ApiAnswer(
                    429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
                )
        needed = METHOD_SCOPES.get(method)
        if needed and not needed & self.scopes:
            return _failure(
                "missing_scope", needed=",".join(sorted(needed)), provided=",".join(self.scopes)
            )
        args = MethodArgs(values)
        missing = [name for name in spec.required_arguments if not args.has(name)]
        try:
            if missing:
                raise invalid_arguments(*(f"missing required field: {name}" for name in missing))
            body = handler(self, args)
        except SlackApiFailure as failure:
            if failure.invalid_payload is not None:
                messages = failure.body().get("response_metadata", {}).get("messages", [])
                self.record_invalid_payload(method, failure.invalid_payload, list(messages))
            return ApiAnswer(200, failure.body())
        return ApiAnswer(200, {"ok": True, **body})

    def _channels_named_by(self, values: dict[str, Any]) -> set[str]:
        channel = values.get("channel")
        if not isinstance(channel, str):
            return set()
        named = {channel}
        if channel in self.users and self.has_dm(channel):
            named.add(self.dm_channel(channel).id)
        return named

    # -- HTTP -----------------------------------------------------------------------

    def asgi_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/{method}", self._serve_api, methods=["GET", "POST"]),
                Route("/response/{token}", self._serve_response_url, methods=["POST"]),
                Route("/upload/{file_id}", self._serve_upload, methods=["POST"]),
            ]
        )

    async def _serve_api(self, request: Request) -> Response:
        self._learn_base_url(request)
        method = request.path_params["method"]
        try:
            values, token = await _read_arguments(request)
        except ValueError:
            return JSONResponse({"ok": False, "error": "invalid_json"})
        answer = self.call(method, values, token=token)
        for stall_method, stall_channel, release in self._stalls:
            if (
                stall_method == method
                and answer.body.get("ok")
                and (stall_channel is None or stall_channel == values.get("channel"))
            ):
                self.stalled += 1
                await release.wait()
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    async def _serve_upload(self, request: Request) -> Response:
        self._learn_base_url(request)
        status, text = receive_upload(self, request.path_params["file_id"], await request.body())
        return PlainTextResponse(text, status_code=status)

    async def _serve_response_url(self, request: Request) -> Response:
        self._learn_base_url(request)
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        status, error = self._deliver(request.path_params["token"], body)
        record = body if isinstance(body, dict) else {"raw": raw.decode("utf-8", "replace")}
        self.calls.append(
            ApiCall(RESPONSE_URL, decoded_for_record(record), error is None, error, self.clock())
        )
        if error is None:
            return PlainTextResponse("ok")
        return JSONResponse({"ok": False, "error": error}, status_code=status)

    def _deliver(self, token: str, body: Any) -> tuple[int, str | None]:
        if self.faults.is_unavailable(RESPONSE_URL):
            return 503, "service_unavailable"
        target = self.response_urls.get(token)
        refusal = refusal_for(target, self.clock())
        if refusal is not None or target is None:
            return 404, refusal
        try:
            deliver_response(self, target, body)
        except SlackApiFailure as failure:
            if failure.invalid_payload is not None:
                self.record_invalid_payload(
                    RESPONSE_URL, failure.invalid_payload, failure.extra.get("errors", [])
                )
            return 400, failure.error
        target.uses += 1
        return 200, None

    def _learn_base_url(self, request: Request) -> None:
        if self.base_url is None:
            self.base_url = f"{request.url.scheme}://{request.url.netloc}"

    def _require_base_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("set SlackEmulator.base_url once its server is listening")
        return self.base_url


def _failure(error: str, **extra: Any) -> ApiAnswer:
    return ApiAnswer(200, {"ok": False, "error": error, **extra})


async def _read_arguments(request: Request) -> tuple[dict[str, Any], str | None]:
    """Arguments from the query string and the body, and the token, the way Slack reads
    them: JSON bodies must carry the token in the Authorization header; form bodies and
    query strings may carry it as a `token` argument. Raises ValueError on bad JSON."""
    values: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    body_is_json = content_type == "application/json"
    if raw and body_is_json:
        decoded = json.loads(raw)
        if not isinstance(decoded, dict):
            raise ValueError("JSON body must be an object")
        decoded.pop("token", None)
        values.update(decoded)
    elif raw:
        values.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return values, authorization[7:].strip()
    token = values.get("token")
    return values, token if isinstance(token, str) and token else None
