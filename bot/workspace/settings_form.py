"""The Settings an admin changes from Slack: validate a submitted form, save what changed,
audit every change (who, what, old → new) and announce it to the supervisors.

Only the settings the admin changed are written; the others stay unset (NULL) and keep
following the environment defaults.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import phonenumbers
from sqlalchemy.exc import IntegrityError

from bot.audit import AuditKind
from bot.clock import Clock
from bot.errors import SettingsInvalid
from bot.outbox import OutboxKind, PolicyAnnouncement, SettingChangeLine, channel_pace_key
from bot.workspace.policy import Policy, load_policy
from storage import repositories as repo
from storage.db import Database

CODE_LENGTH_RANGE = (6, 10)
CODE_TTL_MINUTES_RANGE = (1, 30)
MAX_ATTEMPTS_RANGE = (1, 10)
EVERYONE = "everyone"  # the "who may verify" choice meaning no agent user group
NOBODY = "nobody"  # the "supervisors" choice meaning no supervisors' group (admins only)
DIGESTS = ("off", "daily", "weekly")
MAX_COUNTRIES_TEXT = 200  # the column's width

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,}")
_USERGROUP_ID = re.compile(r"S[A-Z0-9]{6,}")


@dataclass(frozen=True)
class UsergroupChoice:
    id: str
    handle: str
    name: str


@dataclass(frozen=True)
class SettingsChoices:
    """What the form may offer: the providers the runtime has configured and the groups."""

    sms_providers: tuple[str, ...]
    email_providers: tuple[str, ...]
    usergroups: tuple[UsergroupChoice, ...]
    # False when Slack could not list the groups: the form then offers only the current one.
    usergroups_listed: bool = True
    # False with the built-in directory: requiring a ticket would refuse every send.
    tickets_supported: bool = True

    def usergroup_choice(self, usergroup: str) -> UsergroupChoice:
        """The listed group with this id, or a stand-in named by its id."""
        for group in self.usergroups:
            if group.id == usergroup:
                return group
        return UsergroupChoice(id=usergroup, handle=usergroup, name="")

    def usergroup_label(self, usergroup: str | None) -> str:
        if usergroup is None:
            return "everyone in the workspace"
        for group in self.usergroups:
            if group.id == usergroup:
                return f"@{group.handle}"
        return usergroup


@dataclass(frozen=True)
class SettingsForm:
    """The form as submitted, every value still text (None: left empty)."""

    require_ticket: str | None
    code_length: str | None
    code_ttl_minutes: str | None
    max_attempts: str | None
    allow_destination_edits: str | None
    require_edit_reason: str | None
    code_in_ticket_note: str | None
    show_code_to_agent: str | None
    supervisor_channel: str | None
    agent_usergroup: str | None
    sms_provider: str | None
    email_provider: str | None
    sms_allowed_countries: str | None
    supervisor_usergroup: str | None = None  # None: not on the form, keep the current one
    digest: str | None = None


# Settings in the order the modal shows them, with the words admins see.
SETTING_LABELS: dict[str, str] = {
    "require_ticket": "Require a ticket",
    "code_length": "Code length",
    "code_ttl_seconds": "Code lifetime",
    "max_attempts": "Wrong checks before lock",
    "allow_destination_edits": "Allow destination edits",
    "require_edit_reason": "Require a reason for destination edits",
    "code_in_ticket_note": "Code in the ticket note",
    "show_code_to_agent": "Show the code to the agent",
    "supervisor_channel": "Supervisors' channel",
    "agent_usergroup": "Who may verify",
    "sms_provider": "SMS provider",
    "email_provider": "Email provider",
    "sms_allowed_countries": "SMS allowed countries",
    "supervisor_usergroup": "Supervisors",
    "digest": "Supervisors' digest",
}


@dataclass(frozen=True)
class SettingChange:
    setting: str
    old: Any
    new: Any


def _on_off(value: str | None, field: str, errors: dict[str, str]) -> bool:
    if value not in ("on", "off"):
        errors[field] = "Choose On or Off."
        return False
    return value == "on"


def _whole_number(
    value: str | None, field: str, bounds: tuple[int, int], unit: str, errors: dict[str, str]
) -> int:
    low, high = bounds
    text = (value or "").strip()
    if not re.fullmatch(r"[0-9]{1,3}", text) or not low <= int(text) <= high:
        errors[field] = f"Enter a whole number of {unit} from {low} to {high}."
        return low
    return int(text)


def parse_countries(text: str | None) -> tuple[tuple[str, ...], str | None]:
    """'us, CA' → ('US', 'CA'); or an error naming what is not a region code."""
    parts = [part.strip().upper() for part in re.split(r"[,\s;]+", text or "") if part.strip()]
    if not parts:
        return (), "List at least one two-letter country code, e.g. US, CA."
    unknown = [part for part in parts if part not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        shown = ", ".join(unknown[:5])
        return (), f"Not a country code phonenumbers knows: {shown}. Use codes such as US, CA, GB."
    unique = tuple(dict.fromkeys(parts))
    if len(",".join(unique)) > MAX_COUNTRIES_TEXT:
        return (), "Too many countries: list at most about 60."
    return unique, None


def validate_settings(form: SettingsForm, *, current: Policy, choices: SettingsChoices) -> Policy:
    """The policy the form asks for, or SettingsInvalid with one message per wrong field."""
    errors: dict[str, str] = {}
    note = form.code_in_ticket_note
    if note not in ("include", "omit"):
        errors["code_in_ticket_note"] = "Choose Include or Omit."
    channel = (form.supervisor_channel or "").strip() or None
    if channel is not None and not _CHANNEL_ID.fullmatch(channel):
        errors["supervisor_channel"] = "Pick a channel from the list (or clear it for none)."
    group_choice = form.agent_usergroup
    group: str | None = None
    if group_choice != EVERYONE:
        known = {g.id for g in choices.usergroups} | (
            {current.agent_usergroup} if current.agent_usergroup else set()
        )
        if group_choice is None or not _USERGROUP_ID.fullmatch(group_choice):
            errors["agent_usergroup"] = "Pick a user group, or Everyone in the workspace."
        elif group_choice not in known:
            errors["agent_usergroup"] = "That user group no longer exists: pick another."
        else:
            group = group_choice
    if form.sms_provider not in choices.sms_providers:
        errors["sms_provider"] = "Pick one of the SMS providers configured on the server."
    if form.email_provider not in choices.email_providers:
        errors["email_provider"] = "Pick one of the email providers configured on the server."
    supervisors = _supervisor_group(form.supervisor_usergroup, current, choices, errors)
    digest = form.digest if form.digest is not None else current.digest
    if digest not in DIGESTS:
        errors["digest"] = "Choose Off, Daily or Weekly."
        digest = current.digest
    countries, country_problem = parse_countries(form.sms_allowed_countries)
    if country_problem:
        errors["sms_allowed_countries"] = country_problem
    require_ticket = _on_off(form.require_ticket, "require_ticket", errors)
    if require_ticket and not choices.tickets_supported:
        errors["require_ticket"] = (
            "The contact directory in use has no tickets, so every send would be refused; "
            "connect a PSA (CRM_PROVIDER) first."
        )
    wanted = replace(
        current,
        require_ticket=require_ticket,
        code_length=_whole_number(
            form.code_length, "code_length", CODE_LENGTH_RANGE, "digits", errors
        ),
        code_ttl_seconds=60
        * _whole_number(
            form.code_ttl_minutes, "code_ttl_minutes", CODE_TTL_MINUTES_RANGE, "minutes", errors
        ),
        max_attempts=_whole_number(
            form.max_attempts, "max_attempts", MAX_ATTEMPTS_RANGE, "wrong checks", errors
        ),
        allow_destination_edits=_on_off(
            form.allow_destination_edits, "allow_destination_edits", errors
        ),
        require_edit_reason=_on_off(form.require_edit_reason, "require_edit_reason", errors),
        code_in_ticket_note="omit" if note == "omit" else "include",
        show_code_to_agent=_on_off(form.show_code_to_agent, "show_code_to_agent", errors),
        supervisor_channel=channel,
        agent_usergroup=group,
        sms_provider=form.sms_provider or current.sms_provider,
        email_provider=form.email_provider or current.email_provider,
        sms_allowed_countries=countries or current.sms_allowed_countries,
        supervisor_usergroup=supervisors,
        digest="daily" if digest == "daily" else "weekly" if digest == "weekly" else "off",
    )
    if errors:
        raise SettingsInvalid(errors)
    return wanted


def _supervisor_group(
    choice: str | None, current: Policy, choices: SettingsChoices, errors: dict[str, str]
) -> str | None:
    if choice is None:
        return current.supervisor_usergroup
    if choice == NOBODY:
        return None
    known = {g.id for g in choices.usergroups} | (
        {current.supervisor_usergroup} if current.supervisor_usergroup else set()
    )
    if not _USERGROUP_ID.fullmatch(choice):
        errors["supervisor_usergroup"] = "Pick a user group, or No supervisors' group."
    elif choice not in known:
        errors["supervisor_usergroup"] = "That user group no longer exists: pick another."
    else:
        return choice
    return current.supervisor_usergroup


def changes_between(current: Policy, wanted: Policy) -> list[SettingChange]:
    return [
        SettingChange(name, getattr(current, name), getattr(wanted, name))
        for name in SETTING_LABELS
        if getattr(current, name) != getattr(wanted, name)
    ]


def _column_value(change: SettingChange) -> Any:
    """How a chosen value is stored: "" stores an explicit "none" (NULL means the default)."""
    if change.setting in ("supervisor_channel", "agent_usergroup", "supervisor_usergroup"):
        return change.new or ""
    if change.setting == "sms_allowed_countries":
        return ",".join(change.new)
    return change.new


def describe_value(setting: str, value: Any, choices: SettingsChoices) -> str:
    """A value as admins read it, in plain words (the edge escapes and links channels)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if setting == "code_ttl_seconds":
        return f"{int(value) // 60} min"
    if setting == "code_length":
        return f"{value} digits"
    if setting == "supervisor_channel":
        return str(value) if value else "none"
    if setting == "agent_usergroup":
        return choices.usergroup_label(value)
    if setting == "supervisor_usergroup":
        return choices.usergroup_label(value) if value else "admins only"
    if setting == "sms_allowed_countries":
        return ", ".join(value)
    return str(value)


