"""The rules a workspace verifies under: environment defaults, overridden per workspace."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from storage import repositories as repo

T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    code_length: int
    code_ttl_seconds: int
    max_attempts: int
    max_sends: int
    contact_failure_cap: int
    supervisor_channel: str | None
    destination_sends_per_hour: int
    agent_sends_per_hour: int
    workspace_sends_per_hour: int
    require_ticket: bool = False
    code_in_ticket_note: Literal["include", "omit"] = "include"
    allow_destination_edits: bool = True
    require_edit_reason: bool = True
    show_code_to_agent: bool = False
    agent_usergroup: str | None = None  # None: everyone in the workspace may verify
    sms_provider: str = "console"
    email_provider: str = "console"
    sms_allowed_countries: tuple[str, ...] = ("US",)
    supervisor_usergroup: str | None = None  # None: only admins see the supervisors' views
    digest: Literal["off", "daily", "weekly"] = "off"

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            code_length=settings.pinverify_code_length,
            code_ttl_seconds=settings.pinverify_code_ttl_seconds,
            max_attempts=settings.pinverify_max_attempts,
            max_sends=settings.pinverify_max_sends,
            contact_failure_cap=settings.pinverify_contact_failure_cap,
            supervisor_channel=settings.pinverify_supervisor_channel,
            destination_sends_per_hour=settings.pinverify_destination_sends_per_hour,
            agent_sends_per_hour=settings.pinverify_agent_sends_per_hour,
            workspace_sends_per_hour=settings.pinverify_workspace_sends_per_hour,
            require_ticket=settings.pinverify_require_ticket,
            code_in_ticket_note=settings.pinverify_code_in_ticket_note,
            allow_destination_edits=settings.pinverify_allow_destination_edits,
            require_edit_reason=settings.pinverify_require_edit_reason,
            show_code_to_agent=settings.pinverify_show_code_to_agent,
            agent_usergroup=settings.pinverify_agent_usergroup,
            sms_provider=settings.sms_provider,
            email_provider=settings.email_provider,
            sms_allowed_countries=settings.sms_allowed_countries,
            supervisor_usergroup=settings.pinverify_supervisor_usergroup,
            digest=settings.pinverify_digest,
        )


def _saved(value: T | None, default: T) -> T:
    return default if value is None else value


async def load_policy(*, session: AsyncSession, team_id: str, defaults: Policy) -> Policy:
    """The workspace's saved choices where it made them (non-NULL), the defaults elsewhere."""
    saved = await repo.get_workspace_policy(session=session, team_id=team_id)
    if saved is None:
        return defaults
    note = saved.code_in_ticket_note
    return replace(
        defaults,
        code_length=_saved(saved.code_length, defaults.code_length),
        code_ttl_seconds=_saved(saved.code_ttl_seconds, defaults.code_ttl_seconds),
        max_attempts=_saved(saved.max_attempts, defaults.max_attempts),
        # "" is an admin's explicit "none" (NULL means "the default").
        supervisor_channel=_saved(saved.supervisor_channel, defaults.supervisor_channel) or None,
        require_ticket=_saved(saved.require_ticket, defaults.require_ticket),
        code_in_ticket_note="omit"
        if note == "omit"
        else "include"
        if note == "include"
        else defaults.code_in_ticket_note,
        allow_destination_edits=_saved(
            saved.allow_destination_edits, defaults.allow_destination_edits
        ),
        require_edit_reason=_saved(saved.require_edit_reason, defaults.require_edit_reason),
        show_code_to_agent=_saved(saved.show_code_to_agent, defaults.show_code_to_agent),
        agent_usergroup=_saved(saved.agent_usergroup, defaults.agent_usergroup) or None,
        sms_provider=_saved(saved.sms_provider, defaults.sms_provider),
        email_provider=_saved(saved.email_provider, defaults.email_provider),
        sms_allowed_countries=tuple(saved.sms_allowed_countries.split(","))
        if saved.sms_allowed_countries
        else defaults.sms_allowed_countries,
        supervisor_usergroup=_saved(saved.supervisor_usergroup, defaults.supervisor_usergroup)
        or None,
        digest=_digest(saved.digest, defaults.digest),
    )


def _digest(
    saved: str | None, default: Literal["off", "daily", "weekly"]
) -> Literal["off", "daily", "weekly"]:
    if saved == "daily":
        return "daily"
    if saved == "weekly":
        return "weekly"
    if saved == "off":
        return "off"
    return default
