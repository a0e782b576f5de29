"""Sends through a real adapter and a fake Twilio: retries, unconfirmed sends, refusals, and
delivery reports applied to the send (forward only)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from bot.delivery.channels import Channel
from bot.delivery.providers import RetryPolicy, SendRetrier
from bot.delivery.reports import DeliveryTracker
from bot.errors import VerificationRefused
from bot.verification.states import CheckResult
from providers.reports import DeliveryState, DeliveryStatus
from providers.sms.twilio import TwilioSms
from storage.db import Database
from storage.models import CodeSend, WorkspacePolicy
from tests.fakes.twilio import TEST_FROM_NUMBER, FakeTwilio
from tests.support import queries
from tests.support.asgi import running_server
from tests.support.service import CODE, JANE, ServiceKit, make_kit, make_policy


class Twilio:
    def __init__(self, fake: FakeTwilio, adapter: TwilioSms) -> None:
        self.fake = fake
        self.adapter = adapter


@pytest.fixture
async def twilio() -> AsyncIterator[Twilio]:
    fake = FakeTwilio()
    async with running_server(fake.asgi_app()) as url, httpx.AsyncClient() as client:
        adapter = TwilioSms(
            client,
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number=TEST_FROM_NUMBER,
            api_url=url,
            timeout=0.3,
        )
        yield Twilio(fake, adapter)


def twilio_kit(db: Database, twilio: Twilio, sleeps: list[float], **policy: object) -> ServiceKit:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return make_kit(
        db,
        policy=make_policy(sms_provider="twilio", **policy),
        more_sms={"twilio": twilio.adapter},
        retrier=SendRetrier(policy=RetryPolicy(), sleep=sleep, rng=random.Random(1)),
    )


async def open_and_send(kit: ServiceKit, channel: Channel = Channel.SMS) -> str:
    snapshot = await kit.service.open(
        team_id="T1", agent_user_id="UAGENT", agent_name="alice", contact=JANE
    )
    await kit.service.send_code(
        verification_id=snapshot.id, actor_user_id="UAGENT", channel=channel, seq=1
    )
    return snapshot.id


async def sends(db: Database) -> list[CodeSend]:
    async with db.transaction() as session:
        return list((await session.scalars(select(CodeSend))).all())


async def events(db: Database, kind: str) -> list[dict[str, object]]:
    async with db.transaction() as session:
        return [
            e.detail for e in await queries.list_audit_events(session=session) if e.kind == kind
        ]


async def test_a_transient_failure_is_retried_with_the_same_code_and_row(
    db: Database, twilio: Twilio
) -> None:
    sleeps: list[float] = []
    kit = twilio_kit(db, twilio, sleeps)
    twilio.fake.fail_next(status=503)
    verification_id = await open_and_send(kit)
    (sms,) = twilio.fake.messages  # one message reached the caller
    assert len(twilio.fake.requests) == 2 and len(sleeps) == 1
    (send,) = await sends(db)
    assert send.status == "sent" and send.provider == "twilio"
    assert send.provider_message_id == sms.sid and send.delivery_status == "queued"
    (sent,) = await events(db, "code_sent")
    assert sent["attempts"] == 2
    match = CODE.search(sms.body)
    assert match is not None
    outcome = await kit.service.check_code(
        verification_id=verification_id, actor_user_id="UAGENT", entry=match.group(1)
    )
    assert outcome.result is CheckResult.VERIFIED


async def test_timeouts_leave_the_code_checkable_as_unconfirmed(
    db: Database, twilio: Twilio
) -> None:
    sleeps: list[float] = []
    kit = twilio_kit(db, twilio, sleeps)
    # Every try is accepted by Twilio but answered too late: the caller has the code (twice,
    # the same one), and PIN Verify cannot tell.
    twilio.fake.delay_next(1.0, times=3)
    verification_id = await open_and_send(kit)
    assert len(twilio.fake.messages) == 3
    assert len({sms.body for sms in twilio.fake.messages}) == 1  # one code, never two
    (send,) = await sends(db)
    assert send.status == "sent" and send.code_hash is not None
    assert send.delivery_status == "unconfirmed" and send.provider_message_id is None
    assert send.delivery_error is not None and "did not answer in time" in send.delivery_error
    (event,) = await events(db, "code_send_unconfirmed")
    assert event["attempts"] == 3 and event["reason"] == "transient"
    snapshot = await kit.service.snapshot(verification_id)
    assert snapshot.latest_send is not None and snapshot.latest_send.delivery_status == (
        "unconfirmed"
    )
    match = CODE.search(twilio.fake.messages[0].body)
    assert match is not None
    outcome = await kit.service.check_code(
        verification_id=verification_id, actor_user_id="UAGENT", entry=match.group(1)
    )
    assert outcome.result is CheckResult.VERIFIED


async def test_opted_out_stops_at_once_with_a_specific_message(
    db: Database, twilio: Twilio
) -> None:
    sleeps: list[float] = []
    kit = twilio_kit(db, twilio, sleeps)
    twilio.fake.fail_next(status=400, code=21610)
    await open_and_send(kit)
    assert len(twilio.fake.requests) == 1 and sleeps == []
    (send,) = await sends(db)
    assert send.status == "failed" and send.code_hash is None
    assert send.error_message == (
        "Twilio: the number +1 ••• ••• 7611 has opted out of SMS — try email."
    )


async def test_sms_refusals_happen_before_any_provider_call(db: Database, twilio: Twilio) -> None:
    kit = twilio_kit(db, twilio, [], sms_allowed_countries=("GB",))
    with pytest.raises(VerificationRefused) as refused:
        await open_and_send(kit)
    assert refused.value.code == "sms_not_allowed"
    assert "SMS to US numbers (+1 ••• ••• 7611) is not allowed" in refused.value.message
    assert twilio.fake.requests == [] and await sends(db) == []


async def test_a_workspace_provider_that_is_not_configured_is_refused(db: Database) -> None:
    kit = make_kit(db, policy=make_policy(sms_provider="vonage"))
    with pytest.raises(VerificationRefused) as refused:
        await open_and_send(kit)
    assert refused.value.code == "provider_not_configured"
    assert "sends SMS with Vonage, but Vonage is not configured" in refused.value.message
    assert "VONAGE_API_KEY" in refused.value.message
    assert await sends(db) == []
    # Email still works with the workspace's email provider.
    await open_and_send(kit, Channel.EMAIL)
    (send,) = await sends(db)
    assert send.provider == "console" and send.status == "sent"


async def test_the_send_audit_event_records_sms_encoding_and_segments(db: Database) -> None:
    kit = make_kit(db)
    await open_and_send(kit)
    (requested,) = await events(db, "code_send_requested")
    assert requested["encoding"] == "GSM-7" and requested["segments"] == 1
    assert "code" not in requested


async def test_delivery_reports_only_move_a_send_forward(db: Database, twilio: Twilio) -> None:
    kit = twilio_kit(db, twilio, [])
    await open_and_send(kit)
    (sms,) = twilio.fake.messages
    tracker = DeliveryTracker(db=db, clock=kit.clock)
    report = DeliveryStatus("twilio", sms.sid, DeliveryState.SENT)
    applied = await tracker.apply(report)
    assert applied is not None and applied.state is DeliveryState.SENT
    assert await tracker.apply(report) is None  # a repeat changes nothing
    assert await tracker.apply(replace(report, state=DeliveryState.DELIVERED)) is not None
    # Late and out of order: neither "queued" nor a failure may undo "delivered".
    assert await tracker.apply(replace(report, state=DeliveryState.QUEUED)) is None
    assert await tracker.apply(replace(report, state=DeliveryState.UNDELIVERED)) is None
    # Another provider's report about the same id is not about this send.
    assert await tracker.apply(replace(report, provider="vonage")) is None
    (send,) = await sends(db)
    assert send.delivery_status == "delivered"
    statuses = [e["delivery_status"] for e in await events(db, "code_delivery_status")]
    assert statuses == ["sent", "delivered"]


async def test_each_workspace_sends_with_its_own_chosen_provider(
    db: Database, twilio: Twilio
) -> None:
    # The environment default is the console; workspace T1 saved Twilio as its SMS provider.
    kit = make_kit(db, more_sms={"twilio": twilio.adapter})
    async with db.transaction() as session:
        session.add(
            WorkspacePolicy(team_id="T1", sms_provider="twilio", updated_at=kit.clock.now())
        )
    await open_and_send(kit)  # team T1
    other = await kit.service.open(
        team_id="T2", agent_user_id="UAGENT2", agent_name="bob", contact=JANE
    )
    await kit.service.send_code(
        verification_id=other.id, actor_user_id="UAGENT2", channel=Channel.SMS, seq=1
    )
    assert len(twilio.fake.messages) == 1  # T1 only
    assert [send.provider for send in await sends(db)] == ["twilio", "console"]
    assert len(await kit.console_messages()) == 1  # T2's code went to the console


async def test_a_report_without_a_known_id_is_matched_by_our_echoed_key(
    db: Database, twilio: Twilio
) -> None:
    kit = twilio_kit(db, twilio, [])
    verification_id = await open_and_send(kit)
    tracker = DeliveryTracker(db=db, clock=kit.clock)
    # Part two of a multi-part SMS, or a SendGrid `dropped` event: only our key comes back.
    part = DeliveryStatus(
        "twilio", "SM-part-2", DeliveryState.UNDELIVERED, "no route", None, f"{verification_id}:1"
    )
    applied = await tracker.apply(part)
    assert applied is not None and applied.seq == 1
    stranger = replace(part, message_id="SM-unknown", reference="0123abcd:1")
    assert await tracker.apply(stranger) is None
    (send,) = await sends(db)
    assert send.delivery_status == "undelivered" and send.delivery_error == "no route"
