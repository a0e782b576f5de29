"""Destination edits against a real database: limits survive an edit, policy is enforced."""

from __future__ import annotations

import pytest

from bot.delivery import Channel
from bot.errors import DestinationInvalid, VerificationRefused
from bot.verification.destinations import DestinationEditor, EditField
from bot.verification.states import CheckResult
from storage.db import Database
from tests.support import queries
from tests.support.service import JANE, ServiceKit, make_kit, make_policy


def editor(kit: ServiceKit, **policy: object) -> DestinationEditor:
    return DestinationEditor(
        db=kit.db, clock=kit.clock, defaults=make_policy(**policy), region="US"
    )


async def opened(kit: ServiceKit) -> str:
    snapshot = await kit.service.open(
        team_id="T1", agent_user_id="UAGENT", agent_name="alice", contact=JANE
    )
    return snapshot.id


async def test_an_edit_resets_no_counter_and_no_budget(db: Database) -> None:
    kit = make_kit(db, policy=make_policy(max_sends=2, max_attempts=3))
    verification_id = await opened(kit)
    await kit.service.send_code(
        verification_id=verification_id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
    )
    wrong = "000000" if await kit.last_code() != "000000" else "111111"
    await kit.service.check_code(
        verification_id=verification_id, actor_user_id="UAGENT", entry=wrong
    )
    await editor(kit).edit(
        verification_id=verification_id,
        actor_user_id="UAGENT",
        channel=Channel.SMS,
        value="+1 513 555 0100",
        reason="lost phone",
    )
    snapshot = await kit.service.snapshot(verification_id)
    assert snapshot.failed_checks == 1 and snapshot.sends_left == 1 and snapshot.next_seq == 2
    assert snapshot.destination_edited and snapshot.phone_edited and not snapshot.email_edited
    assert snapshot.edit_reason == "lost phone"
    # The last send the policy allows goes to the new number; then the budget is spent.
    outcome = await kit.service.send_code(
        verification_id=verification_id, actor_user_id="UAGENT", channel=Channel.SMS, seq=2
    )
    assert outcome.error is None
    async with kit.db.transaction() as session:
        sends = await queries.list_console_messages(session=session)
    assert [m.recipient for m in sends] == ["+15135557611", "+15135550100"]
    with pytest.raises(VerificationRefused) as refused:
        await kit.service.send_code(
            verification_id=verification_id, actor_user_id="UAGENT", channel=Channel.SMS, seq=3
        )
    assert refused.value.code == "send_budget"


async def test_reason_optional_when_the_policy_says_so(db: Database) -> None:
    kit = make_kit(db)
    verification_id = await opened(kit)
    with pytest.raises(DestinationInvalid) as missing:
        await editor(kit).edit(
            verification_id=verification_id,
            actor_user_id="UAGENT",
            channel=Channel.EMAIL,
            value="jane@home.example",
            reason="  ",
        )
    assert missing.value.field is EditField.REASON
    await editor(kit, require_edit_reason=False).edit(
        verification_id=verification_id,
        actor_user_id="UAGENT",
        channel=Channel.EMAIL,
        value="jane@home.example",
        reason=None,
    )
    snapshot = await kit.service.snapshot(verification_id)
    assert snapshot.email_edited and snapshot.edit_reason is None


async def test_no_edit_once_locked(db: Database) -> None:
    kit = make_kit(db, policy=make_policy(max_attempts=1))
    verification_id = await opened(kit)
    await kit.service.send_code(
        verification_id=verification_id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
    )
    wrong = "000000" if await kit.last_code() != "000000" else "111111"
    outcome = await kit.service.check_code(
        verification_id=verification_id, actor_user_id="UAGENT", entry=wrong
    )
    assert outcome.result is CheckResult.LOCKED
    with pytest.raises(VerificationRefused) as refused:
        await editor(kit).form(
            verification_id=verification_id, actor_user_id="UAGENT", channel=Channel.SMS
        )
    assert refused.value.code == "locked"
    async with kit.db.transaction() as session:
        events = await queries.list_audit_events(session=session, verification_id=verification_id)
    assert events[-1].kind == "destination_edit_refused"
    assert events[-1].detail == {"channel": "sms", "reason": "locked"}
