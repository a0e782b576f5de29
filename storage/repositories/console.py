"""What the console providers "sent", kept for the developer and the sandbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    ConsoleMessage,
)


async def add_console_message(
    *,
    session: AsyncSession,
    channel: str,
    recipient: str,
    subject: str | None,
    body: str,
    at: datetime,
) -> ConsoleMessage:
    message = ConsoleMessage(
        channel=channel, recipient=recipient, subject=subject, body=body, created_at=at
    )
    session.add(message)
    await session.flush()
    return message


async def latest_console_messages(*, session: AsyncSession, limit: int) -> Sequence[ConsoleMessage]:
    """What the console providers "sent", newest first (the sandbox's phone and inbox)."""
    query = select(ConsoleMessage).order_by(col(ConsoleMessage.id).desc()).limit(limit)
    return (await session.scalars(query)).all()
