"""Verifications and their code sends, incl. the provider's delivery reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    CodeSend,
    Verification,
)


async def get_verification(
    *, session: AsyncSession, verification_id: str, for_update: bool = False
) -> Verification | None:
    query = select(Verification).where(col(Verification.id) == verification_id)
    if for_update:
        # PostgreSQL serialises concurrent clicks on one card here; SQLite's BEGIN IMMEDIATE
        # already holds the write lock, and SQLAlchemy drops FOR UPDATE for it.
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def find_open_verification(
    *, session: AsyncSession, agent_user_id: str, contact_ref: str
) -> Verification | None:
    query = select(Verification).where(
        col(Verification.agent_user_id) == agent_user_id,
        col(Verification.contact_ref) == contact_ref,
        col(Verification.outcome).is_(None),
    )
    return (await session.scalars(query.with_for_update())).first()


async def count_wrong_check(
    *,
    session: AsyncSession,
    verification_id: str,
    last_check: str,
    checkable_state: str,
    locked_state: str,
) -> tuple[int, str] | None:
    """Count one wrong entry and lock at the limit, in one statement; None if nothing counted.

    Executes the lockout rule of `bot.verification.states` (a wrong entry counts only in
    `checkable_state`; the one that reaches max_attempts moves it to `locked_state`). One
    conditional UPDATE keeps the counter exact with any number of concurrent checkers, on
    SQLite and PostgreSQL alike: the WHERE clause refuses to count past the limit.
    """
    failed = col(Verification.failed_checks)
    limit = col(Verification.max_attempts)
    statement = (
        update(Verification)
        .where(
            col(Verification.id) == verification_id,
            col(Verification.state) == checkable_state,
            col(Verification.outcome).is_(None),
            failed < limit,
        )
        .values(
            failed_checks=failed + 1,
            state=case((failed + 1 >= limit, locked_state), else_=col(Verification.state)),
            last_check=last_check,
        )
        .returning(col(Verification.failed_checks), col(Verification.state))
    )
    row = (await session.execute(statement)).first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def mark_verified(
    *,
    session: AsyncSession,
    verification_id: str,
    at: datetime,
    checkable_state: str,
    verified_state: str,
    last_check: str,
) -> bool:
    statement = (
        update(Verification)
        .where(
            col(Verification.id) == verification_id,
            col(Verification.state) == checkable_state,
            col(Verification.outcome).is_(None),
        )
        .values(state=verified_state, verified_at=at, last_check=last_check)
        .returning(col(Verification.id))
    )
    return (await session.execute(statement)).first() is not None


async def close_verification(
    *, session: AsyncSession, verification_id: str, outcome: str, at: datetime
) -> bool:
    statement = (
        update(Verification)
        .where(col(Verification.id) == verification_id, col(Verification.outcome).is_(None))
        .values(outcome=outcome, closed_at=at)
        .returning(col(Verification.id))
    )
    return (await session.execute(statement)).first() is not None


async def recent_failures_for_contact(
    *, session: AsyncSession, contact_ref: str, since: datetime
) -> int:
    query = select(func.coalesce(func.sum(col(Verification.failed_checks)), 0)).where(
        col(Verification.contact_ref) == contact_ref, col(Verification.created_at) >= since
    )
    return int((await session.scalar(query)) or 0)


async def recent_verifications_for_agent(
    *, session: AsyncSession, team_id: str, agent_user_id: str, limit: int
) -> Sequence[Verification]:
    """The agent's latest verifications in this workspace (filtered before the LIMIT)."""
    query = (
        select(Verification)
        .where(
            col(Verification.team_id) == team_id,
            col(Verification.agent_user_id) == agent_user_id,
        )
        .order_by(col(Verification.created_at).desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def count_recent_sends(
    *,
    session: AsyncSession,
    since: datetime,
    destination: str | None = None,
    agent_user_id: str | None = None,
    team_id: str | None = None,
) -> int:
    """Send attempts since `since` in one scope (a destination, agent or team), failed ones
    included: pumping through numbers that fail is still pumping."""
    query = (
        select(func.count())
        .select_from(CodeSend)
        .join(Verification, col(Verification.id) == col(CodeSend.verification_id))
        .where(col(CodeSend.created_at) >= since)
    )
    if destination is not None:
        query = query.where(col(CodeSend.destination) == destination)
    if agent_user_id is not None:
        query = query.where(col(Verification.agent_user_id) == agent_user_id)
    if team_id is not None:
        query = query.where(col(Verification.team_id) == team_id)
    return int((await session.scalar(query)) or 0)


async def get_code_send(
    *, session: AsyncSession, verification_id: str, seq: int
) -> CodeSend | None:
    query = select(CodeSend).where(
        col(CodeSend.verification_id) == verification_id, col(CodeSend.seq) == seq
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def latest_code_send(*, session: AsyncSession, verification_id: str) -> CodeSend | None:
    query = (
        select(CodeSend)
        .where(col(CodeSend.verification_id) == verification_id)
        .order_by(col(CodeSend.seq).desc())
        .limit(1)
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def live_code_send(*, session: AsyncSession, verification_id: str) -> CodeSend | None:
    """The one code that can still be checked: the newest one delivered and not yet spent."""
    query = (
        select(CodeSend)
        .where(col(CodeSend.verification_id) == verification_id, col(CodeSend.status) == "sent")
        .order_by(col(CodeSend.seq).desc())
        .limit(1)
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def void_code_sends(
    *, session: AsyncSession, verification_id: str, below_seq: int | None = None, status: str
) -> int:
    """Retire every live code of a verification (older than `below_seq` when given)."""
    conditions: list[Any] = [
        col(CodeSend.verification_id) == verification_id,
        or_(col(CodeSend.status) == "sent", col(CodeSend.status) == "sending"),
    ]
    if below_seq is not None:
        conditions.append(col(CodeSend.seq) < below_seq)
    statement = update(CodeSend).where(*conditions).values(status=status, code_hash=None)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def find_code_send_by_provider_message(
    *,
    session: AsyncSession,
    provider: str,
    message_id: str | None = None,
    verification_id: str | None = None,
    seq: int | None = None,
) -> CodeSend | None:
    """The send a provider's report is about: by the id its receipt gave, or else by our own
    idempotency key (verification, seq) that the vendor echoes back (a Vonage SMS in several
    parts has one id per part; SendGrid's `dropped` has none). Locked for update."""
    base = select(CodeSend).where(col(CodeSend.provider) == provider)
    queries = []
    if message_id:
        queries.append(base.where(col(CodeSend.provider_message_id) == message_id))
    if verification_id is not None and seq is not None:
        queries.append(
            base.where(col(CodeSend.verification_id) == verification_id, col(CodeSend.seq) == seq)
        )
    for query in queries:
        found = await session.scalars(
            query.limit(1).with_for_update().execution_options(populate_existing=True)
        )
        send = found.first()
        if send is not None:
            return send
    return None
