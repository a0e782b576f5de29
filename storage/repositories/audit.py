"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEvent,
)


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
    event = AuditEvent(
        team_id=team_id,
        verification_id=verification_id,
        actor_user_id=actor_user_id,
        kind=kind,
        detail=detail or {},
        created_at=at,
    )
    session.add(event)
    return event
