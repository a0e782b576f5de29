"""Per-workspace policy and message templates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    AuditEvent,
    MessageTemplateSet,
    WorkspacePolicy,
)


async def get_workspace_policy(*, session: AsyncSession, team_id: str) -> WorkspacePolicy | None:
    return await session.get(WorkspacePolicy, team_id)


async def get_message_templates(
    *, session: AsyncSession, team_id: str
) -> MessageTemplateSet | None:
    return await session.get(MessageTemplateSet, team_id)


async def delete_message_templates(*, session: AsyncSession, team_id: str) -> bool:
    row = await session.get(MessageTemplateSet, team_id)
    if row is None:
        return False
    await session.delete(row)
    return True


async def count_recent_audit_events(
    *, session: AsyncSession, team_id: str, kind: str, actor_user_id: str, since: datetime
) -> int:
    query = (
        select(func.count())
        .select_from(AuditEvent)
        .where(
            col(AuditEvent.team_id) == team_id,
            col(AuditEvent.kind) == kind,
            col(AuditEvent.actor_user_id) == actor_user_id,
            col(AuditEvent.created_at) >= since,
        )
    )
    return int((await session.scalar(query)) or 0)


async def save_workspace_policy(
    *,
    session: AsyncSession,
    team_id: str,
    values: Mapping[str, Any],
    updated_by: str,
    at: datetime,
) -> WorkspacePolicy:
    """Set these WorkspacePolicy columns for the workspace (creating its row); others unchanged."""
    row = await session.get(WorkspacePolicy, team_id, with_for_update=True)
    if row is None:
        row = WorkspacePolicy(team_id=team_id, updated_at=at)
        session.add(row)
    for name, value in values.items():
        if name not in WorkspacePolicy.model_fields or name in ("team_id", "updated_at"):
            raise ValueError(f"not a workspace policy setting: {name}")
        setattr(row, name, value)
    row.updated_by = updated_by
    row.updated_at = at
    await session.flush()
    return row
