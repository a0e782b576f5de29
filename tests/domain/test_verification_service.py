"""The verification rules, against a real database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.delivery import Channel
from bot.errors import VerificationRefused
from bot.outbox import OutboxKind
from bot.verification.states import CheckResult, Outcome
from providers.sms import SmsMessage, SmsReceipt
from storage.db import Database
from storage.models import AuditEvent, CodeSend, Verification
from tests.support import queries
from tests.support.service import JANE, ServiceKit, make_kit, make_policy


@pytest.fixture
def kit(db: Database) -> ServiceKit:
    return make_kit(db)


async def open_and_send(
    kit: ServiceKit, channel: Channel = Channel.SMS, *, agent: str = "UAGENT"
) -> str:
    snapshot = await kit.service.open(
        team_id="T1", agent_user_id=agent, agent_name="alice", contact=JANE
    )
    outcome = await kit.service.send_code(
        verification_id=snapshot.id, actor_user_id=agent, channel=channel, seq=1
    )
    assert outcome.error is None and not outcome.duplicate
    return snapshot.id


async def check(kit: ServiceKit, verification_id: str, entry: str | None) -> CheckResult:
    outcome = await kit.service.check_code(
        verification_id=verification_id, actor_user_id="UAGENT", entry=entry
    )
    return outcome.result


async def test_right_code_verifies_once_and_is_then_spent(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    code = await kit.last_code()
    assert await check(kit, vid, code) is CheckResult.VERIFIED
    assert await check(kit, vid, code) is CheckResult.ALREADY_VERIFIED
    snapshot = await kit.service.snapshot(vid)
    assert snapshot.state == "verified" and snapshot.failed_checks == 0
    async with kit.db.transaction() as session:
        send = (await session.scalars(select(CodeSend))).one()
        assert send.status == "used" and send.code_hash is None


async def test_sms_body_carries_code_and_expiry(kit: ServiceKit) -> None:
    await open_and_send(kit)
    body = (await kit.console_messages())[-1]
    assert body.startswith("Acme IT: your verification code is ")
    assert "expires in 10 min" in body


async def test_email_uses_the_email_template(kit: ServiceKit) -> None:
    vid = await open_and_send(kit, Channel.EMAIL)
    body = (await kit.console_messages())[-1]
    assert body.startswith("Hello Jane,") and "alice from Acme IT" in body
    assert await check(kit, vid, await kit.last_code()) is CheckResult.VERIFIED


async def test_fifth_wrong_code_locks_even_the_right_code_out(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    code = await kit.last_code()
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(1, 5):
        outcome = await kit.service.check_code(
            verification_id=vid, actor_user_id="UAGENT", entry=wrong
        )
        assert outcome.result is CheckResult.WRONG
        assert outcome.notice.endswith(
            f"{5 - attempt} attempt{'s' if 5 - attempt != 1 else ''} left."
        )
    assert await check(kit, vid, wrong) is CheckResult.LOCKED
    assert await check(kit, vid, code) is CheckResult.LOCKED
    snapshot = await kit.service.snapshot(vid)
    assert snapshot.state == "locked" and snapshot.failed_checks == 5
    with pytest.raises(VerificationRefused) as refused:
        await kit.service.send_code(
            verification_id=vid, actor_user_id="UAGENT", channel=Channel.SMS, seq=2
        )
    assert refused.value.code == "locked"


async def test_malformed_entries_count_and_empty_does_not(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    assert await check(kit, vid, "  ") is CheckResult.EMPTY
    assert await check(kit, vid, "12345") is CheckResult.WRONG
    assert (await kit.service.snapshot(vid)).failed_checks == 1


async def test_expired_code_is_refused_without_counting(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    code = await kit.last_code()
    kit.clock.advance(seconds=599)
    kit.clock.advance(seconds=1)
    assert await check(kit, vid, code) is CheckResult.EXPIRED
    snapshot = await kit.service.snapshot(vid)
    assert snapshot.failed_checks == 0 and snapshot.code_expired
    with pytest.raises(VerificationRefused):
        await check(kit, vid, code)  # the expired code is gone for good


async def test_a_check_one_second_before_expiry_still_works(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    kit.clock.advance(seconds=599)
    assert await check(kit, vid, await kit.last_code()) is CheckResult.VERIFIED


async def test_resend_voids_the_old_code_and_keeps_the_failure_count(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    old = await kit.last_code()
    assert await check(kit, vid, "999999" if old != "999999" else "888888") is CheckResult.WRONG
    outcome = await kit.service.send_code(
        verification_id=vid, actor_user_id="UAGENT", channel=Channel.SMS, seq=2
    )
    assert outcome.error is None
    new = await kit.last_code()
    if new != old:
        assert await check(kit, vid, old) is CheckResult.WRONG
    snapshot = await kit.service.snapshot(vid)
    assert snapshot.failed_checks == (2 if new != old else 1)  # a resend resets nothing
    assert await check(kit, vid, new) is CheckResult.VERIFIED
    async with kit.db.transaction() as session:
        statuses = [
            s.status for s in (await session.scalars(select(CodeSend).order_by(col(CodeSend.seq))))
        ]
    assert statuses == ["voided", "used"]


async def test_same_send_key_sends_once(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    again = await kit.service.send_code(
        verification_id=vid, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
    )
    assert again.duplicate
    assert len(await kit.console_messages()) == 1


async def test_hundred_parallel_clicks_send_one_message(kit: ServiceKit) -> None:
    snapshot = await kit.service.open(
        team_id="T1", agent_user_id="UAGENT", agent_name="alice", contact=JANE
    )
    outcomes = await asyncio.gather(
        *[
            kit.service.send_code(
                verification_id=snapshot.id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
            )
            for _ in range(100)
        ]
    )
    assert sum(not o.duplicate for o in outcomes) == 1
    assert len(await kit.console_messages()) == 1


async def test_fifty_concurrent_wrong_checks_count_exactly_five(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    code = await kit.last_code()
    wrong = "000000" if code != "000000" else "111111"
    results = await asyncio.gather(*[check(kit, vid, wrong) for _ in range(50)])
    assert results.count(CheckResult.WRONG) == 4
    assert (await kit.service.snapshot(vid)).failed_checks == 5
    async with kit.db.transaction() as session:
        failures = (
            await session.scalars(
                select(AuditEvent).where(
                    col(AuditEvent.kind).in_(["code_check_failed", "verification_locked"])
                )
            )
        ).all()
    assert len(failures) == 5


async def test_two_concurrent_right_checks_verify_exactly_once(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    code = await kit.last_code()
    results = await asyncio.gather(*[check(kit, vid, code) for _ in range(10)])
    assert results.count(CheckResult.VERIFIED) == 1
    assert results.count(CheckResult.ALREADY_VERIFIED) == 9


async def test_a_code_is_bound_to_its_verification(kit: ServiceKit) -> None:
    first = await open_and_send(kit)
    code = await kit.last_code()
    second = await open_and_send(kit, agent="UOTHER")
    other = await kit.last_code()
    if code != other:
        wrong = await kit.service.check_code(
            verification_id=second, actor_user_id="UOTHER", entry=code
        )
        assert wrong.result is CheckResult.WRONG
    assert await check(kit, first, code) is CheckResult.VERIFIED


async def test_only_the_agent_who_opened_it_can_act(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    with pytest.raises(VerificationRefused) as refused:
        await kit.service.check_code(verification_id=vid, actor_user_id="UOTHER", entry="123456")
    assert refused.value.code == "not_agent"
    assert (await kit.service.snapshot(vid)).failed_checks == 0


async def test_contact_failure_cap_spans_verifications(db: Database) -> None:
    kit = make_kit(db, policy=make_policy(max_attempts=3, contact_failure_cap=5))
    for _ in range(2):
        vid = await open_and_send(kit)
        for _ in range(3):
            await check(kit, vid, "12")  # malformed entries count as failures
        await kit.service.close(
            verification_id=vid, actor_user_id="UAGENT", outcome=Outcome.INCOMPLETE
        )
    snapshot = await kit.service.open(
        team_id="T1", agent_user_id="UAGENT", agent_name="alice", contact=JANE
    )
    with pytest.raises(VerificationRefused) as refused:
        await kit.service.send_code(
            verification_id=snapshot.id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
        )
    assert refused.value.code == "contact_cap"
    assert "6 wrong codes" in refused.value.message


async def test_close_leaves_one_live_row_in_its_final_masked_state(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    code = await kit.last_code()
    await check(kit, vid, code)
    closed = await kit.service.close(
        verification_id=vid, actor_user_id="UAGENT", outcome=Outcome.COMPLETED
    )
    again = await kit.service.close(
        verification_id=vid, actor_user_id="UAGENT", outcome=Outcome.INCOMPLETE
    )
    assert not closed.already_closed and again.already_closed
    assert again.snapshot.outcome == "completed"
    async with kit.db.transaction() as session:
        outbox = await queries.list_outbox_messages(session=session)
        verification = await session.get(Verification, vid)
    # Send, sent, verified, closed: one coalesced row, its payload the newest state.
    assert len(outbox) == 1 and outbox[0].kind == OutboxKind.SUPERVISOR_LIVE
    assert outbox[0].revision == 3 and outbox[0].pace_key == "slack:C0SUPERVISE"
    payload = outbox[0].payload
    assert payload["channel"] == "C0SUPERVISE" and payload["stage"] == "completed"
    assert payload["masked_destination"] == "+1 ••• ••• 7611"
    assert payload["check"] == "code verified" and payload["outcome"] == "completed"
    assert code not in str(payload) and "5557611" not in str(payload)
    assert verification is not None and verification.closed_at is not None


async def test_completed_is_the_agents_call_even_unverified(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    closed = await kit.service.close(
        verification_id=vid, actor_user_id="UAGENT", outcome=Outcome.COMPLETED
    )
    assert closed.snapshot.outcome == "completed"
    assert closed.snapshot.check_summary == "code not checked"
    with pytest.raises(VerificationRefused) as refused:
        await check(kit, vid, await kit.last_code())
    assert refused.value.code == "closed"


async def test_no_code_or_full_destination_in_audit_log(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    code = await kit.last_code()
    await check(kit, vid, "000001" if code != "000001" else "000002")
    await check(kit, vid, code)
    await kit.service.close(verification_id=vid, actor_user_id="UAGENT", outcome=Outcome.COMPLETED)
    async with kit.db.transaction() as session:
        events = await queries.list_audit_events(session=session, verification_id=vid)
        sends = (await session.scalars(select(CodeSend))).all()
    kinds = [event.kind for event in events]
    assert kinds == [
        "verification_opened",
        "code_send_requested",
        "code_sent",
        "code_check_failed",
        "code_verified",
        "verification_closed",
    ]
    dumped = repr([(e.kind, e.detail) for e in events])
    assert code not in dumped and "5557611" not in dumped
    assert all(send.code_hash is None for send in sends)


class ExplodingSms:
    """An SMS port whose adapter has a bug: anything but a DeliveryError escapes it."""

    name = "exploding"

    async def send(self, message: SmsMessage) -> SmsReceipt:
        raise RuntimeError("adapter bug")


class HangingSms:
    """An SMS port that never answers, so the process can be "killed" mid-send."""

    name = "hanging"

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def send(self, message: SmsMessage) -> SmsReceipt:
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_crashing_provider_leaves_a_failed_send_not_a_stuck_one(db: Database) -> None:
    kit = make_kit(db, sms=ExplodingSms())
    snapshot = await kit.service.open(
        team_id="T1", agent_user_id="UAGENT", agent_name="alice", contact=JANE
    )
    outcome = await kit.service.send_code(
        verification_id=snapshot.id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
    )
    assert outcome.error is not None and "unknown whether" in outcome.error.message
    assert outcome.snapshot.latest_send is not None
    assert outcome.snapshot.latest_send.status == "failed"
    assert outcome.snapshot.next_seq == 2  # the card offers a fresh send


async def test_a_send_cut_off_by_a_restart_is_failed_on_the_next_click(db: Database) -> None:
    hanging = HangingSms()
    kit = make_kit(db, sms=hanging)
    snapshot = await kit.service.open(
        team_id="T1", agent_user_id="UAGENT", agent_name="alice", contact=JANE
    )
    task = asyncio.create_task(
        kit.service.send_code(
            verification_id=snapshot.id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
        )
    )
    await hanging.started.wait()
    task.cancel()  # the process dies while the provider call is in flight
    with pytest.raises(asyncio.CancelledError):
        await task
    again = await kit.service.send_code(
        verification_id=snapshot.id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
    )
    assert again.duplicate  # soon after, the same click is still just a double click
    kit.clock.advance(minutes=3)
    later = await kit.service.send_code(
        verification_id=snapshot.id, actor_user_id="UAGENT", channel=Channel.SMS, seq=1
    )
    assert not later.duplicate and later.error is not None
    assert "never finished" in later.error.message
    assert later.snapshot.latest_send is not None and later.snapshot.latest_send.status == "failed"


async def test_destination_send_budget_spans_verifications(db: Database) -> None:
    kit = make_kit(db, policy=make_policy(destination_sends_per_hour=2))
    first = await open_and_send(kit)
    await kit.service.close(
        verification_id=first, actor_user_id="UAGENT", outcome=Outcome.INCOMPLETE
    )
    second = await open_and_send(kit)
    with pytest.raises(VerificationRefused) as refused:
        await kit.service.send_code(
            verification_id=second, actor_user_id="UAGENT", channel=Channel.SMS, seq=2
        )
    assert refused.value.code == "send_budget"
    assert "2 codes to this destination in the last hour" in refused.value.message
    kit.clock.advance(minutes=61)
    resent = await kit.service.send_code(
        verification_id=second, actor_user_id="UAGENT", channel=Channel.SMS, seq=2
    )
    assert resent.error is None


async def test_agent_send_budget(db: Database) -> None:
    kit = make_kit(db, policy=make_policy(agent_sends_per_hour=1))
    vid = await open_and_send(kit)
    with pytest.raises(VerificationRefused) as refused:
        await kit.service.send_code(
            verification_id=vid, actor_user_id="UAGENT", channel=Channel.EMAIL, seq=2
        )
    assert "to you in the last hour" in refused.value.message


async def test_a_check_from_before_a_resend_is_stale_and_not_counted(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    await kit.service.send_code(
        verification_id=vid, actor_user_id="UAGENT", channel=Channel.SMS, seq=2
    )
    with pytest.raises(VerificationRefused) as refused:
        await kit.service.check_code(
            verification_id=vid, actor_user_id="UAGENT", entry="123456", seq=2
        )
    assert refused.value.code == "stale"
    assert (await kit.service.snapshot(vid)).failed_checks == 0
    outcome = await kit.service.check_code(
        verification_id=vid, actor_user_id="UAGENT", entry=await kit.last_code(), seq=3
    )
    assert outcome.result is CheckResult.VERIFIED


async def test_closing_with_an_expired_code_reports_it_expired(kit: ServiceKit) -> None:
    vid = await open_and_send(kit)
    kit.clock.advance(minutes=11)
    closed = await kit.service.close(
        verification_id=vid, actor_user_id="UAGENT", outcome=Outcome.INCOMPLETE
    )
    assert closed.snapshot.check_summary == "code expired unchecked"
    async with kit.db.transaction() as session:
        (row,) = await queries.list_outbox_messages(session=session)
    assert row.payload["check"] == "code expired unchecked"


async def test_reopening_a_contact_reuses_the_open_verification(kit: ServiceKit) -> None:
    snapshots = await asyncio.gather(
        *[
            kit.service.open(team_id="T1", agent_user_id="UAGENT", agent_name="a", contact=JANE)
            for _ in range(10)
        ]
    )
    assert len({s.id for s in snapshots}) == 1
    other_agent = await kit.service.open(
        team_id="T1", agent_user_id="UOTHER", agent_name="b", contact=JANE
    )
    assert other_agent.id != snapshots[0].id
    await kit.service.close(
        verification_id=snapshots[0].id, actor_user_id="UAGENT", outcome=Outcome.INCOMPLETE
    )
    fresh = await kit.service.open(
        team_id="T1", agent_user_id="UAGENT", agent_name="a", contact=JANE
    )
    assert fresh.id != snapshots[0].id


async def test_audit_log_refuses_updates_and_deletes(kit: ServiceKit) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    await open_and_send(kit)
    for statement in (update(AuditEvent).values(kind="tampered"), delete(AuditEvent)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with kit.db.transaction() as session:
                await session.execute(statement)
