"""What tests of hostile input check after every request: no 500, no traceback in any log,
no row changed. Log records are caught from the root logger and uvicorn's own (which does
not propagate), at DEBUG, for the whole block."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, text
from sqlmodel import SQLModel

from storage.db import Database

WATCHED_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        """Every record that carries a traceback (exc_info) or prints one."""
        found = []
        for record in self.records:
            message = record.getMessage()
            if record.exc_info or record.exc_text or "Traceback" in message:
                found.append(f"{record.name}: {message[:300]}")
        return found

    def text(self) -> str:
        """Everything logged, as a handler with the usual format would write it."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return "\n".join(formatter.format(record) for record in self.records)


@contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[Records]:
    handler = Records()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
    root = logging.getLogger()
    root.setLevel(min(root.level or logging.WARNING, level))
    try:
        yield handler
    finally:
        for logger, old in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(old)


async def dump_tables(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: equal before and after a refused request."""
    dumped: dict[str, list[tuple[Any, ...]]] = {}
    async with db.transaction() as session:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            dumped[table.name] = sorted((tuple(row) for row in rows), key=repr)
        # A table a migration made outside the models would otherwise go unseen.
        if db.is_postgres:
            names = await session.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        else:
            names = await session.scalars(text("SELECT name FROM sqlite_master WHERE type='table'"))
        unknown = set(names) - set(dumped) - {"alembic_version", "sqlite_sequence"}
        assert not unknown, f"tables outside storage/models.py: {unknown}"
    return dumped


@contextmanager
def library_chatter() -> Iterator[None]:
    """Lift bot.runtime.logging_policy for a block (it is process-wide once an app has
    started): for tests proving an adapter's own requests carry no secret even where httpx
    and the rest do log them."""
    from bot.runtime.logging_policy import QUIET_LOGGERS

    saved = {}
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, list(logger.filters))
        logger.setLevel(logging.NOTSET)
        for quiet in list(logger.filters):
            logger.removeFilter(quiet)
    try:
        yield
    finally:
        for name, (level, filters) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            for quiet in filters:
                logger.addFilter(quiet)
