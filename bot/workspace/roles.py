"""Who may do what: workspace admins and owners (plus PINVERIFY_ADMINS) administer, members of
the workspace's agent user group verify. Checked on the server for every request."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

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
        client: AsyncWebClient | None,
        settings: Settings,
        db: Database,
        clock: Clock,
        ttl: timedelta = ROLE_CACHE_TTL,
    ) -> None:
        self._client = client
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
        client = self._client
        if client is None:
            return False

        async def ask_slack() -> bool:
            try:
                answer = await client.users_info(user=user_id)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                raise RoleCheckFailed(
                    f"PIN Verify could not check your role with Slack ({_reason(exc)}); "
                    "nothing was done. Try again in a minute."
                ) from exc
            user = answer.get("user") or {}
            return not user.get("deleted") and any(
                bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner")
            )

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
        client = self._client
        if client is None:
            raise RoleCheckFailed("PIN Verify has no Slack connection to check your role.")

        async def ask_slack() -> frozenset[str]:
            try:
                answer = await client.usergroups_users_list(usergroup=usergroup)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                raise RoleCheckFailed(
                    "PIN Verify could not check the agent user group with Slack "
                    f"({_reason(exc)}); nothing was done. Try again in a minute, or ask an "
                    "admin to check Settings."
                ) from exc
            return frozenset(str(user) for user in answer.get("users") or [])

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


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "error")
    return type(exc).__name__
