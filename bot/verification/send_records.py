"""What a send writes once the provider has answered: the code_sends row, the audit event and
the ticket note; and what the audit log keeps about a send (masked, never the code).

Each function runs inside the caller's transaction; the caller commits and wakes the outbox.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind, send_detail
from bot.delivery import Attempts, Channel, failure_text, receipt_status
from bot.masking import mask_destination
from bot.tickets import enqueue_send_note
from bot.verification.destinations import destination_edited
from bot.verification.reports import send_note_facts
from bot.verification.states import UNDECIDED, SendStatus, VerificationState
from bot.workspace import Policy
from providers.errors import DeliveryError
from storage import repositories as repo
from storage.models import CodeSend, Verification


async def record_send_success(
    session: AsyncSession,
    *,
    verification: Verification,
    policy: Policy,
    send: CodeSend,
    code: str,
    message_id: str | None,
    status: str,
    attempts: Attempts[tuple[str, str]],
    now: datetime,
) -> bool:
    """Mark the send sent (or voided, when the verification moved on meanwhile); returns
    whether a ticket note was queued."""
    unconfirmed = message_id is None
    # The message went out whatever happens to the code below: the ticket says so.
    noted = enqueue_send_note(
        session=session,
        verification=verification,
        facts=send_note_facts(verification, send, code=code, policy=policy, at=now),
        policy=policy,
        at=now,
    )
    row = await repo.get_code_send(
        session=session, verification_id=send.verification_id, seq=send.seq
    )
    assert row is not None  # reserved above in a committed transaction
    row.sent_at = now
    row.provider_message_id = message_id[:128] if message_id else None
    row.delivery_status = receipt_status(status)
    row.delivery_updated_at = now
    if unconfirmed and attempts.error is not None:
        row.delivery_error = failure_text(
            attempts.error,
            channel=send.channel,
            masked_destination=mask_destination(send.channel, send.destination),
        )
    live = await repo.live_code_send(session=session, verification_id=send.verification_id)
    superseded = live is not None and live.seq > send.seq
    usable = verification.outcome is None and verification.state in UNDECIDED
    if row.status == SendStatus.SENDING and usable and not superseded:
        row.status = SendStatus.SENT
        verification.state = VerificationState.CODE_SENT
        verification.last_check = None
        # The newer code replaces every older one, whatever happens to it later.
        await repo.void_code_sends(
            session=session,
            verification_id=send.verification_id,
            below_seq=send.seq,
            status=SendStatus.VOIDED,
        )
    else:
        # Closed, locked, verified or overtaken while the provider call was in
        # flight: the message went out, but this code must never be accepted.
        row.status = SendStatus.VOIDED
        row.code_hash = None
    repo.append_audit_event(
        session=session,
        team_id=verification.team_id,
        verification_id=send.verification_id,
        kind=AuditKind.CODE_SEND_UNCONFIRMED if unconfirmed else AuditKind.CODE_SENT,
        at=now,
        detail=send_detail(
            send,
            provider_message_id=row.provider_message_id,
            attempts=attempts.count,
            **_last_error(attempts),
        ),
    )
    return noted


async def record_send_failure(
    session: AsyncSession,
    *,
    team_id: str,
    send: CodeSend,
    error: DeliveryError,
    attempts: Attempts[tuple[str, str]] | None,
    now: datetime,
) -> None:
    row = await repo.get_code_send(
        session=session, verification_id=send.verification_id, seq=send.seq
    )
    assert row is not None
    row.status = SendStatus.FAILED
    row.code_hash = None
    row.error_reason = error.reason.value
    row.error_message = failure_text(
        error,
        channel=send.channel,
        masked_destination=mask_destination(send.channel, send.destination),
    )
    repo.append_audit_event(
        session=session,
        team_id=team_id,
        verification_id=send.verification_id,
        kind=AuditKind.CODE_SEND_FAILED,
        at=now,
        detail=send_detail(
            send,
            reason=error.reason.value,
            vendor_code=error.vendor_code,
            message=row.error_message,
            attempts=attempts.count if attempts else None,
        ),
    )


def _last_error(attempts: Attempts[tuple[str, str]]) -> dict[str, object]:
    if attempts.error is None:
        return {}
    return {"reason": attempts.error.reason.value, "vendor_code": attempts.error.vendor_code}


def edited_destination_detail(verification: Verification, channel: Channel) -> dict[str, object]:
    """The audit flag for a send to a destination an agent typed in instead of the record."""
    return edit_flag(destination_edited(verification, channel), verification.edit_reason)


def edit_flag(edited: bool, reason: str | None) -> dict[str, object]:
    return {"destination_not_on_record": True, "edit_reason": reason} if edited else {}
