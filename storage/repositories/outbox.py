"""The outbox: rows to deliver, their leases and retries, coalesced rows, the pacing of
rows that share a pace key, and a verification's notes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    OutboxMessage,
    SlackPacing,
    table_of,
)


def add_outbox_message(
    *,
    session: AsyncSession,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    at: datetime,
    verification_id: str | None = None,
    pace_key: str | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind,
        dedupe_key=dedupe_key,
        payload=payload,
        verification_id=verification_id,
        next_attempt_at=at,
        created_at=at,
        pace_key=pace_key,
    )
    session.add(message)
    return message


async def add_outbox_message_once(
    *,
    session: AsyncSession,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    at: datetime,
    verification_id: str | None = None,
    pace_key: str | None = None,
) -> bool:
    """Add the row unless one with this key exists (an alert is told once); True if added."""
    result = await session.execute(
        _insert(session)(table_of(OutboxMessage))
        .values(
            kind=kind,
            dedupe_key=dedupe_key,
            payload=payload,
            verification_id=verification_id,
            pace_key=pace_key,
            status="pending",
            attempts=0,
            revision=0,
            next_attempt_at=at,
            created_at=at,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    return bool(getattr(result, "rowcount", 0))


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def upsert_coalesced_outbox_message(
    *,
    session: AsyncSession,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    at: datetime,
    verification_id: str | None = None,
    pace_key: str | None = None,
) -> None:
    """One row per key whose payload is always the newest: a new payload replaces the old
    one (and bumps `revision`), and a delivered row becomes pending again. A pending row
    keeps its schedule (a Retry-After wait stands). Atomic on both databases."""
    table = table_of(OutboxMessage)
    statement = _insert(session)(table).values(
        kind=kind,
        dedupe_key=dedupe_key,
        payload=payload,
        verification_id=verification_id,
        pace_key=pace_key,
        status="pending",
        attempts=0,
        revision=0,
        next_attempt_at=at,
        created_at=at,
    )
    was_delivered = table.c.status == "delivered"
    statement = statement.on_conflict_do_update(
        index_elements=["dedupe_key"],
        set_={
            "payload": statement.excluded.payload,
            "revision": table.c.revision + 1,
            "status": "pending",
            # A pending row keeps its schedule; a delivered one is due now.
            "next_attempt_at": _when(
                was_delivered, statement.excluded.next_attempt_at, table.c.next_attempt_at
            ),
            "attempts": _when(was_delivered, 0, table.c.attempts),
            "delivered_at": None,
        },
    )
    await session.execute(statement)


def _when(condition: Any, then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)


async def claim_outbox_messages(
    *,
    session: AsyncSession,
    now: datetime,
    lease: timedelta,
    limit: int,
    pace_now: datetime | None = None,
) -> Sequence[OutboxMessage]:
    """Lease due messages to this relay under a fresh claim token; other replicas skip rows
    locked or leased here, and rows whose pace key is waiting for its next slot (pace slots
    are on `pace_now`'s clock)."""
    paced = exists().where(
        and_(
            col(SlackPacing.key) == col(OutboxMessage.pace_key),
            col(SlackPacing.next_at) > (pace_now or now),
        )
    )
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.next_attempt_at) <= now,
            or_(
                col(OutboxMessage.claimed_until).is_(None),
                col(OutboxMessage.claimed_until) < now,
            ),
            or_(col(OutboxMessage.pace_key).is_(None), ~paced),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = (await session.scalars(query)).all()
    for message in messages:
        if message.claimed_until is not None:
            # The last claim ended without an outcome (a crash, a shutdown, a delivery that
            # outlived its lease): that try may have reached the target, so it counts, and
            # the next one must look for its own earlier write (a ticket note, a post).
            message.attempts += 1
            message.last_error = "interrupted: the previous try recorded no outcome"
        message.claimed_until = now + lease
        message.claim_token = uuid.uuid4().hex
    return messages


