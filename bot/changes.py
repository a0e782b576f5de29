"""A port for "a verification just changed": the feature that changed it calls it inside its
own transaction; whoever watches (supervision, wired by the runtime) writes its outbox rows
there too, so a change and what it tells others commit or roll back together.

The domain features that change verifications (verification, delivery) depend on this
Protocol, not on the watcher, which keeps the feature graph acyclic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Verification


class VerificationWatcher(Protocol):
    async def changed(
        self,
        session: AsyncSession,
        verification: Verification,
        *,
        event: str,
        now: datetime,
        actor_user_id: str | None = None,
        seq: int | None = None,
        reason: str | None = None,
    ) -> None:
        """`event` is the AuditKind value of what happened; `seq` the send it was about;
        `reason` what the actor gave (a void's reason)."""
        ...


class NoWatcher:
    """Nobody watches (unit tests of one feature, tools)."""

    async def changed(
        self,
        session: AsyncSession,
        verification: Verification,
        *,
        event: str,
        now: datetime,
        actor_user_id: str | None = None,
        seq: int | None = None,
        reason: str | None = None,
    ) -> None:
        return None
