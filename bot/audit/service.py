"""The audit trail as App Home offers it to admins: an export of one workspace's recent
events (the caller checks the role), itself recorded in the trail."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from bot.audit.export import export_trail
from bot.audit.kinds import AuditKind
from bot.clock import Clock
from storage import repositories as repo
from storage.audit_chain import canonical_time
from storage.db import Database

DOWNLOAD_DAYS = 30


class AuditService:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def export_recent(self, *, team_id: str, actor_user_id: str, out: TextIO) -> int:
        """Write this workspace's last 30 days as CSV to `out`; returns how many events."""
        now = self._clock.now()
        since, until = now - timedelta(days=DOWNLOAD_DAYS), now + timedelta(seconds=1)
        written = await export_trail(
            self._db, out, fmt="csv", since=since, until=until, team_id=team_id
        )
        async with self._db.transaction() as session:
            repo.append_audit_event(
                session=session,
                team_id=team_id,
                actor_user_id=actor_user_id,
                kind=AuditKind.AUDIT_EXPORTED,
                at=self._clock.now(),
                detail={
                    "since": canonical_time(since),
                    "until": canonical_time(until),
                    "events": written,
                    "format": "csv",
                },
            )
        return written
