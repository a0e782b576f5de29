"""The lockout rule as states.py defines it is the rule the repository executes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.verification.states import (
    LastCheck,
    VerificationState,
    count_wrong_check,
    locks_at,
)
from storage.db import Database
from storage.models import Verification

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _verification(max_attempts: int, state: VerificationState) -> Verification:
    return Verification(
        id=f"v{max_attempts}{state.value}",
        team_id="T1",
        agent_user_id="UAGENT",
        agent_name="Agent",
        contact_ref="c1",
        contact_name="Jane Doe",
        company="Acme",
        max_attempts=max_attempts,
        created_at=NOW,
        state=state,
    )


@pytest.mark.parametrize("max_attempts", [1, 2, 5, 10])
async def test_the_database_locks_exactly_where_locks_at_says(
    db: Database, max_attempts: int
) -> None:
    verification = _verification(max_attempts, VerificationState.CODE_SENT)
    async with db.transaction() as session:
        session.add(verification)
    for entry in range(1, max_attempts + 2):
        async with db.transaction() as session:
            row = await session.get(Verification, verification.id)
            assert row is not None
            counted = await count_wrong_check(session, row, entry=LastCheck.WRONG)
        if entry > max_attempts:
            assert counted is None  # locked: nothing more is counted
            continue
        assert counted is not None
        assert counted.failed_checks == entry
        assert counted.locked is locks_at(entry, max_attempts)
    async with db.transaction() as session:
        row = await session.get(Verification, verification.id)
        assert row is not None
        assert (row.state, row.failed_checks) == (VerificationState.LOCKED, max_attempts)


async def test_a_wrong_entry_before_any_code_is_not_counted(db: Database) -> None:
    verification = _verification(5, VerificationState.AWAITING_SEND)
    async with db.transaction() as session:
        session.add(verification)
    async with db.transaction() as session:
        row = await session.get(Verification, verification.id)
        assert row is not None
        assert await count_wrong_check(session, row, entry=LastCheck.WRONG) is None
