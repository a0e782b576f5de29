"""Try PIN Verify without Slack: the real app, a local Slack emulator and a page to drive it.

Started by `pinverify serve` when no Slack credentials are configured (see README). The
page is plain HTML/CSS/JS in `static/`; `routes.py` serves it and its JSON API.
"""

from __future__ import annotations

import httpx

from bot.clock import Clock
from bot.runtime.manifest import manifest
from bot.runtime.sandbox.routes import Sandbox, sandbox_routes
from bot.runtime.sandbox.workspace import (
    SANDBOX_USER,
    SandboxRefused,
    new_sandbox_emulator,
    sandbox_settings,
    seed_sample_contacts,
)
from bot.settings import Settings
from slack_emulator import SlackDriver, SlackEmulator
from storage.db import Database

__all__ = [
    "Sandbox",
    "SandboxRefused",
    "new_sandbox_emulator",
    "sandbox_routes",
    "sandbox_settings",
    "start_sandbox",
]


async def start_sandbox(
    emulator: SlackEmulator,
    *,
    settings: Settings,
    db: Database,
    clock: Clock,
    http: httpx.AsyncClient,
    address: str,
) -> Sandbox:
    """Seed the sample contacts and wire the driver that plays Slack towards the app.

    `settings` are the ones `sandbox_settings` made (their signing secret signs requests).
    """
    if settings.slack_signing_secret is None:
        raise SandboxRefused("the sandbox needs the settings sandbox_settings() returns")
    await seed_sample_contacts(db, clock)
    driver = SlackDriver(
        f"{address}/slack/events", settings.slack_signing_secret.get_secret_value(), emulator, http
    )
    app = manifest(address)
    features = app["features"]
    bot_events = app["settings"].get("event_subscriptions", {}).get("bot_events", [])
    return Sandbox(
        emulator=emulator,
        driver=driver,
        db=db,
        user_id=SANDBOX_USER,
        address=address,
        commands=[entry["command"] for entry in features.get("slash_commands", [])],
        home_enabled=bool(features.get("app_home", {}).get("home_tab_enabled")),
        home_events="app_home_opened" in bot_events,
    )
