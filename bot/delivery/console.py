"""Keeps what the console providers "send" in the database, for the developer to read."""

from __future__ import annotations

from bot.clock import Clock
from storage import repositories as repo
from storage.db import Database


class ConsoleMessageStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def keep(self, *, channel: str, recipient: str, subject: str | None, body: str) -> str:
        async with self._db.transaction() as session:
            message = await repo.add_console_message(
                session=session,
                channel=channel,
                recipient=recipient,
                subject=subject,
                body=body,
                at=self._clock.now(),
            )
            return str(message.id)
