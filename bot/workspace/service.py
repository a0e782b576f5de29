"""What App Home and the admins' Settings modal read and write, through one service.

The edge never opens a transaction: it asks here for a user's Home (their role, their recent
verifications in this workspace, the policy and its warnings for admins) and for the Settings
form's current values, choices and save.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.errors import RoleCheckFailed
from bot.workspace.policy import Policy, load_policy
from bot.workspace.roles import Role, Roles
from bot.workspace.settings_form import (
    SettingChange,
    SettingsChoices,
    SettingsForm,
    UsergroupChoice,
    save_settings,
    unsafe_settings,
)
from storage import repositories as repo
from storage.db import Database

RECENT_LIMIT = 10


@dataclass(frozen=True)
class RecentVerification:
    contact_name: str
    company: str
    outcome: str | None  # completed | incomplete | None while open
    state: str
    created_at: datetime


@dataclass(frozen=True)
class HomeFacts:
    """One user's Home tab, as of now."""

    role: Role
    recent: Sequence[RecentVerification]
    policy: Policy | None  # admins only: an agent's home never shows the rules' details
    warnings: Sequence[str] = ()
    notice: str | None = None  # why the role could not be checked, when it could not


class WorkspaceService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        roles: Roles,
        defaults: Policy,
        sms_providers: tuple[str, ...],
        email_providers: tuple[str, ...],
        tickets_supported: bool,
        outbox_written: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._roles = roles
        self._defaults = defaults
        # The provider names the server has credentials for: what Settings may choose from.
        self._sms_providers = sms_providers
        self._email_providers = email_providers
        self._tickets_supported = tickets_supported
        self._outbox_written = outbox_written

    async def home(self, *, team_id: str, user_id: str) -> HomeFacts:
        notice = None
        try:
            role = await self._roles.role_of(team_id=team_id, user_id=user_id)
        except RoleCheckFailed as failure:
            # Show nothing privileged while Slack cannot tell us who this is.
            role, notice = Role.NONE, failure.message
        policy: Policy | None = None
        async with self._db.transaction() as session:
            rows = await repo.recent_verifications_for_agent(
                session=session, team_id=team_id, agent_user_id=user_id, limit=RECENT_LIMIT
            )
            if role is Role.ADMIN:
                policy = await load_policy(
                    session=session, team_id=team_id, defaults=self._defaults
                )
        recent = [
            RecentVerification(
                contact_name=row.contact_name,
                company=row.company,
                outcome=row.outcome,
                state=row.state,
                created_at=row.created_at,
            )
            for row in rows
        ]
        return HomeFacts(
            role=role,
            recent=recent,
            policy=policy,
            warnings=unsafe_settings(policy) if policy is not None else (),
            notice=notice,
        )

    async def policy(self, *, team_id: str) -> Policy:
        """The workspace's policy: its saved choices over the environment's defaults."""
        async with self._db.transaction() as session:
            return await load_policy(session=session, team_id=team_id, defaults=self._defaults)

    def settings_choices(
        self, usergroups: tuple[UsergroupChoice, ...], *, listed: bool = True
    ) -> SettingsChoices:
        """What the Settings form offers: configured providers, the workspace's groups."""
        return SettingsChoices(
            sms_providers=self._sms_providers,
            email_providers=self._email_providers,
            usergroups=usergroups,
            usergroups_listed=listed,
            tickets_supported=self._tickets_supported,
        )

    async def save_settings(
        self,
        *,
        team_id: str,
        actor_user_id: str,
        form: SettingsForm,
        usergroups: tuple[UsergroupChoice, ...],
    ) -> list[SettingChange]:
        """Validate and save (raises SettingsInvalid); `usergroups`: what the form offered."""
        return await save_settings(
            db=self._db,
            clock=self._clock,
            team_id=team_id,
            actor_user_id=actor_user_id,
            form=form,
            defaults=self._defaults,
            choices=self.settings_choices(usergroups),
            outbox_written=self._outbox_written,
        )
