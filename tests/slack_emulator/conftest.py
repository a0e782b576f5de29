"""Fixtures: a running Slack emulator with two people, and the bot's Web API client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import SlackEmulator
from tests.support.asgi import running_server

AGENT = "U0AGENT001"
ADMIN = "U0ADMIN001"
SUPERVISORS = "C0SUPERVIS"


@pytest.fixture
async def emulator() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator()
    emulator.add_user(AGENT, "alice", real_name="Alice Agent", email="Alice@Example.com")
    emulator.add_user(ADMIN, "bob", real_name="Bob Admin", email="bob@example.com", is_admin=True)
    emulator.add_channel(SUPERVISORS, "supervisors", is_private=True, members=[ADMIN])
    async with running_server(emulator.asgi_app()) as base_url:
        emulator.base_url = base_url
        yield emulator


@pytest.fixture
def web_client(emulator: SlackEmulator) -> AsyncWebClient:
    """How the bot talks to Slack: slack_sdk's AsyncWebClient, pointed at the emulator."""
    return AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
