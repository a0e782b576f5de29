"""The Settings modal: admins only, checked when it opens and again when it is saved."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps, deps_from
from bot.errors import NotAllowed, SettingsInvalid
from bot.workspace import (
    SettingsChoices,
    SettingsForm,
    UsergroupChoice,
)
from commands.blocks import notice_modal
from commands.home.listeners import publish_home
from commands.home.settings_views import settings_modal
from commands.ids import SettingsField
from commands.parsing import PayloadError

log = logging.getLogger(__name__)
SLACK_TROUBLE = (SlackApiError, aiohttp.ClientError, TimeoutError)


async def handle_open_settings(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    deps = deps_from(context)
    user_id, team_id = _who(body)
    trigger_id = str(body.get("trigger_id") or "")
    # Open at once (the trigger lasts 3 s), then fill in: the role and group lookups may not.
    opened = await client.views_open(
        trigger_id=trigger_id, view=notice_modal("PIN Verify settings", "Loading…").to_dict()
    )
    view_id = str(opened["view"]["id"])
    try:
        await deps.roles.require_admin(team_id=team_id, user_id=user_id, action="open settings")
    except NotAllowed as refusal:
        await client.views_update(
            view_id=view_id, view=notice_modal("Not allowed", refusal.message).to_dict()
        )
        return
    choices = await settings_choices(deps, client)
    policy = await deps.workspace.policy(team_id=team_id)
    await client.views_update(view_id=view_id, view=settings_modal(policy, choices).to_dict())


async def handle_submit_settings(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps = deps_from(context)
    user_id, team_id = _who(body)
    try:
        await deps.roles.require_admin(team_id=team_id, user_id=user_id, action="save settings")
    except NotAllowed as refusal:
        await ack(response_action="errors", errors={SettingsField.REQUIRE_TICKET: refusal.message})
        return
    form = parse_settings_form(view)
    try:
        changes = await deps.workspace.save_settings(
            team_id=team_id,
            actor_user_id=user_id,
            form=form,
            # The groups this modal offered: Slack signs the view it sends back, and asking
            # Slack again here would spend the 3 seconds the ack has.
            usergroups=offered_usergroups(view),
        )
    except SettingsInvalid as invalid:
        await ack(
            response_action="errors",
            errors={f"set_{field}": message for field, message in invalid.errors.items()},
        )
        return
    await ack()
    log.info("settings saved", extra={"user": user_id, "changed": [c.setting for c in changes]})
    await publish_home(deps, client, team_id=team_id, user_id=user_id)


async def settings_choices(deps: Deps, client: AsyncWebClient) -> SettingsChoices:
    """What the form offers: configured providers, and the workspace's user groups."""
    try:
        answer = await client.usergroups_list(include_disabled=False)
    except SLACK_TROUBLE as exc:
        log.warning("could not list user groups", extra={"error": type(exc).__name__})
        groups: tuple[UsergroupChoice, ...] = ()
        listed = False
    else:
        groups = tuple(
            UsergroupChoice(
                id=str(group["id"]),
                handle=str(group.get("handle") or ""),
                name=str(group.get("name") or ""),
            )
            for group in answer.get("usergroups") or []
        )
        listed = True
    return deps.workspace.settings_choices(groups, listed=listed)


def parse_settings_form(view: Mapping[str, Any]) -> SettingsForm:
    values = ((view.get("state") or {}).get("values")) or {}
    if not isinstance(values, Mapping):
        raise PayloadError("settings view without state")
    chosen: dict[str, str | None] = {}
    for field in SettingsField:
        state = (values.get(field.value) or {}).get(field.value) or {}
        option = state.get("selected_option")
        if isinstance(option, Mapping):
            value = option.get("value")
        else:
            value = state.get("value", state.get("selected_conversation"))
        chosen[field.form_field] = str(value)[:400] if value is not None else None
    return SettingsForm(**chosen)


def offered_usergroups(view: Mapping[str, Any]) -> tuple[UsergroupChoice, ...]:
    for block in view.get("blocks") or []:
        if block.get("block_id") != SettingsField.AGENT_USERGROUP:
            continue
        options = (block.get("element") or {}).get("options") or []
        return tuple(
            UsergroupChoice(
                id=str(option.get("value")),
                # The option reads "@handle (name)".
                handle=str((option.get("text") or {}).get("text", "")).split(" ")[0].lstrip("@"),
                name="",
            )
            for option in options
            if str(option.get("value", "")).startswith("S")
        )
    return ()


def _who(body: Mapping[str, Any]) -> tuple[str, str]:
    user = body.get("user") or {}
    team = body.get("team") or {}
    user_id = str(user.get("id") or "")
    team_id = str(team.get("id") or user.get("team_id") or "")
    if not user_id or not team_id:
        raise PayloadError("no user or team in the payload")
    return user_id, team_id
