"""The Slack app manifest, built from the commands the app registers."""

from __future__ import annotations

from typing import Any

import yaml

from commands import EVENTS, SLASH_COMMANDS
from commands.ids import Command

PLACEHOLDER_URL = "https://pinverify.example.com"
# chat:write: the card and supervisors' posts; commands: /verify; users:read: users.info to
# know workspace admins and owners; users:read.email: the admin's own address for the PIN
# templates' "Send me a test email"; usergroups:read: the agent user group's members and the
# list of groups an admin picks from in Settings; channels:history / groups:history: after an
# interrupted delivery, find the supervisors' post by its marker instead of posting it twice
# (public or private supervisors' channel); files:write: the digest's chart and the admins'
# audit export; im:write: open the admin's DM to share the export in.
BOT_SCOPES = [
    "chat:write",
    "commands",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "channels:history",
    "groups:history",
    "files:write",
    "im:write",
]
COMMAND_HELP: dict[Command, tuple[str, str]] = {
    Command.VERIFY: (
        "Look up a caller and send them a one-time PIN",
        "<phone | email | name | #ticket>",
    ),
}


def manifest(base_url: str, *, socket_mode: bool = False) -> dict[str, Any]:
    """Least privilege: only the scopes BOT_SCOPES explains, one event (App Home)."""
    events_url = base_url.rstrip("/") + "/slack/events"
    slash_commands = []
    for command in SLASH_COMMANDS:
        description, usage = COMMAND_HELP[command]
        entry: dict[str, Any] = {
            "command": command.value,
            "description": description,
            "usage_hint": usage,
            "should_escape": False,
        }
        if not socket_mode:
            entry["url"] = events_url
        slash_commands.append(entry)
    interactivity: dict[str, Any] = {"is_enabled": True}
    event_subscriptions: dict[str, Any] = {"bot_events": list(EVENTS)}
    if not socket_mode:
        interactivity["request_url"] = events_url
        event_subscriptions = {"request_url": events_url, **event_subscriptions}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "PIN Verify",
            "description": "Verify callers with a one-time PIN before you help them.",
            "background_color": "#1d3557",
        },
        "features": {
            # The card lives in the agent's DM with the app; agents never type there. The Home
            # tab shows recent verifications, and the policy and settings to admins.
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "PIN Verify", "always_online": True},
            "slash_commands": slash_commands,
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def render_manifest(base_url: str = PLACEHOLDER_URL, *, socket_mode: bool = False) -> str:
    header = (
        "# Slack app manifest for PIN Verify. Regenerate with your URL:\n"
        "#   pinverify manifest --url https://your-host  (add --socket-mode for Socket Mode)\n"
    )
    body = yaml.safe_dump(
        manifest(base_url, socket_mode=socket_mode), sort_keys=False, allow_unicode=True
    )
    return header + body
