"""The Settings modal: admins only, checked when it opens and again when it is saved."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, Field
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
from commands.inbound.slack_payloads import UserRef, ViewIn
from commands.inbound.text import SLACK_ID_PATTERN, clean_line
from commands.parsing import PayloadError, read_model, trigger_of

log = logging.getLogger(__name__)
SLACK_TROUBLE = (SlackApiError, aiohttp.ClientError, TimeoutError)


async def handle_open_settings(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    deps = deps_from(context)
    user_id, team_id = _who(body)
    trigger_id = trigger_of(body)
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
    values = read_model(ViewIn, view).state.values
    chosen: dict[str, str | None] = {}
    for field in SettingsField:
        state = (values.get(field.value) or {}).get(field.value)
        value: str | None = None
        if state is not None and state.selected_option is not None:
            value = state.selected_option.value
        elif state is not None:
            value = state.value if state.value is not None else state.selected_conversation
        chosen[field.form_field] = clean_line(value)[:400] if value is not None else None
    return SettingsForm(**chosen)


class _OfferedOption(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    value: str = Field(default="", max_length=64)
    text: dict[str, Any] = Field(default_factory=dict)


class _OfferedSelect(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    options: list[_OfferedOption] = Field(default_factory=list, max_length=100)


class _OfferedBlock(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    element: _OfferedSelect = Field(default_factory=_OfferedSelect)


def offered_usergroups(view: Mapping[str, Any]) -> tuple[UsergroupChoice, ...]:
    for raw in read_model(ViewIn, view).blocks:
        if raw.get("block_id") != SettingsField.AGENT_USERGROUP:
            continue
        block = read_model(_OfferedBlock, raw)
        return tuple(
            UsergroupChoice(
                id=option.value,
                # The option reads "@handle (name)".
                handle=clean_line(str(option.text.get("text", ""))).split(" ")[0].lstrip("@")[:80],
                name="",
            )
            for option in block.element.options
            if re.fullmatch(SLACK_ID_PATTERN, option.value) and option.value.startswith("S")
        )
    return ()


def _who(body: Mapping[str, Any]) -> tuple[str, str]:
    user = read_model(UserRef, body.get("user") or {})
    team = body.get("team")
    team_id = (team.get("id") if isinstance(team, dict) else None) or user.team_id or ""
    if not isinstance(team_id, str) or not re.fullmatch(SLACK_ID_PATTERN, team_id):
        raise PayloadError("the request names no workspace")
    return user.id, team_id
