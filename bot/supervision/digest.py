"""The supervisors' digest: the figures of the last day or week, with a small chart, posted
to the supervisors' channel once per period.

`DigestScheduler.tick(now)` runs in the background of every replica (once a minute). For each
workspace whose policy asks for a digest, once the period has ended (midnight in
PINVERIFY_TIMEZONE; weeks end on Monday), it writes one outbox row whose key names the
workspace and the period: a second replica, or a restart, finds the row there and writes
nothing. The row carries the figures as of then; the edge draws the chart and posts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.outbox import OutboxAttempt, OutboxDraft, OutboxKind, SupervisorDigest, channel_pace_key
from bot.supervision.figures import breakdown, count
from bot.workspace import Policy, load_policy
from storage import repositories as repo
from storage.db import Database

log = logging.getLogger(__name__)
TICK_SECONDS = 60.0


def period_bounds(
    now: datetime, timezone: str, period: Literal["daily", "weekly"]
) -> tuple[datetime, datetime]:
    """The last complete day (or Monday-to-Monday week) before `now`, in `timezone`."""
    local = now.astimezone(ZoneInfo(timezone))
    end = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "weekly":
        end -= timedelta(days=end.weekday())
        return end - timedelta(days=7), end
    return end - timedelta(days=1), end


def digest_key(team_id: str, period: str, starts: datetime) -> str:
    return f"{OutboxKind.SUPERVISOR_DIGEST}:{team_id}:{period}:{starts.date().isoformat()}"


def digest_filename(digest: SupervisorDigest) -> str:
    day = digest.starts.date().isoformat()
    return f"pinverify-{digest.period}-digest-{digest.team_id}-{day}.png"


class DigestScheduler:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        defaults: Policy,
        timezone: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._defaults = defaults
        self._timezone = timezone

    async def tick(self) -> list[str]:
        """Write the digest rows now due; returns their keys (none when already written)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            teams = await repo.active_team_ids(session=session, since=now - timedelta(days=8))
        written = []
        for team_id in teams:
            async with self._db.transaction() as session:
                policy = await load_policy(
                    session=session, team_id=team_id, defaults=self._defaults
                )
                if policy.digest == "off" or policy.supervisor_channel is None:
                    continue
                starts, ends = period_bounds(now, self._timezone, policy.digest)
                key = digest_key(team_id, policy.digest, starts)
                if await repo.get_outbox_message(session=session, dedupe_key=key):
                    continue
                rows = await repo.figure_rows(
                    session=session, team_id=team_id, since=starts, until=ends
                )
                days = []
                day = starts
                while day < ends:
                    following = day + timedelta(days=1)
                    label = day.date().isoformat()
                    days.append(
                        count(r for r in rows if day <= r.created_at < following).as_row(label)
                    )
                    day = following
                digest = SupervisorDigest(
                    channel=policy.supervisor_channel,
                    team_id=team_id,
                    period=policy.digest,
                    starts=starts,
                    ends=ends,
                    totals=count(rows).as_row("total"),
                    by_day=tuple(days),
                    by_agent=tuple(breakdown(rows, "agent_user_id")[:10]),
                    by_company=tuple(breakdown(rows, "company")[:10]),
                )
                if await repo.add_outbox_message_once(
                    session=session,
                    kind=OutboxKind.SUPERVISOR_DIGEST,
                    dedupe_key=key,
                    payload=digest.to_row(),
                    at=now,
                    pace_key=channel_pace_key(policy.supervisor_channel),
                ):
                    written.append(key)
        return written

    async def run_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("digest tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.sleep(TICK_SECONDS)


class DigestPoster(Protocol):
    """The port the edge implements: draw the chart and post the digest (idempotently: on
    a retry it looks for the file first); raises DeliveryDeferred on Slack trouble."""

    async def post_digest(
        self, digest: SupervisorDigest, *, filename: str, retry: bool
    ) -> None: ...


class DigestHandler:
    def __init__(self, poster: DigestPoster) -> None:
        self._poster = poster

    async def deliver(self, attempt: OutboxAttempt) -> None:
        digest = SupervisorDigest.from_row(attempt.payload)
        await self._poster.post_digest(
            digest, filename=digest_filename(digest), retry=not attempt.first
        )

    async def settled(self, attempt: OutboxAttempt, *, error: str | None) -> None:
        return None

    def escalate(self, attempt: OutboxAttempt, *, error: str) -> list[OutboxDraft]:
        return []
