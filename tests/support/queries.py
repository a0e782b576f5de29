"""Read-everything queries that only tests need: what the audit log, the outbox and the console
provider hold, oldest first. The product reads these tables through narrower queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import AuditEvent, ConsoleMessage, OutboxMessage


async def list_audit_events(
    *, session: AsyncSession, verification_id: str | None = None
) -> Sequence[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if verification_id is not None:
        query = query.where(col(AuditEvent.verification_id) == verification_id)
    return (await session.scalars(query)).all()


async def list_outbox_messages(
    *, session: AsyncSession, kind: str | None = None
) -> Sequence[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if kind is not None:
        query = query.where(col(OutboxMessage.kind) == kind)
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def list_console_messages(*, session: AsyncSession) -> Sequence[ConsoleMessage]:
    query = select(ConsoleMessage).order_by(col(ConsoleMessage.id))
    return (await session.scalars(query)).all()
