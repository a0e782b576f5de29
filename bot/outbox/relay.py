"""The outbox relay: delivers rows written alongside state changes, at least once.

A row is leased (claimed_until, under a claim token) before delivery so a crashed relay's
work is picked up again after the lease; on PostgreSQL replicas share the table with FOR
UPDATE SKIP LOCKED. An outcome is recorded only by the claim that still holds the lease: a
relay whose lease ran out never overwrites the replica that took the row over.
Failures back off exponentially with full jitter, and a vendor's Retry-After wins when longer.
Rows with a pace key (a Slack channel) go out at most one per `pace_interval` per key, across
replicas (the slot is a database row); a coalesced row (`revision`) that changed while it was
being delivered is delivered again with its newest payload.
Nothing is ever dropped: a row stays pending until it is delivered. Payloads are never logged
(a ticket note may carry the code).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from bot.clock import Clock, SystemClock
from storage import repositories as repo
from storage.db import Database

log = logging.getLogger(__name__)

Deliverer = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class OutboxAttempt:
    """One try at one row: what a handler needs for idempotent delivery."""

    message_id: int
    kind: str
    dedupe_key: str
    verification_id: str | None
    payload: dict[str, Any]
    attempts: int  # failed tries before this one; 0 means nothing can have reached the target
    claim_token: str = ""
    revision: int = 0
    pace_key: str | None = None

    @property
    def first(self) -> bool:
        return self.attempts == 0


@dataclass(frozen=True)
class OutboxDraft:
    """A row a handler asks the relay to add, in the transaction that records a failure."""

    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    verification_id: str | None = None
    pace_key: str | None = None


@runtime_checkable
class OutboxHandler(Protocol):
    """A deliverer that needs more than the payload (ticket notes): the row's key and attempt
    count for idempotency, a hook once the outcome is recorded, and escalation of failures."""

    async def deliver(self, attempt: OutboxAttempt) -> None: ...

    async def settled(self, attempt: OutboxAttempt, *, error: str | None) -> None:
        """Called after the outcome is committed (error None: delivered)."""
        ...

    def escalate(self, attempt: OutboxAttempt, *, error: str) -> list[OutboxDraft]:
        """Rows to add alongside this failure (e.g. "still failing" alerts); usually none."""
        ...


class DeliveryDeferred(Exception):
    """A deliverer could not deliver now; the relay tries again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryPostponed(Exception):
    """Not a failure: the row must wait (e.g. for the message it replies to); the relay
    tries again after `seconds` without counting an attempt."""

    def __init__(self, reason: str, *, seconds: float) -> None:
        super().__init__(reason)
        self.seconds = seconds


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 2.0
    max_seconds: float = 600.0

    def delay(self, attempts: int, rng: random.Random, retry_after: float | None) -> float:
        """Full jitter (AWS): uniform(0, min(cap, base * 2**attempts)), at least Retry-After."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** min(attempts, 30))
        jittered = rng.uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)


class OutboxRelay:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        deliverers: Mapping[str, Deliverer | OutboxHandler],
        poll_seconds: float = 1.0,
        batch_size: int = 20,
        lease: timedelta = timedelta(seconds=60),
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        pace_interval: timedelta = timedelta(seconds=1.2),
        pace_clock: Clock | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._deliverers = dict(deliverers)
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._lease = lease
        self._backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self._pace_interval = pace_interval
        # Slack's limits run on real time, whatever `clock` says (tests move it by hand):
        # pace slots are kept on this clock, schedules on `clock`.
        self._pace_clock: Clock = pace_clock or SystemClock()
        self._wake = asyncio.Event()
        self.lost_leases = 0  # outcomes not recorded because another claim took the row

    def kick(self) -> None:
        """Deliver soon: something was just written to the outbox."""
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver up to a batch of due rows; return how many were delivered.

        Rows are claimed one at a time, just before delivery: a lease taken for a whole batch
        could run out while earlier rows are still being delivered, and another replica
        would then post the same message again.
        """
        delivered = 0
        for _ in range(self._batch_size):
            attempt = await self._claim_one()
            if attempt is None:
                break
            if attempt is _PACED:
                continue
            if await self._deliver_one(attempt):
                delivered += 1
        return delivered

    async def _claim_one(self) -> OutboxAttempt | None:
        """Claim the next due row (and its pace slot, in the same transaction)."""
        now, pace_now = self._clock.now(), self._pace_clock.now()
        async with self._db.transaction() as session:
            claimed = await repo.claim_outbox_messages(
                session=session, now=now, pace_now=pace_now, lease=self._lease, limit=1
            )
            if not claimed:
                return None
            message = claimed[0]
            assert message.id is not None and message.claim_token is not None
            if message.pace_key is not None:
                opens = await repo.reserve_pace_slot(
                    session=session,
                    key=message.pace_key,
                    now=pace_now,
                    interval=self._pace_interval,
                )
                if opens is not None:
                    # Another replica took this key's slot between the claim and here.
                    message.next_attempt_at = now + (opens - pace_now)
                    message.claimed_until = None
                    message.claim_token = None
                    return _PACED
            return OutboxAttempt(
                message_id=message.id,
                kind=message.kind,
                dedupe_key=message.dedupe_key,
                verification_id=message.verification_id,
                payload=dict(message.payload),
                attempts=message.attempts,
                claim_token=message.claim_token,
                revision=message.revision,
                pace_key=message.pace_key,
            )

    async def _deliver_one(self, attempt: OutboxAttempt) -> bool:
        message_id, kind = attempt.message_id, attempt.kind
        deliverer = self._deliverers.get(kind)
        handler = deliverer if isinstance(deliverer, OutboxHandler) else None
        retry_after: float | None = None
        try:
            if deliverer is None:
                raise DeliveryDeferred(f"no deliverer for {kind!r} in this process")
            if handler is not None:
                await handler.deliver(attempt)
            else:
                await deliverer(attempt.payload)  # type: ignore[operator]
        except DeliveryPostponed as exc:
            async with self._db.transaction() as session:
                held = await repo.schedule_outbox_retry(
                    session=session,
                    message_id=message_id,
                    claim_token=attempt.claim_token,
                    at=self._clock.now() + timedelta(seconds=exc.seconds),
                    error=None,
                    count_attempt=False,
                )
            self._note_lease(held, attempt)
            return False
        except DeliveryDeferred as exc:
            error, retry_after = str(exc), exc.retry_after
        except Exception as exc:
            if handler is None:
                log.exception("outbox delivery crashed", extra={"outbox_id": message_id})
                error = f"{type(exc).__name__}: {exc}"
            else:
                # Only the type: a handler's payload may hold a code, and an exception's text
                # (or traceback) could quote it.
                log.error(
                    "outbox delivery crashed",
                    extra={"outbox_id": message_id, "error": type(exc).__name__},
                )
                error = f"internal error ({type(exc).__name__})"
        else:
            async with self._db.transaction() as session:
                held = await repo.mark_outbox_delivered(
                    session=session,
                    message_id=message_id,
                    claim_token=attempt.claim_token,
                    revision=attempt.revision,
                    at=self._clock.now(),
                )
            self._note_lease(held, attempt)
            if held:
                await self._settled(handler, attempt, None)
            return held
        delay = self._backoff.delay(attempt.attempts, self._rng, retry_after)
        log.warning(
            "outbox delivery deferred",
            extra={"outbox_id": message_id, "kind": kind, "retry_in": round(delay, 1)},
        )
        async with self._db.transaction() as session:
            held = await repo.schedule_outbox_retry(
                session=session,
                message_id=message_id,
                claim_token=attempt.claim_token,
                at=self._clock.now() + timedelta(seconds=delay),
                error=error,
            )
            if retry_after and attempt.pace_key is not None:
                # Slack said "slow down" for this channel: every row bound there waits too,
                # instead of each finding out with its own 429.
                await repo.hold_pace_key(
                    session=session,
                    key=attempt.pace_key,
                    until=self._pace_clock.now() + timedelta(seconds=retry_after),
                )
            drafts = handler.escalate(attempt, error=error) if handler and held else []
            for draft in drafts:
                repo.add_outbox_message(
                    session=session,
                    kind=draft.kind,
                    dedupe_key=draft.dedupe_key,
                    payload=draft.payload,
                    verification_id=draft.verification_id,
                    at=self._clock.now(),
                    pace_key=draft.pace_key,
                )
        self._note_lease(held, attempt)
        if held:
            await self._settled(handler, attempt, error)
        return False

    def _note_lease(self, held: bool, attempt: OutboxAttempt) -> None:
        if not held:
            self.lost_leases += 1
            log.warning(
                "outbox lease lost: another relay owns the row; outcome not recorded",
                extra={"outbox_id": attempt.message_id, "kind": attempt.kind},
            )

    @staticmethod
    async def _settled(
        handler: OutboxHandler | None, attempt: OutboxAttempt, error: str | None
    ) -> None:
        if handler is None:
            return
        try:
            await handler.settled(attempt, error=error)
        except Exception as exc:  # noqa: BLE001 - a hook must never stop the relay
            log.warning(
                "outbox settle hook failed",
                extra={"outbox_id": attempt.message_id, "error": type(exc).__name__},
            )

    async def run_forever(self) -> None:
        """Poll until cancelled; a kick skips the wait."""
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox relay pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)
            self._wake.clear()


# `_claim_one`'s answer when the row it claimed had to wait for its pace slot.
_PACED = OutboxAttempt(
    message_id=-1, kind="", dedupe_key="", verification_id=None, payload={}, attempts=0
)
