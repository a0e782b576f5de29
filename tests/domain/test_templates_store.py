"""The template service against a real database: validation on save, audit, test-send budget."""

from __future__ import annotations

import logging

import pytest

from bot.audit import AuditKind
from bot.clock import ManualClock
from bot.delivery.channels import Channel
from bot.delivery.console import ConsoleMessageStore
from bot.delivery.providers import Providers
from bot.errors import TemplateTestRefused
from bot.templates.rendering import MessageRenderer, MessageTemplates, default_templates
from bot.templates.service import (
    TESTS_PER_HOUR,
    TemplateService,
    TemplatesInvalid,
)
from providers.email.console import ConsoleEmail
from providers.sms.console import ConsoleSms
from storage import repositories as repo
from storage.db import Database
from tests.support import queries
from tests.support.service import make_policy


def service(db: Database, clock: ManualClock, **policy: object) -> TemplateService:
    store = ConsoleMessageStore(db, clock)
    return TemplateService(
        db=db,
        clock=clock,
        renderer=MessageRenderer(),
        defaults=default_templates(),
        policy_defaults=make_policy(supervisor_channel=None, **policy),
        organisation="Acme IT",
        providers=Providers(
            sms={"console": ConsoleSms(store, logging.getLogger("test.console"))},
            email={
                "console": ConsoleEmail(
                    store, logging.getLogger("test.console"), "desk@msp.example"
                )
            },
        ),
        default_region="US",
    )


async def test_save_revalidates_and_writes_nothing_when_invalid(db: Database) -> None:
    templates = service(db, ManualClock())
    bad = MessageTemplates(sms="{{ code.__class__ }}", email_subject="x", email_body="{{ code }}")
    with pytest.raises(TemplatesInvalid) as invalid:
        await templates.save(team_id="T1", actor_user_id="UADMIN", templates=bad, agent_name="a")
    assert "attribute and item access" in next(iter(invalid.value.check.errors.values()))
    async with db.transaction() as session:
        assert await repo.get_message_templates(session=session, team_id="T1") is None
        assert await queries.list_audit_events(session=session) == []


async def test_unchanged_save_and_reset_of_defaults_change_nothing(db: Database) -> None:
    templates = service(db, ManualClock())
    shipped = default_templates()
    changed = await templates.save(
        team_id="T1", actor_user_id="UADMIN", templates=shipped, agent_name="a"
    )
    assert changed == []
    assert await templates.reset(team_id="T1", actor_user_id="UADMIN") == []
    async with db.transaction() as session:
        assert await queries.list_audit_events(session=session) == []
    # Another workspace's templates are its own.
    own = MessageTemplates(sms="{{ code }}", email_subject="s", email_body="b {{ code }}")
    await templates.save(team_id="T2", actor_user_id="UADMIN", templates=own, agent_name="a")
    assert (await templates.current(team_id="T1")).is_default
    current = await templates.current(team_id="T2")
    assert current.templates == own and current.updated_by == "UADMIN"
    async with db.transaction() as session:
        kinds = [e.kind for e in await queries.list_audit_events(session=session)]
    assert kinds == [AuditKind.TEMPLATES_CHANGED] * 3


async def test_test_sends_are_budgeted_per_admin_and_hour(db: Database) -> None:
    clock = ManualClock()
    templates = service(db, clock)

    async def send(actor: str = "UADMIN") -> str:
        return await templates.send_test(
            team_id="T1",
            actor_user_id=actor,
            agent_name="ada",
            templates=default_templates(),
            channel=Channel.SMS,
            destination="+15135550123",
        )

    for _ in range(TESTS_PER_HOUR):
        assert await send() == "+1 ••• ••• 0123"
    with pytest.raises(TemplateTestRefused) as refused:
        await send()
    assert f"limit {TESTS_PER_HOUR}" in refused.value.message
    assert await send("UOTHER")  # another admin has their own budget
    clock.advance(minutes=61)
    assert await send()
    async with db.transaction() as session:
        assert len(await queries.list_console_messages(session=session)) == TESTS_PER_HOUR + 2


async def test_test_sms_keeps_to_the_allowed_countries(db: Database) -> None:
    templates = service(db, ManualClock())
    with pytest.raises(TemplateTestRefused) as refused:
        await templates.send_test(
            team_id="T1",
            actor_user_id="UADMIN",
            agent_name="ada",
            templates=default_templates(),
            channel=Channel.SMS,
            destination="+447400123456",
        )
    assert "SMS to GB numbers (+44 ••• ••• 3456) is not allowed" in refused.value.message
    async with db.transaction() as session:
        assert await queries.list_console_messages(session=session) == []


async def test_a_test_through_a_provider_this_server_lacks_is_refused(db: Database) -> None:
    templates = service(db, ManualClock(), email_provider="sendgrid")
    with pytest.raises(TemplateTestRefused) as refused:
        await templates.send_test(
            team_id="T1",
            actor_user_id="UADMIN",
            agent_name="ada",
            templates=default_templates(),
            channel=Channel.EMAIL,
            destination="ada@msp.example",
        )
    assert "SendGrid is not configured on this server" in refused.value.message
    assert "SENDGRID_API_KEY and EMAIL_FROM" in refused.value.message
    async with db.transaction() as session:
        assert await queries.list_console_messages(session=session) == []
