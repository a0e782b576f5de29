"""Voiding (a supervisor's act): it closes an open verification of their own workspace only,
voids its codes, tells the live message and its thread, and a second void changes nothing."""

from __future__ import annotations

import pytest

from bot.delivery import Channel
from bot.errors import VerificationRefused
from bot.verification import Outcome
from storage.db import Database
from tests.support import queries
from tests.support.service import JANE, ServiceKit, make_kit


@pytest.fixture
def kit(db: Database) -> ServiceKit:
    return make_kit(db)


async def test_void_is_workspace_bound_and_once(kit: ServiceKit) -> None:
    opened = await kit.service.open(
        team_id="T1", agent_user_id="UAGENT", agent_name="alice", contact=JANE
    )
    await kit.service.send_code(
        verification_id=opened.id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
    )
    with pytest.raises(VerificationRefused) as elsewhere:
        await kit.service.void(
            team_id="T2", verification_id=opened.id, actor_user_id="USUPER", reason="x"
        )
    assert elsewhere.value.code == "not_found"
    voided = await kit.service.void(
        team_id="T1", verification_id=opened.id, actor_user_id="USUPER", reason="hung up"
    )
    assert not voided.already_closed and voided.snapshot.outcome == Outcome.VOIDED
    assert voided.snapshot.latest_send is not None
    assert voided.snapshot.latest_send.status == "voided"
    again = await kit.service.void(
        team_id="T1", verification_id=opened.id, actor_user_id="USUPER", reason="again"
    )
    assert again.already_closed
    async with kit.db.transaction() as session:
        events = await queries.list_audit_events(session=session)
        outbox = await queries.list_outbox_messages(session=session)
    assert [
        (e.actor_user_id, e.detail["reason"]) for e in events if e.kind == "verification_voided"
    ] == [("USUPER", "hung up")]
    live = [row for row in outbox if row.kind == "supervisor_live"]
    alerts = [row for row in outbox if row.kind == "supervisor_alert"]
    assert live[0].payload["stage"] == "voided" and live[0].payload["voided_by"] == "USUPER"
    assert [a.payload["alert"] for a in alerts] == ["voided"]
    assert alerts[0].payload["reason"] == "hung up"
