"""The supervisors' figures: for today, 7 days and 30 days, how many verifications, how many
completed with and without a verified code, incomplete, locked out, with an edited
destination, and the median time from open to verified; per agent and per client company.

A verification counts in the window it was opened in. "Today" starts at midnight in
PINVERIFY_TIMEZONE. Counted from the verifications table (one row each), so the figures and
a hand count of the same rows always agree.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.outbox import DigestRow
from bot.verification import Outcome, VerificationState
from storage.repositories.supervision import FigureRow

WINDOWS = ("today", "7 days", "30 days")


@dataclass
class Counts:
    verifications: int = 0
    completed_verified: int = 0
    completed_unverified: int = 0
    incomplete: int = 0
    voided: int = 0
    open: int = 0
    lockouts: int = 0
    destination_edits: int = 0
    seconds_to_verify: list[float] = field(default_factory=list)

    def add(self, row: FigureRow) -> None:
        self.verifications += 1
        verified = row.verified_at is not None
        if row.outcome == Outcome.COMPLETED:
            if verified:
                self.completed_verified += 1
            else:
                self.completed_unverified += 1
        elif row.outcome == Outcome.INCOMPLETE:
            self.incomplete += 1
        elif row.outcome == Outcome.VOIDED:
            self.voided += 1
        else:
            self.open += 1
        if row.state == VerificationState.LOCKED:
            self.lockouts += 1
        if row.destination_edited:
            self.destination_edits += 1
        if row.verified_at is not None:
            self.seconds_to_verify.append((row.verified_at - row.created_at).total_seconds())

    @property
    def median_seconds_to_verify(self) -> float | None:
        return statistics.median(self.seconds_to_verify) if self.seconds_to_verify else None

    def as_row(self, label: str) -> DigestRow:
        return DigestRow(
            label=label,
            verifications=self.verifications,
            completed_verified=self.completed_verified,
            completed_unverified=self.completed_unverified,
            incomplete=self.incomplete,
            lockouts=self.lockouts,
            destination_edits=self.destination_edits,
            median_seconds_to_verify=self.median_seconds_to_verify,
        )


def count(rows: Iterable[FigureRow]) -> Counts:
    counts = Counts()
    for row in rows:
        counts.add(row)
    return counts


def breakdown(rows: Iterable[FigureRow], key: str) -> list[DigestRow]:
    """Per agent (`agent_user_id`) or per company, busiest first."""
    groups: dict[str, Counts] = {}
    for row in rows:
        groups.setdefault(str(getattr(row, key)) or "(no company)", Counts()).add(row)
    ordered = sorted(groups.items(), key=lambda item: (-item[1].verifications, item[0]))
    return [counts.as_row(label) for label, counts in ordered]


def window_starts(now: datetime, timezone: str) -> dict[str, datetime]:
    local = now.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "today": midnight,
        "7 days": now - timedelta(days=7),
        "30 days": now - timedelta(days=30),
    }


@dataclass(frozen=True)
class OpenVerification:
    verification_id: str
    agent_user_id: str
    contact_name: str
    company: str
    state: str
    failed_checks: int
    created_at: datetime


@dataclass(frozen=True)
class SupervisorFigures:
    """What a supervisor's Home shows."""

    window: str  # which window the breakdowns are for
    totals: dict[str, DigestRow]  # per window
    by_agent: list[DigestRow]
    by_company: list[DigestRow]
    open_now: list[OpenVerification]
    open_count: int


def figures_from(
    rows: list[FigureRow], *, now: datetime, timezone: str, window: str
) -> tuple[dict[str, DigestRow], list[DigestRow], list[DigestRow]]:
    starts = window_starts(now, timezone)
    totals = {
        name: count(row for row in rows if row.created_at >= start).as_row(name)
        for name, start in starts.items()
    }
    chosen = [row for row in rows if row.created_at >= starts[window]]
    return totals, breakdown(chosen, "agent_user_id"), breakdown(chosen, "company")
