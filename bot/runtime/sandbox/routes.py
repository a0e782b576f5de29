"""The sandbox's HTTP surface: the page, its JSON API, and the Slack emulator.

The page never talks to the app directly. It tells this API what the person did (typed a
command, pressed a button, submitted a modal) and the emulator's driver sends the app what
Slack would: signed slash commands, block_actions and view_submission to /slack/events.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.runtime.sandbox.state import sandbox_state
from bot.runtime.sandbox.workspace import EMULATOR_PATH
from slack_emulator import ClientValidationError, Message, SlackDriver, SlackEmulator, StoredView
from storage import repositories as repo
from storage.db import Database

# A waiting GET /sandbox/api/state answers after this long even if nothing changed, so a
# stopping server never waits long for it.
LONG_POLL_SECONDS = 5.0
POLL_INTERVAL_SECONDS = 0.15
PHONE_MESSAGES = 30
MAX_COMMAND_LENGTH = 4000


@dataclass
class Sandbox:
    emulator: SlackEmulator
    driver: SlackDriver
    db: Database
    user_id: str
    address: str
    commands: list[str] = field(default_factory=list)
    home_enabled: bool = False
    home_events: bool = False
    long_poll_seconds: float = LONG_POLL_SECONDS

    @property
    def url(self) -> str:
        return f"{self.address}/sandbox"

    async def state(self) -> dict[str, Any]:
        async with self.db.transaction() as session:
            phone = list(await repo.latest_console_messages(session=session, limit=PHONE_MESSAGES))
        return sandbox_state(
            self.emulator,
            self.driver,
            self.user_id,
            phone=phone,
            commands=self.commands,
            home_enabled=self.home_enabled,
        )


Handler = Callable[[Request], Awaitable[Response]]


class _RevalidatedStaticFiles(StaticFiles):
    """The page's scripts, checked on every load: someone changing them sees the change."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "no-cache"
        return response


class BadRequest(Exception):
    """What the page sent cannot be done; the message says why, for the tester."""


def _loopback_host(request: Request) -> bool:
    """Whether the browser asked for a loopback name: a page on another site whose name was
    re-pointed at 127.0.0.1 (DNS rebinding) must not read codes from the sandbox."""
    host = request.headers.get("host", "")
    name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    # JSON only: a form another site posts cross-origin cannot drive the sandbox.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest("send application/json")
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{key} is required")
    return value.strip()


def _entries(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries = body.get("entries") or {}
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        raise BadRequest("entries must map block_id to {action_id: value}")
    return entries


def sandbox_routes(sandbox: Sandbox) -> list[BaseRoute]:
    """Mounted only in sandbox mode (never with real Slack credentials)."""
    emulator, driver, user = sandbox.emulator, sandbox.driver, sandbox.user_id

    async def page(_request: Request) -> Response:
        html = (
            resources.files("bot.runtime.sandbox").joinpath("static/index.html").read_text("utf-8")
        )
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    async def to_page(_request: Request) -> Response:
        return RedirectResponse("/sandbox")

    async def state(request: Request) -> Response:
        known = request.query_params.get("version")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + sandbox.long_poll_seconds
        while True:
            current = await sandbox.state()
            if current["version"] != known or loop.time() >= deadline:
                return JSONResponse(current, headers={"cache-control": "no-store"})
            if await request.is_disconnected():
                return Response(status_code=204)
            await asyncio.sleep(POLL_INTERVAL_SECONDS)

    def surface_of(body: dict[str, Any]) -> Message | StoredView:
        view_id = body.get("view")
        if isinstance(view_id, str) and view_id:
            view = emulator.views.get(view_id)
            if view is None:
                raise BadRequest(f"no view {view_id}")
            return view
        channel, ts = _text(body, "conversation"), _text(body, "ts")
        message = emulator.message(channel, ts)
        if message is None:
            message = next(
                (m for m in emulator.ephemeral_messages(user, channel) if m.ts == ts), None
            )
        if message is None:
            raise BadRequest("that message no longer exists")
        return message

    async def command(request: Request) -> Response:
        body = await _json_body(request)
        text = _text(body, "text")
        channel = _text(body, "conversation")
        if len(text) > MAX_COMMAND_LENGTH:
            raise BadRequest("that is too long for a message")
        name, _, argument = text.partition(" ")
        if not name.startswith("/"):
            raise BadRequest(
                f"Only slash commands reach the app here: try {sandbox.commands[0]} Jane Doe"
                if sandbox.commands
                else "Only slash commands reach the app here."
            )
        if name not in sandbox.commands:
            known = ", ".join(sandbox.commands) or "none"
            raise BadRequest(f"{name} is not a command of this app (it has: {known})")
        if channel not in emulator.channels or not emulator.can_see(
            user, emulator.channels[channel]
        ):
            raise BadRequest(f"no conversation {channel}")
        response = await driver.slash_command(user, name, argument.strip(), channel_id=channel)
        return JSONResponse({"ok": response.status_code == 200, "status": response.status_code})

    async def action(request: Request) -> Response:
        body = await _json_body(request)
        surface = surface_of(body)
        response = await driver.act(
            user,
            surface,
            _text(body, "block_id"),
            _text(body, "action_id"),
            entries=_entries(body),
            chosen=body.get("value"),
        )
        return JSONResponse({"ok": response.status_code == 200, "status": response.status_code})

    async def submit(request: Request) -> Response:
        body = await _json_body(request)
        response = await driver.submit_entries(user, _text(body, "view"), _entries(body))
        return JSONResponse({"ok": response.status_code == 200, "status": response.status_code})

    async def close(request: Request) -> Response:
        body = await _json_body(request)
        await driver.close_view(user, _text(body, "view"))
        return JSONResponse({"ok": True})

    async def home(request: Request) -> Response:
        await _json_body(request)
        if not sandbox.home_events:
            return JSONResponse({"ok": True, "sent": False})
        response = await driver.open_home(user)
        return JSONResponse({"ok": response.status_code == 200, "sent": True})

    def guarded(handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            if not _loopback_host(request):
                return _error("the sandbox answers on a loopback address only", 403)
            try:
                response: Response = await handler(request)
            except BadRequest as exc:
                return _error(str(exc))
            except ClientValidationError as exc:
                return _error(str(exc), 422)
            except LookupError as exc:
                # KeyError-style str() would quote the message; show it as written.
                return _error(str(exc.args[0]) if exc.args else str(exc), 409)
            return response

        return run

    return [
        Route("/sandbox", guarded(page), methods=["GET"]),
        Route("/sandbox/", guarded(to_page), methods=["GET"]),
        Route("/sandbox/api/state", guarded(state), methods=["GET"]),
        Route("/sandbox/api/command", guarded(command), methods=["POST"]),
        Route("/sandbox/api/action", guarded(action), methods=["POST"]),
        Route("/sandbox/api/submit", guarded(submit), methods=["POST"]),
        Route("/sandbox/api/close", guarded(close), methods=["POST"]),
        Route("/sandbox/api/home", guarded(home), methods=["POST"]),
        Mount(
            "/sandbox/static",
            app=_RevalidatedStaticFiles(packages=[("bot.runtime.sandbox", "static")]),
        ),
        Mount(EMULATOR_PATH, app=emulator.asgi_app()),
    ]
