"""The relay: at-least-once delivery with backoff, Retry-After, leases and restarts."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from bot.clock import ManualClock
from bot.outbox.relay import Backoff, DeliveryDeferred, OutboxAttempt, OutboxDraft, OutboxRelay
from storage import repositories as repo
from storage.db import Database
from tests.support import queries


class FlakyChannel:
    """A delivery target that fails a given number of times, then accepts."""

    def __init__(self, failures: int, *, retry_after: float | None = None) -> None:
        self.failures = failures
        self.retry_after = retry_after
        self.delivered: list[dict[str, Any]] = []
        self.attempts = 0

    async def deliver(self, payload: dict[str, Any]) -> None:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise DeliveryDeferred("channel down", retry_after=self.retry_after)
        self.delivered.append(payload)


async def enqueue(db: Database, clock: ManualClock, key: str) -> None:
    async with db.transaction() as session:
        repo.add_outbox_message(
            session=session, kind="post", dedupe_key=key, payload={"key": key}, at=clock.now()
        )


def relay_for(db: Database, clock: ManualClock, channel: FlakyChannel) -> OutboxRelay:
    return OutboxRelay(
        db=db,
        clock=clock,
        deliverers={"post": channel.deliver},
        backoff=Backoff(base_seconds=2, max_seconds=60),
        rng=random.Random(7),
    )


async def test_delivers_pending_rows_once(db: Database) -> None:
    clock, channel = ManualClock(), FlakyChannel(0)
    await enqueue(db, clock, "a")
    await enqueue(db, clock, "b")
    relay = relay_for(db, clock, channel)
    assert await relay.run_once() == 2
    assert await relay.run_once() == 0
    assert [p["key"] for p in channel.delivered] == ["a", "b"]


async def test_failures_back_off_and_survive_until_delivered(db: Database) -> None:
    clock, channel = ManualClock(), FlakyChannel(3)
    await enqueue(db, clock, "a")
    relay = relay_for(db, clock, channel)
    for _ in range(3):
        assert await relay.run_once() == 0
        async with db.transaction() as session:
            (row,) = await queries.list_outbox_messages(session=session)
        assert row.status == "pending" and row.last_error == "channel down"
        assert row.next_attempt_at >= clock.now()
        assert await relay.run_once() == 0  # not due yet: backoff holds it back
        clock.advance(seconds=61)
    assert await relay.run_once() == 1
    async with db.transaction() as session:
        (row,) = await queries.list_outbox_messages(session=session)
    assert row.status == "delivered" and row.attempts == 3 and row.last_error is None
    assert channel.attempts == 4


async def test_retry_after_is_honoured(db: Database) -> None:
    clock, channel = ManualClock(), FlakyChannel(1, retry_after=120)
    await enqueue(db, clock, "a")
    relay = relay_for(db, clock, channel)
    await relay.run_once()
    async with db.transaction() as session:
        (row,) = await queries.list_outbox_messages(session=session)
    assert row.next_attempt_at - clock.now() >= timedelta(seconds=120)
    clock.advance(seconds=119)
    assert await relay.run_once() == 0
    clock.advance(seconds=2)
    assert await relay.run_once() == 1


async def test_a_new_relay_picks_up_what_the_old_one_left(db: Database) -> None:
    clock, channel = ManualClock(), FlakyChannel(0)
    await enqueue(db, clock, "a")
    # A relay that claimed the row and died before delivering: its lease must expire.
    async with db.transaction() as session:
        claimed = await repo.claim_outbox_messages(
            session=session, now=clock.now(), lease=timedelta(seconds=60), limit=10
        )
    assert len(claimed) == 1
    restarted = relay_for(db, clock, channel)
    assert await restarted.run_once() == 0
    clock.advance(seconds=61)
    assert await restarted.run_once() == 1


async def test_unknown_kind_is_kept_not_dropped(db: Database) -> None:
    clock = ManualClock()
    await enqueue(db, clock, "a")
    relay = OutboxRelay(db=db, clock=clock, deliverers={})
    assert await relay.run_once() == 0
    async with db.transaction() as session:
        (row,) = await queries.list_outbox_messages(session=session)
    assert row.status == "pending" and "no deliverer" in str(row.last_error)


def test_backoff_is_full_jitter_capped() -> None:
    backoff = Backoff(base_seconds=2, max_seconds=60)
    rng = random.Random(1)
    delays = [backoff.delay(attempt, rng, None) for attempt in range(12) for _ in range(50)]
    assert all(0 <= d <= 60 for d in delays)
    assert max(backoff.delay(0, rng, None) for _ in range(200)) <= 2
    assert backoff.delay(0, rng, 30) >= 30


async def test_a_slow_batch_never_delivers_a_row_twice(db: Database) -> None:
    clock = ManualClock()
    for key in ("a", "b", "c"):
        await enqueue(db, clock, key)
    delivered: list[tuple[str, str]] = []
    replica_b: OutboxRelay

    async def slow_a(payload: dict[str, Any]) -> None:
        # Each delivery takes 40 s (under the 60 s lease); two of them outlast a lease that
        # a batch claim would have taken for "c" at the start. Replica B polls during "b".
        delivered.append(("A", payload["key"]))
        clock.advance(seconds=40)
        if payload["key"] == "b":
            await replica_b.run_once()

    async def fast_b(payload: dict[str, Any]) -> None:
        delivered.append(("B", payload["key"]))

    replica_a = OutboxRelay(db=db, clock=clock, deliverers={"post": slow_a})
    replica_b = OutboxRelay(db=db, clock=clock, deliverers={"post": fast_b})
    await replica_a.run_once()
    assert sorted(key for _, key in delivered) == ["a", "b", "c"]
    assert delivered == [("A", "a"), ("A", "b"), ("B", "c")]


async def test_a_try_cut_off_without_an_outcome_is_not_a_first_attempt(db: Database) -> None:
    """A relay that dies mid-delivery (crash, shutdown) leaves the row leased with attempts 0;
    the next relay must not tell an idempotent handler "nothing can have reached the target"."""
    clock = ManualClock()
    await enqueue(db, clock, "note")
    async with db.transaction() as session:
        (claimed,) = await repo.claim_outbox_messages(
            session=session, now=clock.now(), lease=timedelta(seconds=60), limit=1
        )
        assert claimed.attempts == 0
    seen: list[OutboxAttempt] = []

    class Recorder:
        async def deliver(self, attempt: OutboxAttempt) -> None:
            seen.append(attempt)

        async def settled(self, attempt: OutboxAttempt, *, error: str | None) -> None:
            return None

        def escalate(self, attempt: OutboxAttempt, *, error: str) -> list[OutboxDraft]:
            return []

    relay = OutboxRelay(db=db, clock=clock, deliverers={"post": Recorder()})
    assert await relay.run_once() == 0  # still leased by the relay that died
    clock.advance(seconds=61)
    assert await relay.run_once() == 1
    (attempt,) = seen
    assert attempt.attempts == 1 and not attempt.first
