"""The outbox relay: delivers rows written alongside state changes, at least once.

A row is leased (claimed_until) before delivery so a crashed relay's work is picked up again
after the lease; on PostgreSQL replicas share the table with FOR UPDATE SKIP LOCKED.
Failures back off exponentially with full jitter, and a vendor's Retry-After wins when longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.clock import Clock
from storage import repositories as repo
from storage.db import Database

log = logging.getLogger(__name__)

Deliverer = Callable[[dict[str, Any]], Awaitable[None]]


class DeliveryDeferred(Exception):
    """A deliverer could not deliver now; the relay tries again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
        deliverers: Mapping[str, Deliverer],
        poll_seconds: float = 1.0,
        batch_size: int = 20,
        lease: timedelta = timedelta(seconds=60),
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._deliverers = dict(deliverers)
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._lease = lease
        self._backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()

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
            async with self._db.transaction() as session:
                claimed = await repo.claim_outbox_messages(
                    session=session, now=self._clock.now(), lease=self._lease, limit=1
                )
            if not claimed:
                break
            message = claimed[0]
            assert message.id is not None
            if await self._deliver_one(
                message.id, message.kind, dict(message.payload), message.attempts
            ):
                delivered += 1
        return delivered

    async def _deliver_one(
        self, message_id: int, kind: str, payload: dict[str, Any], attempts: int
    ) -> bool:
        deliverer = self._deliverers.get(kind)
        retry_after: float | None = None
        try:
            if deliverer is None:
                raise DeliveryDeferred(f"no deliverer for {kind!r} in this process")
            await deliverer(payload)
        except DeliveryDeferred as exc:
            error, retry_after = str(exc), exc.retry_after
        except Exception as exc:
            log.exception("outbox delivery crashed", extra={"outbox_id": message_id})
            error = f"{type(exc).__name__}: {exc}"
        else:
            async with self._db.transaction() as session:
                await repo.mark_outbox_delivered(
                    session=session, message_id=message_id, at=self._clock.now()
                )
            return True
        delay = self._backoff.delay(attempts, self._rng, retry_after)
        log.warning(
            "outbox delivery deferred",
            extra={"outbox_id": message_id, "kind": kind, "retry_in": round(delay, 1)},
        )
        async with self._db.transaction() as session:
            await repo.schedule_outbox_retry(
                session=session,
                message_id=message_id,
                at=self._clock.now() + timedelta(seconds=delay),
                error=error,
            )
        return False

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