def _held(message_id: int, claim_token: str) -> Any:
    """Only the claim that still holds the lease may record an outcome: a relay whose lease
    ran out (and whose row another replica took) must not overwrite that replica's work."""
    return and_(col(OutboxMessage.id) == message_id, col(OutboxMessage.claim_token) == claim_token)


async def mark_outbox_delivered(
    *,
    session: AsyncSession,
    message_id: int,
    claim_token: str,
    revision: int,
    at: datetime,
) -> bool:
    """Delivered, unless the payload changed meanwhile (a coalesced row): then it is due
    again at once with the newer payload. False when this claim lost its lease."""
    unchanged = col(OutboxMessage.revision) == revision
    result = await session.execute(
        update(OutboxMessage)
        .where(_held(message_id, claim_token))
        .values(
            status=_when(unchanged, "delivered", "pending"),
            delivered_at=_when(unchanged, at, None),
            next_attempt_at=at,
            attempts=_when(unchanged, col(OutboxMessage.attempts), 0),
            claimed_until=None,
            claim_token=None,
            last_error=None,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def schedule_outbox_retry(
    *,
    session: AsyncSession,
    message_id: int,
    claim_token: str,
    at: datetime,
    error: str | None,
    count_attempt: bool = True,
) -> bool:
    """Try again at `at`; `count_attempt` False for a wait that is no failure (pacing, a
    parent message not posted yet). False when this claim lost its lease."""
    values: dict[str, Any] = {
        "next_attempt_at": at,
        "claimed_until": None,
        "claim_token": None,
    }
    if count_attempt:
        values["attempts"] = col(OutboxMessage.attempts) + 1
        values["last_error"] = (error or "")[:2000]
    result = await session.execute(
        update(OutboxMessage).where(_held(message_id, claim_token)).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def reserve_pace_slot(
    *, session: AsyncSession, key: str, now: datetime, interval: timedelta
) -> datetime | None:
    """Take the slot for `key` now (None), or say when the next one opens. One conditional
    UPDATE (or the first INSERT), so replicas sharing a key never take the same slot."""
    result = await session.execute(
        update(SlackPacing)
        .where(col(SlackPacing.key) == key, col(SlackPacing.next_at) <= now)
        .values(next_at=now + interval)
    )
    if getattr(result, "rowcount", 0):
        return None
    inserted = await session.execute(
        _insert(session)(table_of(SlackPacing))
        .values(key=key, next_at=now + interval)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if getattr(inserted, "rowcount", 0):
        return None
    next_at = await session.scalar(
        select(col(SlackPacing.next_at)).where(col(SlackPacing.key) == key)
    )
    return next_at if next_at is not None and next_at > now else now


async def hold_pace_key(*, session: AsyncSession, key: str, until: datetime) -> None:
    """No slot for `key` before `until` (a Retry-After applies to the whole channel)."""
    result = await session.execute(
        update(SlackPacing)
        .where(col(SlackPacing.key) == key, col(SlackPacing.next_at) < until)
        .values(next_at=until)
    )
    if not getattr(result, "rowcount", 0):
        await session.execute(
            _insert(session)(table_of(SlackPacing))
            .values(key=key, next_at=until)
            .on_conflict_do_nothing(index_elements=["key"])
        )


async def get_outbox_message(*, session: AsyncSession, dedupe_key: str) -> OutboxMessage | None:
    query = select(OutboxMessage).where(col(OutboxMessage.dedupe_key) == dedupe_key)
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def list_verification_outbox(
    *, session: AsyncSession, verification_id: str, kind: str
) -> Sequence[OutboxMessage]:
    """One verification's outbox rows of one kind, oldest first (the card's note status)."""
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.verification_id) == verification_id,
            col(OutboxMessage.kind) == kind,
        )
        .order_by(col(OutboxMessage.id))
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def scrub_outbox_payload(
    *, session: AsyncSession, message_id: int, payload: dict[str, Any]
) -> None:
    """Replace a delivered row's payload (a ticket note's text may hold a code)."""
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == "delivered")
        .values(payload=payload)
    )
