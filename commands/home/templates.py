"""Listeners for the PIN templates modal: open (App Home button), preview, test, reset, save.

Admins only, checked on the server at every step (open, each button, submit): a crafted
request from anyone else is refused with a message and audited by `Roles`.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import phonenumbers
from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Channel
from bot.deps import Deps, deps_from
from bot.errors import NotAllowed, TemplateTestRefused
from bot.templates import TemplateField, TemplatesInvalid
from commands.blocks import notice_modal
from commands.home.template_views import (
    TemplateEditor,
    TemplateForm,
    block_id,
    error_map,
    parse_template_form,
    templates_modal,
)
from commands.ids import ActionId, CallbackId
from commands.inbound.slack_payloads import BlockActions
from commands.parsing import read_model, team_of, trigger_of, user_name

log = logging.getLogger(__name__)

TEST_CHANNELS = {
    ActionId.TEMPLATES_TEST_SMS.value: Channel.SMS,
    ActionId.TEMPLATES_TEST_EMAIL.value: Channel.EMAIL,
}


async def handle_open_templates(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The App Home's "Edit PIN templates" button."""
    await ack()
    deps = deps_from(context)
    payload = read_model(BlockActions, body)
    user_id, team_id = payload.user.id, team_of(payload)
    trigger_id = trigger_of(body)
    # The trigger lives 3 seconds and the role check may wait on Slack: open an empty modal
    # first, then fill it in (or turn it into the refusal).
    opened = await client.views_open(
        trigger_id=trigger_id,
        view=notice_modal("PIN templates", "Loading the templates…").to_dict(),
    )
    view = opened.get("view") or {}
    try:
        await deps.roles.require_admin(
            team_id=team_id, user_id=user_id, action=ActionId.EDIT_TEMPLATES
        )
    except NotAllowed as refusal:
        shown = notice_modal("Not allowed", refusal.message)
    else:
        shown = templates_modal(await _editor(deps, team_id, user_name(payload.user), revision=0))
    await client.views_update(view_id=str(view.get("id")), hash=view.get("hash"), view=shown)


async def handle_submit_templates(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Save: the answer must carry the errors, so validation runs before the ack."""
    deps = deps_from(context)
    form = parse_template_form(body)
    try:
        await deps.roles.require_admin(
            team_id=form.team_id, user_id=form.user_id, action=CallbackId.EDIT_TEMPLATES
        )
    except NotAllowed as refusal:
        await ack(
            response_action="errors",
            errors={block_id(TemplateField.SMS, form.revision): refusal.message},
        )
        return
    if form.unreadable:
        await ack(response_action="errors", errors=error_map(form.unreadable, form.revision))
        return
    try:
        await deps.templates.save(
            team_id=form.team_id,
            actor_user_id=form.user_id,
            templates=form.templates,
            agent_name=form.user_name,
        )
    except TemplatesInvalid as invalid:
        await ack(response_action="errors", errors=error_map(invalid.check.errors, form.revision))
        return
    await ack()


async def handle_template_action(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Preview, Send me a test SMS / email, Reset to default: redraw the modal in place."""
    await ack()
    deps = deps_from(context)
    form = parse_template_form(body)
    action_id = read_model(BlockActions, body).actions[0].action_id
    try:
        await deps.roles.require_admin(team_id=form.team_id, user_id=form.user_id, action=action_id)
    except NotAllowed as refusal:
        await _redraw(client, form, _typed(form, notice=refusal.message))
        return
    if form.unreadable and action_id != ActionId.TEMPLATES_RESET:
        notice = "Fix the problems below first."
        await _redraw(client, form, _typed(form, notice=notice, problems=form.unreadable))
        return
    if action_id == ActionId.TEMPLATES_RESET:
        changed = await deps.templates.reset(team_id=form.team_id, actor_user_id=form.user_id)
        notice = (
            "Back to the shipped templates; the next code uses them."
            if changed
            else "These already are the shipped templates."
        )
        editor = await _editor(deps, form.team_id, form.user_name, form.revision + 1, notice)
    elif action_id in TEST_CHANNELS:
        editor = await _send_test(deps, client, form, TEST_CHANNELS[action_id])
    else:
        check = await deps.templates.check(
            team_id=form.team_id, templates=form.templates, agent_name=form.user_name
        )
        editor = _typed(
            form,
            notice="Preview updated. Not saved yet: press Save." if check.ok else None,
            preview=check.preview,
            problems=check.errors,
        )
    await _redraw(client, form, editor)


async def _send_test(
    deps: Deps, client: AsyncWebClient, form: TemplateForm, channel: Channel
) -> TemplateEditor:
    try:
        destination = await _own_destination(deps, client, form.user_id, channel)
    except LookupError as missing:
        return _typed(form, notice=str(missing))
    try:
        masked = await deps.templates.send_test(
            team_id=form.team_id,
            actor_user_id=form.user_id,
            agent_name=form.user_name,
            templates=form.templates,
            channel=channel,
            destination=destination,
        )
    except TemplatesInvalid as invalid:
        return _typed(
            form,
            notice="Fix the problems below before sending a test.",
            problems=invalid.check.errors,
        )
    except TemplateTestRefused as refused:
        return _typed(form, notice=refused.message)
    return _typed(
        form, notice=f"Test {channel.label} sent to {masked} with sample data (code 482913)."
    )


async def _own_destination(
    deps: Deps, client: AsyncWebClient, user_id: str, channel: Channel
) -> str:
    """The admin's own address or number from their Slack profile (users.info)."""
    try:
        answer = await client.users_info(user=user_id)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        raise LookupError(
            f"Could not read your Slack profile ({type(exc).__name__}); try again."
        ) from exc
    profile = (answer.get("user") or {}).get("profile") or {}
    if channel is Channel.EMAIL:
        email = str(profile.get("email") or "").strip()
        if not email:
            raise LookupError("Your Slack profile has no email address PIN Verify can see.")
        return email
    phone = str(profile.get("phone") or "").strip()
    region = deps.settings.pinverify_default_region
    try:
        number = phonenumbers.parse(phone, region) if phone else None
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise LookupError(
            "Your Slack profile has no valid phone number: add one (with +country code) to "
            "get a test SMS."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def _editor(
    deps: Deps, team_id: str, user_name: str, revision: int, notice: str | None = None
) -> TemplateEditor:
    stored = await deps.templates.current(team_id=team_id)
    check = await deps.templates.check(
        team_id=team_id, templates=stored.templates, agent_name=user_name
    )
    return TemplateEditor(
        templates=stored.templates,
        revision=revision,
        is_default=stored.is_default,
        updated_by=stored.updated_by,
        updated_at=stored.updated_at,
        preview=check.preview,
        problems=check.errors,
        notice=notice,
    )


def _typed(form: TemplateForm, **shown: Any) -> TemplateEditor:
    """The modal as typed, so a redraw never loses the admin's edits."""
    return TemplateEditor(
        templates=form.templates, revision=form.revision, is_default=False, **shown
    )


async def _redraw(client: AsyncWebClient, form: TemplateForm, editor: TemplateEditor) -> None:
    try:
        await client.views_update(
            view_id=form.view_id, hash=form.view_hash, view=templates_modal(editor)
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        # hash_conflict: a newer redraw won; the modal already shows something current.
        log.warning("templates modal update failed", extra={"error": type(exc).__name__})
