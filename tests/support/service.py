"""A VerificationService wired to a real database and the console providers."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.clock import ManualClock
from bot.contacts.directory import ContactRow, import_contacts
from bot.delivery.console import ConsoleMessageStore
from bot.delivery.providers import SendRetrier
from bot.supervision import SupervisionWatcher
from bot.templates.rendering import MessageRenderer, default_templates
from bot.verification.service import VerificationService
from bot.workspace.policy import Policy
from providers.crm import ContactRecord
from providers.email.console import ConsoleEmail
from providers.sms import SmsSender
from providers.sms.console import ConsoleSms
from storage.db import Database
from tests.support import queries

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
            return [m.body for m in await queries.list_console_messages(session=session)]

    async def last_code(self) -> str:
        bodies = await self.console_messages()
        match = CODE.search(bodies[-1])
        assert match is not None, bodies[-1]
        return match.group(1)


POLICY = Policy(
    code_length=6,
    code_ttl_seconds=600,
    max_attempts=5,
    max_sends=5,
    contact_failure_cap=10,
    supervisor_channel="C0SUPERVISE",
    destination_sends_per_hour=10,
    agent_sends_per_hour=60,
    workspace_sends_per_hour=500,
)


def make_policy(**overrides: Any) -> Policy:
    return replace(POLICY, **overrides)


def make_kit(
    db: Database,
    *,
    policy: Policy | None = None,
    sms: SmsSender | None = None,
    more_sms: Mapping[str, SmsSender] | None = None,
    retrier: SendRetrier | None = None,
    default_region: str = "US",
) -> ServiceKit:
    """`sms`: an SMS port to use as the workspace's (console) provider instead of the console;
    `more_sms`: further configured providers a workspace's policy may pick."""
    clock = ManualClock()
    store = ConsoleMessageStore(db, clock)
    kicks: list[int] = []
    defaults = policy or make_policy()
    service = VerificationService(
        db=db,
        clock=clock,
        sms={
            "console": sms or ConsoleSms(store, logging.getLogger("test.console")),
            **(more_sms or {}),
        },
        email={
            "console": ConsoleEmail(store, logging.getLogger("test.console"), "desk@msp.example")
        },
        renderer=MessageRenderer(),
        templates=default_templates(),
        secret_key=KEY,
        defaults=defaults,
        organisation="Acme IT",
        outbox_written=lambda: kicks.append(1),
        retrier=retrier,
        default_region=default_region,
        watcher=SupervisionWatcher(defaults=defaults, outbox_written=lambda: kicks.append(1)),
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
