"""Outbox handlers (ticket notes): the row's key and attempt count, settle hooks, escalation."""

from __future__ import annotations

import random
from typing import Any

from bot.clock import ManualClock
from bot.outbox.relay import Backoff, DeliveryDeferred, OutboxAttempt, OutboxDraft, OutboxRelay
from storage import repositories as repo
from storage.db import Database
from tests.support import queries


class RecordingHandler:
    """Fails `failures` times; escalates on the third failure; records everything."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[OutboxAttempt] = []
        self.settled_with: list[str | None] = []

    async def deliver(self, attempt: OutboxAttempt) -> None:
        self.attempts.append(attempt)
        if self.failures:
            self.failures -= 1
            raise DeliveryDeferred("psa down", retry_after=None)

    async def settled(self, attempt: OutboxAttempt, *, error: str | None) -> None:
        self.settled_with.append(error)

    def escalate(self, attempt: OutboxAttempt, *, error: str) -> list[OutboxDraft]:
        if attempt.attempts + 1 != 3:
            return []
        return [OutboxDraft(kind="alert", dedupe_key=f"alert:{attempt.dedupe_key}", payload={})]


async def test_handler_sees_key_and_attempts_and_escalates_once(db: Database) -> None:
    clock = ManualClock()
    async with db.transaction() as session:
        repo.add_outbox_message(
            session=session,
            kind="note",
            dedupe_key="note:v1:closed",
            payload={"ticket_ref": "7"},
            verification_id="v1",
            at=clock.now(),
        )
    handler = RecordingHandler(failures=4)
    alerts: list[dict[str, Any]] = []

    async def alert(payload: dict[str, Any]) -> None:
        alerts.append(payload)

    relay = OutboxRelay(
        db=db,
        clock=clock,
        deliverers={"note": handler, "alert": alert},
        backoff=Backoff(base_seconds=2, max_seconds=60),
        rng=random.Random(3),
    )
    for _ in range(5):
        await relay.run_once()
        clock.advance(seconds=61)
    assert [a.attempts for a in handler.attempts] == [0, 1, 2, 3, 4]
    assert [a.first for a in handler.attempts] == [True, False, False, False, False]
    assert {a.dedupe_key for a in handler.attempts} == {"note:v1:closed"}
    assert {a.verification_id for a in handler.attempts} == {"v1"}
    assert handler.settled_with == ["psa down"] * 4 + [None]
    assert len(alerts) == 1  # delivered in the same pass as the third failure, once
    async with db.transaction() as session:
        rows = {row.kind: row for row in await queries.list_outbox_messages(session=session)}
    assert rows["note"].status == "delivered" and rows["note"].attempts == 4
    assert rows["alert"].status == "delivered"
