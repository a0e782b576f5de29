"""The append-only, hash-chained audit trail: append, read in chain order, purge under a
permit with a checkpoint (storage/audit_chain.py says how the chain is kept)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.audit_chain import queue_event
from storage.models import (
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    AuditPurgePermit,
    table_of,
)

STREAM_BATCH = 1000


def append_audit_event(
    *,
    session: AsyncSession,
    team_id: str,
    kind: str,
    at: datetime,
    verification_id: str | None = None,
    actor_user_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Queue an event; it is chained and written when the transaction commits."""
    event = AuditEvent(
        team_id=team_id,
        verification_id=verification_id,
        actor_user_id=actor_user_id,
        kind=kind,
        detail=detail or {},
        created_at=at,
    )
    queue_event(session.sync_session, event)
    return event


async def audit_team_ids(*, session: AsyncSession) -> list[str]:
    heads = await session.scalars(select(col(AuditChainHead.team_id)))
    events = await session.scalars(select(col(AuditEvent.team_id)).distinct())
    return sorted(set(heads) | set(events))


async def get_audit_head(*, session: AsyncSession, team_id: str) -> AuditChainHead | None:
    return await session.get(AuditChainHead, team_id)


async def latest_audit_checkpoint(*, session: AsyncSession, team_id: str) -> AuditCheckpoint | None:
    query = (
        select(AuditCheckpoint)
        .where(col(AuditCheckpoint.team_id) == team_id)
        .order_by(col(AuditCheckpoint.through_seq).desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def stream_audit_chain(
    *,
    session: AsyncSession,
    team_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AsyncIterator[AuditEvent]:
    """Events in chain order (team, seq), a batch at a time: memory stays flat however long
    the trail. Core rows, not ORM identities, so nothing accumulates in the session; the
    events yielded are detached copies. Rows not yet chained (none after migration 0006)
    sort by the database's NULL order."""
    table = table_of(AuditEvent)
    query = select(table).order_by(table.c.team_id, table.c.seq)
    if team_id is not None:
        query = query.where(table.c.team_id == team_id)
    if since is not None:
        query = query.where(table.c.created_at >= since)
    if until is not None:
        query = query.where(table.c.created_at < until)
    result = await session.stream(query.execution_options(yield_per=STREAM_BATCH))
    async for row in result.mappings():
        yield AuditEvent(**row)


async def count_audit_events(
    *,
    session: AsyncSession,
    since: datetime | None = None,
    until: datetime | None = None,
    team_id: str | None = None,
) -> int:
    query = select(func.count()).select_from(AuditEvent)
    if team_id is not None:
        query = query.where(col(AuditEvent.team_id) == team_id)
    if since is not None:
        query = query.where(col(AuditEvent.created_at) >= since)
    if until is not None:
        query = query.where(col(AuditEvent.created_at) < until)
    return int((await session.scalar(query)) or 0)


async def last_event_before(
    *, session: AsyncSession, team_id: str, before: datetime
) -> AuditEvent | None:
    """The newest chained event older than `before`: where a purge would stop."""
    query = (
        select(AuditEvent)
        .where(
            col(AuditEvent.team_id) == team_id,
            col(AuditEvent.created_at) < before,
            col(AuditEvent.seq).is_not(None),
        )
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def delete_audit_prefix(*, session: AsyncSession, team_id: str, through_seq: int) -> int:
    """Delete events 1..through_seq of one workspace under a purge permit that exists only
    inside this transaction (the append-only trigger refuses any other DELETE)."""
    session.add(AuditPurgePermit(team_id=team_id, through_seq=through_seq))
    await session.flush()
    result = await session.execute(
        delete(AuditEvent).where(
            col(AuditEvent.team_id) == team_id, col(AuditEvent.seq) <= through_seq
        )
    )
    await session.execute(delete(AuditPurgePermit).where(col(AuditPurgePermit.team_id) == team_id))
    return int(getattr(result, "rowcount", 0) or 0)


def add_audit_checkpoint(*, session: AsyncSession, checkpoint: AuditCheckpoint) -> None:
    session.add(checkpoint)


async def audit_checkpoints(*, session: AsyncSession, team_id: str) -> Sequence[AuditCheckpoint]:
    query = (
        select(AuditCheckpoint)
        .where(col(AuditCheckpoint.team_id) == team_id)
        .order_by(col(AuditCheckpoint.through_seq))
    )
    return (await session.scalars(query)).all()
