"""The outbox: rows to deliver, their leases and retries, and a verification's notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    OutboxMessage,
)


def add_outbox_message(
    *,
    session: AsyncSession,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    at: datetime,
    verification_id: str | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind,
        dedupe_key=dedupe_key,
        payload=payload,
        verification_id=verification_id,
        next_attempt_at=at,
        created_at=at,
    )
    session.add(message)
    return message


async def claim_outbox_messages(
    *, session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> Sequence[OutboxMessage]:
    """Lease due messages to this relay; other replicas skip rows locked or leased here."""
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.next_attempt_at) <= now,
            or_(
                col(OutboxMessage.claimed_until).is_(None),
                col(OutboxMessage.claimed_until) < now,
            ),
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
            # the next one must look for its own earlier write (a ticket note, say).
            message.attempts += 1
            message.last_error = "interrupted: the previous try recorded no outcome"
        message.claimed_until = now + lease
    return messages


async def mark_outbox_delivered(*, session: AsyncSession, message_id: int, at: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status="delivered", delivered_at=at, claimed_until=None, last_error=None)
    )


async def schedule_outbox_retry(
    *, session: AsyncSession, message_id: int, at: datetime, error: str
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(
            attempts=col(OutboxMessage.attempts) + 1,
            next_attempt_at=at,
            claimed_until=None,
            last_error=error[:2000],
        )
    )


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
