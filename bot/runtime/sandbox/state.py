"""What the sandbox page shows, as JSON: the user's conversations, views, phone and inbox."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from slack_emulator import Message, SlackDriver, SlackEmulator, StoredView
from storage.models import ConsoleMessage

# Most recent problems shown to the tester (Block Kit Slack would refuse, slow acks...).
MAX_PROBLEMS = 10


def _message_json(emulator: SlackEmulator, message: Message) -> dict[str, Any]:
    author = emulator.users.get(message.user)
    if message.user == "USLACKBOT":
        name = "Slackbot"
    else:
        name = author.real_name if author else message.user
    return {
        "ts": message.ts,
        "user": message.user,
        "author": name,
        "is_bot": bool(message.bot_id) or message.user == "USLACKBOT",
        "text": message.text,
        "blocks": message.blocks,
        "ephemeral": message.is_ephemeral,
        "edited": message.edited_ts is not None,
    }


def _plain(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return str(value["text"])
    return None


def view_json(view: StoredView) -> dict[str, Any]:
    return {
        "id": view.id,
        "type": view.type,
        "callback_id": view.callback_id,
        "title": _plain(view.payload.get("title")),
        "submit": _plain(view.payload.get("submit")),
        "close": _plain(view.payload.get("close")),
        "blocks": view.blocks,
        "errors": view.errors or {},
    }


def _conversations(emulator: SlackEmulator, user_id: str) -> list[dict[str, Any]]:
    shown = []
    for channel in emulator.channels.values():
        if not emulator.can_see(user_id, channel) or (channel.is_im and channel.im_user != user_id):
            continue
        messages = emulator.messages(channel.id) + emulator.ephemeral_messages(user_id, channel.id)
        messages.sort(key=lambda message: float(message.ts))
        shown.append(
            {
                "id": channel.id,
                "kind": "im" if channel.is_im else "private" if channel.is_private else "channel",
                "name": emulator.bot.name if channel.is_im else channel.name,
                "messages": [_message_json(emulator, message) for message in messages],
            }
        )
    # The app's DM first, then channels by name, as Slack's sidebar groups them.
    shown.sort(key=lambda conversation: (conversation["kind"] != "im", conversation["name"]))
    return shown


def _phone(messages: list[ConsoleMessage]) -> list[dict[str, Any]]:
    return [
        {
            "id": message.id,
            "channel": message.channel,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "at": message.created_at.isoformat(),
        }
        for message in messages
    ]


def _problems(emulator: SlackEmulator, driver: SlackDriver) -> list[str]:
    problems = [f"Slack would show an error: {error}" for error in driver.interaction_errors]
    problems.extend(
        f"Slack refused Block Kit sent to {invalid.source}: {'; '.join(invalid.errors)}"
        for invalid in emulator.invalid_payloads
    )
    return problems[-MAX_PROBLEMS:]


def sandbox_state(
    emulator: SlackEmulator,
    driver: SlackDriver,
    user_id: str,
    *,
    phone: list[ConsoleMessage],
    commands: list[str],
    home_enabled: bool,
) -> dict[str, Any]:
    """Everything the page renders, with a `version` that changes whenever any of it does."""
    home = emulator.home_view(user_id)
    state: dict[str, Any] = {
        "team": emulator.team.name,
        "me": user_id,
        "users": {
            user.id: {"name": user.real_name, "handle": user.name, "is_bot": user.is_bot}
            for user in emulator.users.values()
        },
        "conversations": _conversations(emulator, user_id),
        "home": {"enabled": home_enabled, "view": view_json(home) if home else None},
        "modals": [view_json(view) for view in emulator.open_views(user_id)],
        "phone": _phone(phone),
        "problems": _problems(emulator, driver),
        "commands": commands,
    }
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode())
    state["version"] = digest.hexdigest()[:16]
    return state
