"""A contact's recent history, shown where the agent decides (the card): lockouts, wrong
codes, edited destinations and the last successful verification in the past 30 days, and
whether the contact is locked out right now (the per-contact failure cap of 24 hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Channel
from bot.verification.send_rules import CONTACT_FAILURE_WINDOW
from bot.verification.states import VerificationState
from storage import repositories as repo
from storage.models import Verification

HISTORY_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class LastVerified:
    at: datetime
    agent_user_id: str
    method: str | None  # "SMS" | "Email"


@dataclass(frozen=True)
class ContactHistory:
    """The contact's other verifications in the window (this one's own counts excluded)."""

    lockouts: int
    failed_checks: int
    destination_edits: int
    last_verified: LastVerified | None
    last_lockout_at: datetime | None
    # Wrong codes for the contact in the last 24 hours (this verification's included), and
    # whether that reaches the cap: no code can be sent to them until the window passes.
    failures_24h: int
    failure_cap: int

    @property
    def locked_out(self) -> bool:
        return self.failures_24h >= self.failure_cap

    @property
    def warning(self) -> bool:
        """Worth a clear warning: locked out now, or locked or failed recently."""
        return self.locked_out or self.lockouts > 0 or self.failed_checks > 0

    @property
    def empty(self) -> bool:
        return not (self.warning or self.destination_edits or self.last_verified)


async def contact_history(
    session: AsyncSession, *, verification: Verification, failure_cap: int, now: datetime
) -> ContactHistory:
    rows = await repo.contact_verifications_since(
        session=session,
        team_id=verification.team_id,
        contact_ref=verification.contact_ref,
        since=now - HISTORY_WINDOW,
    )
    others = [row for row in rows if row.id != verification.id]
    locked = [row for row in others if row.state == VerificationState.LOCKED]
    verified = [row for row in others if row.verified_at is not None]
    last_verified = None
    if verified:
        latest = max(verified, key=lambda row: row.verified_at or row.created_at)
        channels = await repo.used_send_channels(session=session, verification_ids=[latest.id])
        channel = channels.get(latest.id)
        assert latest.verified_at is not None
        last_verified = LastVerified(
            at=latest.verified_at,
            agent_user_id=latest.agent_user_id,
            method=Channel(channel).label if channel else None,
        )
    failures_24h = await repo.recent_failures_for_contact(
        session=session,
        contact_ref=verification.contact_ref,
        since=now - CONTACT_FAILURE_WINDOW,
    )
    return ContactHistory(
        lockouts=len(locked),
        failed_checks=sum(row.failed_checks for row in others),
        destination_edits=sum(1 for row in others if row.phone_edited or row.email_edited),
        last_verified=last_verified,
        last_lockout_at=max((row.created_at for row in locked), default=None),
        failures_24h=failures_24h,
        failure_cap=failure_cap,
    )
