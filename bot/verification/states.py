"""A verification's state machine: its states, its sends' statuses, and the rules that move them.

    awaiting_send ──code sent──▶ code_sent ──right code──▶ verified
                                     │
                                     └──wrong code #max_attempts──▶ locked

Any state ──Completed / Incomplete──▶ closed (the `outcome` column; the state is kept, so a
closed verification still says whether the code was verified or locked).

**The lockout rule.** A wrong (or malformed) entry counts only while a code is live
(`code_sent`) and the verification is open. The entry that brings the count to the
verification's `max_attempts` (copied from the workspace's policy when it was opened, 5 by
default) locks it: the right code is refused from then on, no more codes can be sent, and
the live code is voided. A Resend resets nothing. The count and the lock are one conditional
UPDATE (`storage.repositories.count_wrong_check`), so concurrent checks can never count past
the limit; this module is where the rule is defined, the repository only executes it.

A send (one code) goes `sending ──▶ sent ──▶ used | voided | expired`, or `sending ──▶ failed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories as repo
from storage.models import Verification


class VerificationState(StrEnum):
    AWAITING_SEND = "awaiting_send"
    CODE_SENT = "code_sent"
    VERIFIED = "verified"
    LOCKED = "locked"


class SendStatus(StrEnum):
    SENDING = "sending"  # reserved; the provider has not answered yet
    SENT = "sent"  # the provider took it (or may have: delivery "unconfirmed")
    FAILED = "failed"
    USED = "used"  # checked right
    VOIDED = "voided"  # a newer code, a lock or a close replaced it
    EXPIRED = "expired"


class LastCheck(StrEnum):
    """What the last entry typed on the card was."""

    VERIFIED = "verified"
    WRONG = "wrong"
    MALFORMED = "malformed"  # not digits of the right length
    EXPIRED = "expired"


class Outcome(StrEnum):
    """The agent's decision when closing the verification."""

    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    VOIDED = "voided"  # a supervisor stopped it (bot/verification/service.py void())


class CheckResult(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"
    EXPIRED = "expired"
    EMPTY = "empty"
    ALREADY_VERIFIED = "already_verified"


# A code can be checked (and a wrong one counted) only in this state.
CHECKABLE = VerificationState.CODE_SENT
# Destinations may be edited, and codes sent, until the verification is decided either way.
UNDECIDED = frozenset({VerificationState.AWAITING_SEND, VerificationState.CODE_SENT})


@dataclass(frozen=True)
class WrongCheck:
    """One wrong entry counted: the count now, and whether it locked the verification."""

    failed_checks: int
    locked: bool


def locks_at(failed_checks: int, max_attempts: int) -> bool:
    """The lockout rule in one line: the entry that reaches `max_attempts` locks."""
    return failed_checks >= max_attempts


async def count_wrong_check(
    session: AsyncSession, verification: Verification, *, entry: LastCheck
) -> WrongCheck | None:
    """Count one wrong entry under the lockout rule; None when nothing could be counted
    (not checkable any more: locked, verified or closed by a concurrent request)."""
    counted = await repo.count_wrong_check(
        session=session,
        verification_id=verification.id,
        last_check=entry,
        checkable_state=CHECKABLE,
        locked_state=VerificationState.LOCKED,
    )
    if counted is None:
        return None
    failed_checks, state = counted
    return WrongCheck(failed_checks=failed_checks, locked=state == VerificationState.LOCKED)


async def mark_verified(session: AsyncSession, verification: Verification, *, at: datetime) -> bool:
    """code_sent → verified, atomically; False when a concurrent request decided it first."""
    return await repo.mark_verified(
        session=session,
        verification_id=verification.id,
        at=at,
        checkable_state=CHECKABLE,
        verified_state=VerificationState.VERIFIED,
        last_check=LastCheck.VERIFIED,
    )
