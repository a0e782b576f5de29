"""A VerificationService wired to a real database and the console providers."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.clock import ManualClock
from bot.console_store import ConsoleMessageStore
from bot.directory import ContactRow, import_contacts
from bot.policy import Policy
from bot.rendering import MessageRenderer, default_templates
from bot.verification import VerificationService
from providers.crm import ContactRecord
from providers.email.console import ConsoleEmail
from providers.sms import SmsSender
from providers.sms.console import ConsoleSms
from storage import repositories as repo
from storage.db import Database

KEY = b"test-secret-key-" * 3
CODE = re.compile(r"\b(\d{6,10})\b")


@dataclass
class ServiceKit:
    db: Database
    clock: ManualClock
    service: VerificationService
    kicks: list[int]

    async def console_messages(self) -> list[str]:
        async with self.db.transaction() as session:
            return [m.body for m in await repo.list_console_messages(session=session)]

    async def last_code(self) -> str:
        bodies = await self.console_messages()
        match = CODE.search(bodies[-1])
        assert match is not None, bodies[-1]
        return match.group(1)


def make_policy(**overrides: object) -> Policy:
    values: dict[str, object] = {
        "code_length": 6,
        "code_ttl_seconds": 600,
        "max_attempts": 5,
        "max_sends": 5,
        "contact_failure_cap": 10,
        "supervisor_channel": "C0SUPERVISE",
        "destination_sends_per_hour": 10,
        "agent_sends_per_hour": 60,
        "workspace_sends_per_hour": 500,
    }
    values.update(overrides)
    return Policy(**values)  # type: ignore[arg-type]


def make_kit(
    db: Database, *, policy: Policy | None = None, sms: SmsSender | None = None
) -> ServiceKit:
    """A service on `db` with console providers (or the given SMS port)."""
    clock = ManualClock()
    store = ConsoleMessageStore(db, clock)
    kicks: list[int] = []
    service = VerificationService(
        db=db,
        clock=clock,
        sms=sms or ConsoleSms(store, logging.getLogger("test.console")),
        email=ConsoleEmail(store, logging.getLogger("test.console"), "desk@msp.example"),
        renderer=MessageRenderer(),
        templates=default_templates(),
        secret_key=KEY,
        defaults=policy or make_policy(),
        organisation="Acme IT",
        outbox_written=lambda: kicks.append(1),
    )
    return ServiceKit(db=db, clock=clock, service=service, kicks=kicks)


JANE = ContactRecord(
    ref="c-jane",
    name="Jane Doe",
    company="Globex",
    phone_e164="+15135557611",
    email="jane.doe@globex.example",
)


async def seed_contacts(db: Database, clock: ManualClock, rows: list[ContactRow]) -> None:
    await import_contacts(rows, db=db, clock=clock)
