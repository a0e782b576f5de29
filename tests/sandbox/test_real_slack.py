"""With real Slack credentials the sandbox does not exist: no page, no API, no emulator."""

from __future__ import annotations

import httpx
import pytest

from bot.runtime import open_runtime
from bot.runtime.sandbox import SandboxRefused
from bot.settings import load_settings
from tests.support.bot import SECRET_KEY, SIGNING_SECRET, running_bot

SANDBOX_ROUTES = [
    ("GET", "/sandbox"),
    ("GET", "/sandbox/"),
    ("GET", "/sandbox/api/state"),
    ("POST", "/sandbox/api/command"),
    ("POST", "/sandbox/api/action"),
    ("POST", "/sandbox/api/submit"),
    ("POST", "/sandbox/api/close"),
    ("POST", "/sandbox/api/home"),
    ("GET", "/sandbox/static/app.js"),
    ("POST", "/sandbox/slack/api/auth.test"),
    ("POST", "/sandbox/slack/api/chat.postMessage"),
]


async def test_sandbox_routes_are_not_mounted(database_url: str) -> None:
    async with running_bot(database_url) as bot, httpx.AsyncClient(base_url=bot.url) as http:
        assert bot.runtime.sandbox is None
        assert (await http.get("/healthz")).status_code == 200  # the app itself is up
        for method, path in SANDBOX_ROUTES:
            response = await http.request(method, path, json={"text": "/verify Jane Doe"})
            assert response.status_code == 404, (method, path)


async def test_the_sandbox_refuses_to_start_with_slack_credentials(database_url: str) -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-real",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "PINVERIFY_SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
        }
    )
    with pytest.raises(SandboxRefused, match="Slack credentials are configured"):
        async with open_runtime(settings, sandbox_at="http://127.0.0.1:1"):
            pass
