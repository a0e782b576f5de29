"""Verifications driven straight through the services (no cards), for tests about what the
supervisors' channel shows, and a way to drain the outbox on a hand-moved clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlmodel import col

from bot.clock import ManualClock
from bot.delivery import Channel
from bot.deps import Deps
from bot.outbox import OutboxRelay
from bot.verification import Outcome
from providers.crm import ContactRecord
from storage.db import Database
from storage.models import OutboxMessage

Plan = Literal["verified", "wrong_then_incomplete", "completed_unverified", "locked", "open"]


def contact(number: int) -> ContactRecord:
    return ContactRecord(
        ref=f"c-burst-{number}",
        name=f"Caller {number}",
        company=f"Company {number % 7}",
        phone_e164=f"+1513555{number:04d}",
        email=f"caller{number}@client.example",
    )


@dataclass(frozen=True)
class Driven:
    verification_id: str
    plan: Plan


async def drive(
    deps: Deps,
    *,
    team_id: str,
    agent: str,
    who: ContactRecord,
    plan: Plan,
    clock: ManualClock | None = None,
    answer_after: float = 0.0,
) -> Driven:
    """Open, send an SMS, check and close one verification as `plan` says (the caller reads
    the code back `answer_after` seconds after it was sent, on `clock`). The workspace must
    show codes to agents (PINVERIFY_SHOW_CODE_TO_AGENT), which is how the code is read."""
    opened = await deps.verifications.open(
        team_id=team_id, agent_user_id=agent, agent_name=agent, contact=who
    )
    sent = await deps.verifications.send_code(
        verification_id=opened.id, actor_user_id=agent, channel=Channel.SMS, seq=1
    )
    assert sent.error is None and sent.code_for_agent is not None, sent.error
    code = sent.code_for_agent
    if clock is not None:
        clock.advance(seconds=answer_after)
    if plan == "open":
        return Driven(opened.id, plan)
    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)
    if plan == "locked":
        for _ in range(5):
            await deps.verifications.check_code(
                verification_id=opened.id, actor_user_id=agent, entry=wrong, seq=2
            )
    if plan == "verified":
        await deps.verifications.check_code(
            verification_id=opened.id, actor_user_id=agent, entry=code, seq=2
        )
    elif plan == "wrong_then_incomplete":
        await deps.verifications.check_code(
            verification_id=opened.id, actor_user_id=agent, entry=wrong, seq=2
        )
    incomplete = plan in ("wrong_then_incomplete", "locked")
    outcome = Outcome.INCOMPLETE if incomplete else Outcome.COMPLETED
    await deps.verifications.close(verification_id=opened.id, actor_user_id=agent, outcome=outcome)
    return Driven(opened.id, plan)


async def pending_rows(db: Database) -> int:
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.status) == "pending")
        )
    return int(count or 0)


async def drain(
    relays: list[OutboxRelay], db: Database, clock: ManualClock, *, step: float, limit: int
) -> float:
    """Run the relays in turn, moving the clock `step` seconds between passes, until no row
    is pending; returns the simulated seconds it took (fails past `limit` seconds)."""
    waited = 0.0
    while await pending_rows(db):
        for relay in relays:
            await relay.run_once()
        clock.advance(seconds=step)
        waited += step
        assert waited <= limit, f"outbox not drained after {limit} simulated seconds"
    return waited
