"""What Check code does: one entry the caller read back, judged against the live code.

In order: a decided verification answers without counting (already verified; locked is
refused and audited); no live code is a refusal; an empty box is a hint; an expired code is
marked expired; the right code verifies (atomically, so two checks cannot both win); anything
else is a wrong entry counted under the lockout rule (`bot.verification.states`), and the
entry that reaches the limit locks the verification and voids its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind
from bot.delivery import Channel
from bot.errors import RefusalCode, VerificationRefused
from bot.verification.codes import code_matches, normalise_entry
from bot.verification.states import (
    CheckResult,
    LastCheck,
    SendStatus,
    VerificationState,
    count_wrong_check,
    mark_verified,
)
from storage import repositories as repo
from storage.models import Verification


@dataclass(frozen=True)
class CheckDecision:
    result: CheckResult
    notice: str  # what the agent reads on the card
    event: AuditKind | None  # None: nothing worth an audit row (an empty box, a repeat)


async def decide_check(
    session: AsyncSession,
    *,
    verification: Verification,
    entry: str | None,
    key: bytes,
    now: datetime,
) -> CheckDecision:
    """Judge one entry; the caller holds the verification row locked and writes the audit."""
    if verification.state == VerificationState.VERIFIED:
        return CheckDecision(CheckResult.ALREADY_VERIFIED, "Already verified.", None)
    if verification.state == VerificationState.LOCKED:
        return CheckDecision(
            CheckResult.LOCKED, "Locked: too many wrong codes.", AuditKind.CODE_CHECK_REFUSED
        )
    send = await repo.live_code_send(session=session, verification_id=verification.id)
    if send is None or send.code_hash is None:
        raise VerificationRefused(
            "There is no live code to check: send one first.", code=RefusalCode.NO_CODE
        )
    typed = normalise_entry(entry, length=send.code_length)
    if not typed.digits and typed.problem is None:
        notice = "Type the code the caller reads back, then press Check code."
        return CheckDecision(CheckResult.EMPTY, notice, None)
    if now >= send.expires_at:
        send.status = SendStatus.EXPIRED
        send.code_hash = None
        verification.last_check = LastCheck.EXPIRED
        notice = "That code has expired. Press Resend to send a new one."
        return CheckDecision(CheckResult.EXPIRED, notice, AuditKind.CODE_EXPIRED)
    if typed.problem is None and code_matches(
        key=key,
        verification_id=verification.id,
        seq=send.seq,
        code=typed.digits,
        stored=send.code_hash,
    ):
        if not await mark_verified(session, verification, at=now):
            await session.refresh(verification)
            return CheckDecision(CheckResult.ALREADY_VERIFIED, "Already verified.", None)
        send.status = SendStatus.USED
        send.code_hash = None
        await session.refresh(verification)
        where = "phone" if send.channel == Channel.SMS else "mailbox"
        notice = f"Code verified: the caller controls the contact's {where}."
        return CheckDecision(CheckResult.VERIFIED, notice, AuditKind.CODE_VERIFIED)
    counted = await count_wrong_check(
        session,
        verification,
        entry=LastCheck.MALFORMED if typed.problem else LastCheck.WRONG,
    )
    await session.refresh(verification)
    if counted is None or counted.locked:
        await repo.void_code_sends(
            session=session, verification_id=verification.id, status=SendStatus.VOIDED
        )
        notice = (
            f"Wrong code. Locked after {verification.failed_checks} wrong codes: do not "
            "verify this caller. Mark the verification Incomplete."
        )
        return CheckDecision(CheckResult.LOCKED, notice, AuditKind.VERIFICATION_LOCKED)
    left = verification.max_attempts - counted.failed_checks
    reason = typed.problem or "Wrong code."
    notice = f"{reason} {left} attempt{'s' if left != 1 else ''} left."
    return CheckDecision(CheckResult.WRONG, notice, AuditKind.CODE_CHECK_FAILED)
