"""What supervisors are told, and when: the `VerificationWatcher` the runtime gives to the
features that change verifications.

Inside each change's own transaction it (1) replaces the payload of the verification's live
message row (one coalesced outbox row: only the newest state is ever posted), starting it at
the first send (or at the close, when no code was sent), and (2) adds a thread reply for each
risk event, once per event (the row's key is unique). It wakes the relay after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind
from bot.outbox import AlertKind, LiveReport, OutboxKind, SupervisorAlert, channel_pace_key
from bot.supervision.live import live_key, live_report
from bot.verification import VerificationSnapshot, VerificationState, build_snapshot
from bot.workspace import Policy, load_policy
from storage import repositories as repo
from storage.models import Verification

# "Repeated failures for one contact": wrong codes in another verification of the same
# contact within this window (the per-contact failure cap counts the same window).
REPEATED_FAILURES_WINDOW = timedelta(hours=24)

_CLOSING = {AuditKind.VERIFICATION_CLOSED, AuditKind.VERIFICATION_VOIDED}
_WRONG = {AuditKind.CODE_CHECK_FAILED, AuditKind.VERIFICATION_LOCKED}


class SupervisionWatcher:
    def __init__(self, *, defaults: Policy, outbox_written: Callable[[], None]) -> None:
        self._defaults = defaults
        self._outbox_written = outbox_written

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
        key = live_key(verification.id)
        existing = await repo.get_outbox_message(session=session, dedupe_key=key)
        starts = event == AuditKind.CODE_SEND_REQUESTED or event in _CLOSING
        if existing is None and not starts:
            return  # nothing sent yet: the live message starts at the first send
        policy = await load_policy(
            session=session, team_id=verification.team_id, defaults=self._defaults
        )
        # A live message stays in the channel it started in, even if Settings move the posts.
        channel = str(existing.payload["channel"]) if existing else policy.supervisor_channel
        if channel is None:
            return
        snapshot = await build_snapshot(
            session,
            verification=verification,
            policy=policy,
            now=now,
            tickets_enabled=False,
            with_history=False,
        )
        voided_by = actor_user_id if event == AuditKind.VERIFICATION_VOIDED else None
        report = live_report(snapshot, channel=channel, policy=policy, voided_by=voided_by)
        payload = report.to_row()
        if existing is None or existing.payload != payload:
            # Unchanged (a check refused while locked, say): no update worth a Slack call.
            await repo.upsert_coalesced_outbox_message(
                session=session,
                kind=OutboxKind.SUPERVISOR_LIVE,
                dedupe_key=key,
                payload=payload,
                at=now,
                verification_id=verification.id,
                pace_key=channel_pace_key(channel),
            )
        for alert_key, alert in await self._alerts(
            session, event, snapshot, report, verification, seq, actor_user_id, reason, now
        ):
            await repo.add_outbox_message_once(
                session=session,
                kind=OutboxKind.SUPERVISOR_ALERT,
                dedupe_key=alert_key,
                payload=alert.to_row(),
                at=now,
                verification_id=verification.id,
                pace_key=channel_pace_key(channel),
            )
        self._kick_after_commit(session)

    async def _alerts(
        self,
        session: AsyncSession,
        event: str,
        snapshot: VerificationSnapshot,
        report: LiveReport,
        verification: Verification,
        seq: int | None,
        actor: str | None,
        reason: str | None,
        now: datetime,
    ) -> list[tuple[str, SupervisorAlert]]:
        base: dict[str, Any] = {
            "channel": report.channel,
            "verification_id": snapshot.id,
            "contact_name": snapshot.contact_name,
            "company": snapshot.company,
            "agent_user_id": snapshot.agent_user_id,
            "failed_checks": snapshot.failed_checks,
            "max_attempts": snapshot.max_attempts,
            "masked_destination": report.masked_destination,
        }
        prefix = f"{OutboxKind.SUPERVISOR_ALERT}:{snapshot.id}"
        alerts: list[tuple[str, SupervisorAlert]] = []

        def add(kind: AlertKind, suffix: str = "", **extra: Any) -> None:
            alerts.append((f"{prefix}:{kind}{suffix}", SupervisorAlert(alert=kind, **base | extra)))

        send = snapshot.latest_send
        if event == AuditKind.CODE_SEND_REQUESTED and snapshot.destination_edited:
            add(AlertKind.DESTINATION_NOT_ON_RECORD, reason=snapshot.edit_reason)
        if (
            event in (AuditKind.CODE_SEND_FAILED, AuditKind.CODE_DELIVERY_STATUS)
            and send is not None
            and send.seq == seq
            and (send.undelivered or send.status == "failed")
        ):
            add(
                AlertKind.DELIVERY_FAILED,
                f":{seq}",
                reason=report.delivery_note or "the provider did not say why",
            )
        if event == AuditKind.VERIFICATION_LOCKED:
            add(AlertKind.LOCKOUT)
        if event in _WRONG:
            failures, verifications = await _contact_failures(session, verification, now)
            if verifications > 1:
                add(
                    AlertKind.REPEATED_FAILURES,
                    contact_failures=failures,
                    contact_verifications=verifications,
                )
        if (
            event == AuditKind.VERIFICATION_CLOSED
            and snapshot.outcome == "completed"
            and snapshot.state != VerificationState.VERIFIED
        ):
            add(AlertKind.COMPLETED_WITHOUT_CODE, reason=snapshot.check_summary)
        if event == AuditKind.VERIFICATION_VOIDED:
            add(AlertKind.VOIDED, actor_user_id=actor, reason=reason)
        return alerts

    def _kick_after_commit(self, session: AsyncSession) -> None:
        """Wake the relay once the rows are visible to it (not before the commit)."""
        sync_session = session.sync_session
        if sync_session.info.get("pinverify_kick"):
            return
        sync_session.info["pinverify_kick"] = True
        kick = self._outbox_written

        def after_commit(_session: Any) -> None:
            kick()

        sa_event.listen(sync_session, "after_commit", after_commit, once=True)


async def _contact_failures(
    session: AsyncSession, verification: Verification, now: datetime
) -> tuple[int, int]:
    """Wrong codes for this verification's contact in the window, and across how many of
    the contact's verifications (this one included)."""
    recent = await repo.contact_verifications_since(
        session=session,
        team_id=verification.team_id,
        contact_ref=verification.contact_ref,
        since=now - REPEATED_FAILURES_WINDOW,
    )
    failing = [row for row in recent if row.failed_checks > 0 or row.id == verification.id]
    return sum(row.failed_checks for row in failing), len(failing)
