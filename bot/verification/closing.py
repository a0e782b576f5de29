"""What closing a verification writes, in the transaction that closed it: its codes voided
(an expired one kept as "expired"), the audit event (closed, or voided with the supervisor's
reason), the closing ticket note, and the watchers told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind
from bot.changes import VerificationWatcher
from bot.tickets import enqueue_close_note
from bot.verification.reports import close_note_facts
from bot.verification.send_records import edit_flag
from bot.verification.snapshots import VerificationSnapshot
from bot.verification.states import Outcome, SendStatus
from bot.workspace import Policy
from storage import repositories as repo
from storage.models import Verification


async def record_close(
    session: AsyncSession,
    *,
    verification: Verification,
    snapshot: VerificationSnapshot,
    policy: Policy,
    outcome: Outcome,
    actor_user_id: str,
    reason: str | None,
    watcher: VerificationWatcher,
    now: datetime,
) -> bool:
    """`snapshot` is taken before the codes are voided, so an expired code is reported as
    expired. Returns whether a ticket note was queued."""
    if snapshot.code_expired:
        # Kept as "expired", so a later redraw (note status) still says so.
        await repo.void_code_sends(
            session=session, verification_id=verification.id, status=SendStatus.EXPIRED
        )
    await repo.void_code_sends(
        session=session, verification_id=verification.id, status=SendStatus.VOIDED
    )
    voided = outcome is Outcome.VOIDED
    event = AuditKind.VERIFICATION_VOIDED if voided else AuditKind.VERIFICATION_CLOSED
    repo.append_audit_event(
        session=session,
        team_id=verification.team_id,
        verification_id=verification.id,
        actor_user_id=actor_user_id,
        kind=event,
        at=now,
        detail={
            "outcome": outcome.value,
            "check": snapshot.check_summary,
            **({"reason": reason} if voided else {}),
            **edit_flag(snapshot.destination_edited, snapshot.edit_reason),
        },
    )
    noted = enqueue_close_note(
        session=session,
        verification=verification,
        facts=close_note_facts(verification, snapshot, closed_at=now),
        policy=policy,
        at=now,
    )
    await watcher.changed(
        session, verification, event=event, now=now, actor_user_id=actor_user_id, reason=reason
    )
    return noted
