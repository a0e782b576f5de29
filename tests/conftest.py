"""Shared fixtures: a fresh database per test (SQLite file, or a PostgreSQL database)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database, make_engine
from storage.migrate import upgrade_database

# Set by .ci/run for the second pass, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test
POSTGRES_URL = os.environ.get("PINVERIFY_TEST_DATABASE_URL")
TEST_SCRUBBED_PREFIXES = (
    *("SLACK_", "PINVERIFY_", "TWILIO_", "SMTP_", "EMAIL_", "SMS_"),
    *("VONAGE_", "SENDGRID_", "POSTMARK_"),
    *("CRM_", "CONNECTWISE_", "AUTOTASK_", "HALOPSA_", "ZENDESK_"),
)

# Screenshots and the like that tests leave for a person to look at (gitignored).
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SESSION_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the artefacts this run wrote (xdist workers' output is not shown otherwise)."""
    fresh = sorted(path for path in ARTIFACTS.glob("*") if path.stat().st_mtime >= SESSION_STARTED)
    for path in fresh:
        terminalreporter.write_line(f"test artefact: {path}")


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own Slack credentials must never leak into a test."""
    for name in list(os.environ):
        if name.startswith(TEST_SCRUBBED_PREFIXES) and name != "PINVERIFY_TEST_DATABASE_URL":
            monkeypatch.delenv(name)


@pytest.fixture
async def database_url(tmp_path: os.PathLike[str]) -> AsyncIterator[str]:
    """An empty database for this test alone, so tests run in parallel without interfering."""
    if POSTGRES_URL is None:
        yield f"sqlite+aiosqlite:///{tmp_path}/pinverify.db"
        return
    base = make_url(POSTGRES_URL)
    name = f"pinverify_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(make_engine(database_url))
    await upgrade_database(database.engine)
    try:
        yield database
    finally:
        await database.dispose()
