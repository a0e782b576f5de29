"""Engine and transactions: SQLite (WAL, BEGIN IMMEDIATE) or PostgreSQL, same code above."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 5000
_in_transaction: ContextVar[bool] = ContextVar("in_transaction", default=False)


def make_engine(url: str, **options: Any) -> AsyncEngine:
    """Create the async engine for `url`; SQLite gets the pragmas concurrent writers need.

    `hide_parameters`: a database error must not print phone numbers, emails or codes into a
    log; `echo` stays off whatever the logging level (bot/runtime/logging_policy.py).
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            hide_parameters=True,
            echo=False,
            echo_pool=False,
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url, pool_pre_ping=True, hide_parameters=True, echo=False, echo_pool=False, **options
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so every transaction can be BEGIN IMMEDIATE: a
        # deferred read-then-write transaction can fail with SQLITE_BUSY despite busy_timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The one handle the rest of the app has on storage."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time anyway; queueing in-process is far cheaper than
        # every connection polling the file lock through busy_timeout.
        self._sqlite_writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception."""
        if _in_transaction.get():
            # A second connection inside the first would deadlock SQLite's single writer.
            raise RuntimeError("nested Database.transaction(): pass the session down instead")
        token = _in_transaction.set(True)
        try:
            if self._sqlite_writer is None:
                async with self._sessions() as session, session.begin():
                    yield session
            else:
                async with self._sqlite_writer, self._sessions() as session, session.begin():
                    yield session
        finally:
            _in_transaction.reset(token)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not healthy", reported as 503
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
