"""Who may do what: workspace admins and owners (plus PINVERIFY_ADMINS) administer, members of
the workspace's agent user group verify. Checked on the server for every request.

The facts come from Slack through `WorkspaceDirectory`, a port the edge implements
(commands/slack_directory.py), so the rules here never touch the Slack Web API."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from bot.audit import AuditKind
from bot.clock import Clock
from bot.errors import NotAllowed, RoleCheckFailed
from bot.locks import KeyedLocks
from bot.settings import Settings
from bot.workspace.policy import Policy, load_policy
from storage import repositories as repo
from storage.db import Database

log = logging.getLogger(__name__)

# Long enough that a burst of clicks costs one Slack call, short enough that someone removed
# from the agent group (or demoted) loses access within a minute.
ROLE_CACHE_TTL = timedelta(seconds=60)
CACHE_PRUNE_AT = 5000  # entries; expired ones are dropped past this, so memory stays bounded
T = TypeVar("T")


class DirectoryUnavailable(Exception):
    """The workspace directory (Slack) did not answer; `reason` is its short error name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkspaceDirectory(Protocol):
    """What roles need to know about a workspace's people; raises DirectoryUnavailable."""

    async def is_workspace_admin(self, *, team_id: str, user_id: str) -> bool:
        """An active admin or owner of the workspace."""
        ...

    async def usergroup_members(self, *, team_id: str, usergroup: str) -> frozenset[str]: ...


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    NONE = "none"


@dataclass(frozen=True)
class _Cached(Generic[T]):
    value: T
    until: datetime


