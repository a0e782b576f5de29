"""The JSON the Slack client and Slack's servers send to the app, in Slack's shapes.

Slash-command form fields, block_actions / view_submission / view_closed payloads and
Events API envelopes, built from the emulator's workspace state with the fields in the
order Slack sends them. Building a payload mints what Slack would mint alongside it
(trigger ids, response URLs); `SlackDriver` signs and posts the result.
"""

from __future__ import annotations

import secrets
from typing import Any

from slack_emulator.records import Channel, Message, StoredView
from slack_emulator.surfaces import build_state_values
from slack_emulator.web_api import SlackEmulator

# The deprecated per-app verification token Slack still puts in every payload.
VERIFICATION_TOKEN = "emulator-verification-token"


# -- who and where ------------------------------------------------------------------


def user_json(emulator: SlackEmulator, user_id: str) -> dict[str, str]:
    user = emulator.users.get(user_id)
    if user is None:
        raise LookupError(f"unknown user {user_id}; add it with emulator.add_user(...)")
    return {
        "id": user.id,
        "username": user.name,
        "name": user.name,
        "team_id": emulator.team.id,
    }


def common_fields(emulator: SlackEmulator, kind: str, user_id: str) -> dict[str, Any]:
    """The fields every interaction payload starts with, in Slack's order."""
    return {
        "type": kind,
        "user": user_json(emulator, user_id),
        "api_app_id": emulator.bot.app_id,
        "token": VERIFICATION_TOKEN,
    }


def team_json(emulator: SlackEmulator) -> dict[str, str]:
    return {"id": emulator.team.id, "domain": emulator.team.domain}


def channel_name(channel: Channel) -> str:
    return "directmessage" if channel.is_im else channel.name


def action_ts(emulator: SlackEmulator) -> str:
    return f"{emulator.clock():.6f}"


# -- slash commands -----------------------------------------------------------------


def slash_command_fields(
    emulator: SlackEmulator,
    user_id: str,
    command: str,
    text: str,
    *,
    channel: Channel,
    user_name: str,
    response_url: str,
) -> dict[str, str]:
    """The form fields of `/command text` run by `user_id` in `channel`."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": emulator.team.id,
        "team_domain": emulator.team.domain,
        "channel_id": channel.id,
        "channel_name": channel_name(channel),
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": emulator.bot.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": emulator.issue_trigger(user_id),
    }


# -- interactions -------------------------------------------------------------------


def action_payload(
    emulator: SlackEmulator,
    user_id: str,
    surface: Message | StoredView,
    action: dict[str, Any],
    inputs: dict[str, str] | None,
    *,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A block_actions payload for `action` used on `surface` (a message or a view);
    without `state`, the surface's inputs are filled from `inputs` (label → text)."""
    payload = common_fields(emulator, "block_actions", user_id)
    if state is None:
        chosen = None
        if action.get("type") == "static_select":
            chosen = (action["block_id"], action["action_id"], action["selected_option"])
        state = build_state_values(surface, inputs, enforce_client_checks=False, chosen=chosen)
    trigger_id = emulator.issue_trigger(user_id)
    if isinstance(surface, StoredView):
        surface.state_values = state
        view = surface.to_api(emulator.team, emulator.bot)
        payload.update(
            container={"type": "view", "view_id": surface.id},
            trigger_id=trigger_id,
            team=team_json(emulator),
            enterprise=None,
            is_enterprise_install=False,
            view=view,
            actions=[action],
        )
        return payload
    channel = emulator.channels[surface.channel]
    payload.update(
        container={
            "type": "message",
            "message_ts": surface.ts,
            "channel_id": channel.id,
            "is_ephemeral": surface.is_ephemeral,
        },
        trigger_id=trigger_id,
        team=team_json(emulator),
        enterprise=None,
        is_enterprise_install=False,
        channel={"id": channel.id, "name": channel_name(channel)},
    )
    if not surface.is_ephemeral:
        # Slack does not include ephemeral messages in the payload.
        payload["message"] = surface.to_api(emulator.team)
    payload.update(
        state={"values": state},
        response_url=emulator.mint_response_url(channel.id, user_id, surface),
        actions=[action],
    )
    return payload


def view_submission_payload(
    emulator: SlackEmulator, user_id: str, view: StoredView
) -> dict[str, Any]:
    """The modal's submit button pressed, with its current `state_values`."""
    payload = common_fields(emulator, "view_submission", user_id)
    payload = {"type": payload.pop("type"), "team": team_json(emulator), **payload}
    payload.update(
        trigger_id=emulator.issue_trigger(user_id),
        view=view.to_api(emulator.team, emulator.bot),
        response_urls=[],
        is_enterprise_install=False,
        enterprise=None,
    )
    return payload


def view_closed_payload(
    emulator: SlackEmulator, user_id: str, view: StoredView, *, is_cleared: bool
) -> dict[str, Any]:
    """The modal's close button pressed (`is_cleared` when a whole stack closed)."""
    payload = common_fields(emulator, "view_closed", user_id)
    payload.update(
        team=team_json(emulator),
        view=view.to_api(emulator.team, emulator.bot),
        is_cleared=is_cleared,
        is_enterprise_install=False,
        enterprise=None,
    )
    return payload


# -- events -------------------------------------------------------------------------


def event_envelope(
    emulator: SlackEmulator, event: dict[str, Any], *, event_id: str | None
) -> dict[str, Any]:
    """An Events API `event_callback` wrapping `event` (a fresh event id unless given)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": emulator.team.id,
        "context_team_id": emulator.team.id,
        "context_enterprise_id": None,
        "api_app_id": emulator.bot.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(emulator.clock()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": emulator.team.id,
                "user_id": emulator.bot.user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }


def app_home_opened_event(emulator: SlackEmulator, user_id: str) -> dict[str, Any]:
    """The user opens the app's Home tab (with the view shown there, if any)."""
    user_json(emulator, user_id)
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": emulator.dm_channel(user_id).id,
        "tab": "home",
        "event_ts": action_ts(emulator),
    }
    home = emulator.home_view(user_id)
    if home is not None:
        event["view"] = home.to_api(emulator.team, emulator.bot)
    return event
