"""What supervisors see: live messages and standing threads in Slack, a contact's recent
verifications, and the rows the figures are counted from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ChannelThread, CodeSend, SupervisorMessage, Verification, table_of


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def get_supervisor_message(
    *, session: AsyncSession, verification_id: str
) -> SupervisorMessage | None:
    return await session.get(SupervisorMessage, verification_id, populate_existing=True)


async def record_supervisor_message(
    *,
    session: AsyncSession,
    verification_id: str,
    team_id: str,
    channel: str,
    ts: str,
    at: datetime,
) -> None:
    """Keep the first ts recorded for a verification (a second would be a duplicate post)."""
    await session.execute(
        _insert(session)(table_of(SupervisorMessage))
        .values(
            verification_id=verification_id, team_id=team_id, channel=channel, ts=ts, posted_at=at
        )
        .on_conflict_do_nothing(index_elements=["verification_id"])
    )


async def forget_supervisor_message(*, session: AsyncSession, verification_id: str) -> None:
    """The message was deleted in Slack: the next post records a new ts."""
    row = await session.get(SupervisorMessage, verification_id)
    if row is not None:
        await session.delete(row)


async def get_channel_thread(
    *, session: AsyncSession, channel: str, purpose: str
) -> ChannelThread | None:
    return await session.get(ChannelThread, (channel, purpose), populate_existing=True)


async def record_channel_thread(
    *, session: AsyncSession, channel: str, purpose: str, ts: str, at: datetime
) -> None:
    await session.execute(
        _insert(session)(table_of(ChannelThread))
        .values(channel=channel, purpose=purpose, ts=ts, created_at=at)
        .on_conflict_do_nothing(index_elements=["channel", "purpose"])
    )


async def contact_verifications_since(
    *, session: AsyncSession, team_id: str, contact_ref: str, since: datetime
) -> Sequence[Verification]:
    """A contact's verifications opened since `since`, newest first."""
    query = (
        select(Verification)
        .where(
            col(Verification.team_id) == team_id,
            col(Verification.contact_ref) == contact_ref,
            col(Verification.created_at) >= since,
        )
        .order_by(col(Verification.created_at).desc())
    )
    return (await session.scalars(query)).all()


async def used_send_channels(
    *, session: AsyncSession, verification_ids: Sequence[str]
) -> dict[str, str]:
    """The channel of the code each verification was verified with (status "used")."""
    if not verification_ids:
        return {}
    query = select(col(CodeSend.verification_id), col(CodeSend.channel)).where(
        col(CodeSend.verification_id).in_(list(verification_ids)),
        col(CodeSend.status) == "used",
    )
    return {str(row[0]): str(row[1]) for row in (await session.execute(query)).all()}


@dataclass(frozen=True)
class FigureRow:
    """One verification, reduced to what the supervisors' figures count."""

    agent_user_id: str
    company: str
    created_at: datetime
    verified_at: datetime | None
    state: str
    outcome: str | None
    destination_edited: bool


async def figure_rows(
    *, session: AsyncSession, team_id: str, since: datetime, until: datetime
) -> list[FigureRow]:
    """Verifications opened in [since, until): only the columns the figures need."""
    query = select(
        col(Verification.agent_user_id),
        col(Verification.company),
        col(Verification.created_at),
        col(Verification.verified_at),
        col(Verification.state),
        col(Verification.outcome),
        col(Verification.phone_edited),
        col(Verification.email_edited),
    ).where(
        col(Verification.team_id) == team_id,
        col(Verification.created_at) >= since,
        col(Verification.created_at) < until,
    )
    result = await session.execute(query)
    return [_figure_row(row) for row in result.all()]


def _figure_row(row: Any) -> FigureRow:
    agent, company, created, verified, state, outcome, phone_edited, email_edited = row
    return FigureRow(
        agent_user_id=agent,
        company=company,
        created_at=created,
        verified_at=verified,
        state=state,
        outcome=outcome,
        destination_edited=bool(phone_edited or email_edited),
    )


async def open_verifications(
    *, session: AsyncSession, team_id: str, limit: int
) -> Sequence[Verification]:
    query = (
        select(Verification)
        .where(col(Verification.team_id) == team_id, col(Verification.outcome).is_(None))
        .order_by(col(Verification.created_at))
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def count_open_verifications(*, session: AsyncSession, team_id: str) -> int:
    query = (
        select(func.count())
        .select_from(Verification)
        .where(col(Verification.team_id) == team_id, col(Verification.outcome).is_(None))
    )
    return int((await session.scalar(query)) or 0)


async def active_team_ids(*, session: AsyncSession, since: datetime) -> list[str]:
    """Workspaces with a verification opened since `since` (who may need a digest)."""
    query = (
        select(col(Verification.team_id))
        .distinct()
        .where(or_(col(Verification.created_at) >= since, col(Verification.closed_at) >= since))
    )
    return sorted(str(team) for team in (await session.scalars(query)).all())