class Roles:
    """Answers "what is this user?" from Slack, with a short cache and an audit of refusals."""

    def __init__(
        self,
        *,
        directory: WorkspaceDirectory | None,
        settings: Settings,
        db: Database,
        clock: Clock,
        ttl: timedelta = ROLE_CACHE_TTL,
    ) -> None:
        self._directory = directory
        self._settings = settings
        self._db = db
        self._clock = clock
        self._ttl = ttl
        self._defaults = Policy.from_settings(settings)
        self._workspace_admins: dict[tuple[str, str], _Cached[bool]] = {}
        self._group_members: dict[tuple[str, str], _Cached[frozenset[str]]] = {}
        self._lookups = KeyedLocks()

    async def role_of(self, *, team_id: str, user_id: str) -> Role:
        if await self.is_admin(team_id=team_id, user_id=user_id):
            return Role.ADMIN
        return Role.AGENT if await self._in_agent_group(team_id, user_id) else Role.NONE

    async def _in_agent_group(self, team_id: str, user_id: str) -> bool:
        """True when the workspace has no agent group (everyone verifies) or the user is in it."""
        async with self._db.transaction() as session:
            policy = await load_policy(session=session, team_id=team_id, defaults=self._defaults)
        if policy.agent_usergroup is None:
            return True
        return user_id in await self._members(team_id, policy.agent_usergroup)

    async def is_admin(self, *, team_id: str, user_id: str) -> bool:
        if user_id in self._settings.admin_user_ids:
            return True
        directory = self._directory
        if directory is None:
            return False

        async def ask_slack() -> bool:
            try:
                return await directory.is_workspace_admin(team_id=team_id, user_id=user_id)
            except DirectoryUnavailable as exc:
                raise RoleCheckFailed(
                    f"PIN Verify could not check your role with Slack ({exc.reason}); "
                    "nothing was done. Try again in a minute."
                ) from exc

        return await self._cached(self._workspace_admins, (team_id, user_id), ask_slack)

    async def require_admin(self, *, team_id: str, user_id: str, action: str) -> None:
        """Raise NotAllowed (and audit the refusal) unless `user_id` administers PIN Verify."""
        try:
            if await self.is_admin(team_id=team_id, user_id=user_id):
                return
        except RoleCheckFailed:
            await self._audit_refusal(team_id, user_id, action, reason="role_check_failed")
            raise
        await self._audit_refusal(team_id, user_id, action, reason="not_admin")
        raise NotAllowed(
            "Only PIN Verify admins can do that (workspace admins and owners, and the users "
            "in PINVERIFY_ADMINS). Ask one of them."
        )

    async def is_supervisor(self, *, team_id: str, user_id: str) -> bool:
        """Admins, and the members of the workspace's supervisors' user group (if any)."""
        if await self.is_admin(team_id=team_id, user_id=user_id):
            return True
        async with self._db.transaction() as session:
            policy = await load_policy(session=session, team_id=team_id, defaults=self._defaults)
        if policy.supervisor_usergroup is None:
            return False
        return user_id in await self._members(team_id, policy.supervisor_usergroup)

    async def require_supervisor(self, *, team_id: str, user_id: str, action: str) -> None:
        """Raise NotAllowed (and audit the refusal) unless `user_id` supervises."""
        try:
            if await self.is_supervisor(team_id=team_id, user_id=user_id):
                return
        except RoleCheckFailed:
            await self._audit_refusal(team_id, user_id, action, reason="role_check_failed")
            raise
        await self._audit_refusal(team_id, user_id, action, reason="not_supervisor")
        raise NotAllowed(
            "Only PIN Verify supervisors can do that (the supervisors' user group set in "
            "Settings, and admins). Ask one of them."
        )

    async def require_agent(self, *, team_id: str, user_id: str, action: str) -> None:
        """Raise NotAllowed (and audit the refusal) unless `user_id` may verify callers:
        admins always may; agents when in the agent group, or everyone when none is set."""
        try:
            # The group first: with no group set (or a member clicking) no users.info call.
            if await self._in_agent_group(team_id, user_id) or await self.is_admin(
                team_id=team_id, user_id=user_id
            ):
                return
        except RoleCheckFailed:
            await self._audit_refusal(team_id, user_id, action, reason="role_check_failed")
            raise
        await self._audit_refusal(team_id, user_id, action, reason="not_agent")
        raise NotAllowed(
            "You are not in the user group allowed to verify callers with PIN Verify. "
            "Ask a PIN Verify admin to add you."
        )

    async def _members(self, team_id: str, usergroup: str) -> frozenset[str]:
        directory = self._directory
        if directory is None:
            raise RoleCheckFailed("PIN Verify has no Slack connection to check your role.")

        async def ask_slack() -> frozenset[str]:
            try:
                return await directory.usergroup_members(team_id=team_id, usergroup=usergroup)
            except DirectoryUnavailable as exc:
                raise RoleCheckFailed(
                    "PIN Verify could not check your user group with Slack "
                    f"({exc.reason}); nothing was done. Try again in a minute, or ask an "
                    "admin to check Settings."
                ) from exc

        return await self._cached(self._group_members, (team_id, usergroup), ask_slack)

    async def _cached(
        self,
        cache: dict[tuple[str, str], _Cached[T]],
        key: tuple[str, str],
        ask_slack: Callable[[], Awaitable[T]],
    ) -> T:
        """The cached answer while fresh; else one Slack call, shared by concurrent askers
        (a burst of clicks waits for the first one instead of each asking). Failures raise
        and are never cached."""
        cached = cache.get(key)
        if cached is not None and self._clock.now() < cached.until:
            return cached.value
        async with self._lookups.hold(":".join(key)):
            cached = cache.get(key)
            if cached is not None and self._clock.now() < cached.until:
                return cached.value
            value = await ask_slack()
            now = self._clock.now()
            if len(cache) >= CACHE_PRUNE_AT:
                for stale in [k for k, entry in cache.items() if entry.until <= now]:
                    del cache[stale]
            cache[key] = _Cached(value, now + self._ttl)
            return value

    async def _audit_refusal(self, team_id: str, user_id: str, action: str, *, reason: str) -> None:
        log.warning("access refused", extra={"user": user_id, "action": action, "reason": reason})
        async with self._db.transaction() as session:
            repo.append_audit_event(
                session=session,
                team_id=team_id,
                actor_user_id=user_id,
                kind=AuditKind.ACCESS_REFUSED,
                at=self._clock.now(),
                detail={"action": action[:100], "reason": reason},
            )
