"""manifest.yml is valid per Slack's schema and matches what the app registers."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from slack_bolt.async_app import AsyncApp

import commands
from bot.runtime.manifest import manifest, render_manifest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests/data/manifest.schema.1.0.0.json").read_text())


def test_committed_manifest_is_the_generated_one() -> None:
    assert (ROOT / "manifest.yml").read_text() == render_manifest()


def test_manifest_validates_against_slacks_schema() -> None:
    for document in (
        yaml.safe_load((ROOT / "manifest.yml").read_text()),
        manifest("https://bot.example.com", socket_mode=True),
    ):
        jsonschema.Draft7Validator(SCHEMA).validate(document)


def test_schema_rejects_a_broken_manifest() -> None:
    broken = manifest("https://bot.example.com")
    broken["features"]["slash_commands"][0]["command"] = "verify"  # no leading slash
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))
    assert errors


def test_manifest_commands_are_the_registered_ones() -> None:
    declared = {c["command"] for c in manifest("https://x")["features"]["slash_commands"]}
    assert declared == {command.value for command in commands.SLASH_COMMANDS} == {"/verify"}
    app = AsyncApp(token="xoxb-test", signing_secret="s")
    commands.register(app)
    # one listener per slash command, action, view submission, event and ack-only input box
    assert len(app._async_listeners) == (
        len(commands.ROUTES.commands)
        + len(commands.ROUTES.actions)
        + len(commands.ROUTES.views)
        + len(commands.ROUTES.events)
        + len(commands.ROUTES.ack_only)
    )
    events = manifest("https://x")["settings"]["event_subscriptions"]["bot_events"]
    assert events == list(commands.EVENTS) == ["app_home_opened"]


def test_socket_mode_manifest_has_no_urls() -> None:
    document = manifest("https://bot.example.com", socket_mode=True)
    assert document["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in document["settings"]["interactivity"]
    assert "url" not in document["features"]["slash_commands"][0]
    assert "request_url" not in document["settings"]["event_subscriptions"]


def test_least_privilege_scopes() -> None:
    assert manifest("https://x")["oauth_config"]["scopes"]["bot"] == [
        "chat:write",
        "commands",
        "users:read",
        "users:read.email",
        "usergroups:read",
        # Reading back the supervisors' channel to find a post after an interrupted delivery
        # (public or private channel), the digest chart and the audit export, the admin's DM.
        "channels:history",
        "groups:history",
        "files:write",
        "im:write",
    ]


def test_home_tab_and_its_event_are_declared() -> None:
    document = manifest("https://bot.example.com")
    assert document["features"]["app_home"]["home_tab_enabled"] is True
    assert document["settings"]["event_subscriptions"] == {
        "request_url": "https://bot.example.com/slack/events",
        "bot_events": ["app_home_opened"],
    }
    socket = manifest("https://bot.example.com", socket_mode=True)
    assert socket["settings"]["event_subscriptions"] == {"bot_events": ["app_home_opened"]}