async def save_settings(
    *,
    db: Database,
    clock: Clock,
    team_id: str,
    actor_user_id: str,
    form: SettingsForm,
    defaults: Policy,
    choices: SettingsChoices,
    outbox_written: Callable[[], None] = lambda: None,
) -> list[SettingChange]:
    """Validate and save in one transaction with the audit events and the announcement(s)."""
    save = functools.partial(
        _save_once,
        db=db,
        clock=clock,
        team_id=team_id,
        actor_user_id=actor_user_id,
        form=form,
        defaults=defaults,
        choices=choices,
    )
    try:
        changes, announced = await save()
    except IntegrityError:
        # Two admins saved the workspace's first settings at once; the other row now exists.
        changes, announced = await save()
    if announced:
        outbox_written()
    return changes


async def _save_once(
    *,
    db: Database,
    clock: Clock,
    team_id: str,
    actor_user_id: str,
    form: SettingsForm,
    defaults: Policy,
    choices: SettingsChoices,
) -> tuple[list[SettingChange], bool]:
    now = clock.now()
    async with db.transaction() as session:
        current = await load_policy(session=session, team_id=team_id, defaults=defaults)
        wanted = validate_settings(form, current=current, choices=choices)
        changes = changes_between(current, wanted)
        if not changes:
            return [], False
        await repo.save_workspace_policy(
            session=session,
            team_id=team_id,
            values={change.setting: _column_value(change) for change in changes},
            updated_by=actor_user_id,
            at=now,
        )
        lines = []
        for change in changes:
            is_channel = change.setting == "supervisor_channel"
            lines.append(
                SettingChangeLine(
                    setting=SETTING_LABELS[change.setting],
                    old=describe_value(change.setting, change.old, choices),
                    new=describe_value(change.setting, change.new, choices),
                    old_channel=change.old if is_channel and change.old else None,
                    new_channel=change.new if is_channel and change.new else None,
                )
            )
            repo.append_audit_event(
                session=session,
                team_id=team_id,
                actor_user_id=actor_user_id,
                kind=AuditKind.SETTING_CHANGED,
                at=now,
                detail={
                    "setting": change.setting,
                    "old": _plain(change.old),
                    "new": _plain(change.new),
                },
            )
        # The old channel hears that the posts are moving away from it, so nobody can
        # redirect the supervisors' view quietly.
        channels = [c for c in (wanted.supervisor_channel, current.supervisor_channel) if c]
        batch = uuid.uuid4().hex
        for channel in dict.fromkeys(channels):
            repo.add_outbox_message(
                session=session,
                kind=OutboxKind.POLICY_ANNOUNCEMENT,
                dedupe_key=f"{OutboxKind.POLICY_ANNOUNCEMENT}:{batch}:{channel}",
                payload=PolicyAnnouncement(
                    channel=channel,
                    actor_user_id=actor_user_id,
                    changes=tuple(lines),
                    team_id=team_id,
                ).to_row(),
                at=now,
                pace_key=channel_pace_key(channel),
            )
    return changes, bool(channels)


def _plain(value: Any) -> Any:
    """A JSON-safe value for the audit row."""
    if isinstance(value, tuple):
        return list(value)
    return value


def unsafe_settings(policy: Policy) -> list[str]:
    """What App Home warns admins about, most dangerous first."""
    warnings = []
    if policy.agent_usergroup is None:
        warnings.append(
            "Everyone in the workspace may verify callers: pick an agent user group in Settings."
        )
    if policy.show_code_to_agent:
        warnings.append(
            "Codes are shown to agents: an agent (or whoever uses their Slack) can verify a "
            "caller without the caller's phone or mailbox."
        )
    if policy.allow_destination_edits and not policy.require_edit_reason:
        warnings.append(
            "Agents may send codes to a number or address not on record without giving a reason."
        )
    if policy.code_in_ticket_note == "include":
        warnings.append(
            "Codes are written into ticket notes, where anyone with the ticket reads them."
        )
    if policy.supervisor_channel is None:
        warnings.append("No supervisors' channel: nobody else sees verifications as they close.")
    return warnings
