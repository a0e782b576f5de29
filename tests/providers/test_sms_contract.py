"""Every SMS adapter honours the SmsSender port the same way.

One suite, run against the console provider and every vendor adapter over its fake: a new
adapter joins by adding a harness below, and must then pass every test here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from providers.errors import (
    DeliveryError,
    FailureReason,
    InvalidRecipient,
    OptedOut,
    RateLimited,
)
from providers.sms import SmsMessage, SmsSender
from providers.sms.console import ConsoleSms
from tests.providers import delivery_contract as contract
from tests.providers.support import (
    InMemorySink,
    TwilioEnv,
    VonageEnv,
    assert_agent_safe,
)

TO = "+14155550123"
pytestmark = pytest.mark.asyncio(loop_scope="module")

CODE = "482913"
BODY = f"Votre code PIN Verify : {CODE}\nIl expire dans 10 minutes — ne le partagez pas."
# What no error may show the agent.
PRIVATE = (TO, BODY, CODE)


@dataclass
class SmsFaults:
    """How to make one vendor fail in each documented way, through its fake."""

    invalid_to: str
    opted_out_to: str
    wrong_credentials: Callable[[], SmsSender]
    rate_limit_next: Callable[[], None]
    fail_next: Callable[[], None]
    # Makes the next reply slow and returns a sender whose timeout is shorter than that.
    impatient_after_delay: Callable[[], SmsSender]


@dataclass
class SmsHarness:
    sender: SmsSender
    first_status: str
    # (to, body) pairs as the outside world received them.
    delivered: Callable[[], list[tuple[str, str]]]
    faults: SmsFaults | None  # None: the console provider cannot fail


@pytest.fixture(params=["console", "twilio", "vonage"])
def harness(request: pytest.FixtureRequest) -> SmsHarness:
    if request.param == "console":
        sink = InMemorySink()
        return SmsHarness(
            ConsoleSms(sink, logging.getLogger("tests.console_sms")),
            "delivered",
            lambda: [(kept.recipient, kept.body) for kept in sink.kept if kept.channel == "sms"],
            None,
        )
    # Requested only here, so the console runs do not start the fake servers.
    if request.param == "twilio":
        twilio: TwilioEnv = request.getfixturevalue("twilio")

        def twilio_slow() -> SmsSender:
            twilio.fake.delay_next(5.0)
            return twilio.adapter(timeout=0.2)

        return SmsHarness(
            twilio.adapter(),
            "queued",
            lambda: [(sms.to, sms.body) for sms in twilio.fake.messages],
            SmsFaults(
                invalid_to="+15005550001",
                opted_out_to="+15005550004",
                wrong_credentials=lambda: twilio.adapter(auth_token="0" * 32),
                rate_limit_next=lambda: twilio.fake.fail_next(status=429, retry_after=2),
                fail_next=lambda: twilio.fake.fail_next(status=503),
                impatient_after_delay=twilio_slow,
            ),
        )
    vonage: VonageEnv = request.getfixturevalue("vonage")

    def vonage_slow() -> SmsSender:
        vonage.fake.delay_next(5.0)
        return vonage.adapter(timeout=0.2)

    return SmsHarness(
        vonage.adapter(),
        "accepted",
        lambda: [("+" + sms.to, sms.text) for sms in vonage.fake.messages],
        SmsFaults(
            invalid_to="+447700900006",
            opted_out_to="+447700900007",
            wrong_credentials=lambda: vonage.adapter(api_secret="0" * 16),
            rate_limit_next=lambda: vonage.fake.fail_next(status="1"),
            fail_next=lambda: vonage.fake.fail_next(status="5"),
            impatient_after_delay=vonage_slow,
        ),
    )


def sms(to: str = TO, body: str = BODY, key: str = "v1:1") -> SmsMessage:
    return SmsMessage(to=to, body=body, idempotency_key=key)


def faults_of(harness: SmsHarness) -> SmsFaults:
    if harness.faults is None:
        pytest.skip("the console provider keeps every message and never fails")
    return harness.faults


def assert_shape(error: DeliveryError, harness: SmsHarness, reason: FailureReason) -> None:
    contract.assert_shape(error, harness, reason, private=PRIVATE)


async def test_send_delivers_the_message_intact(harness: SmsHarness) -> None:
    receipt = await harness.sender.send(sms())

    assert receipt.provider == harness.sender.name
    assert receipt.message_id
    assert receipt.status == harness.first_status
    assert harness.delivered() == [(TO, BODY)]


async def test_each_send_gets_its_own_message_id(harness: SmsHarness) -> None:
    first = await harness.sender.send(sms(body="code 111111", key="a"))
    second = await harness.sender.send(sms(body="code 222222", key="b"))

    assert first.message_id != second.message_id
    assert harness.delivered() == [(TO, "code 111111"), (TO, "code 222222")]


async def test_invalid_recipient_is_final_and_nothing_is_sent(harness: SmsHarness) -> None:
    faults = faults_of(harness)

    with pytest.raises(InvalidRecipient) as caught:
        await harness.sender.send(sms(to=faults.invalid_to))

    assert_shape(caught.value, harness, FailureReason.INVALID_RECIPIENT)
    assert_agent_safe(caught.value, faults.invalid_to)
    assert not caught.value.retryable
    assert harness.delivered() == []


async def test_opted_out_recipient_is_final_and_points_to_email(harness: SmsHarness) -> None:
    faults = faults_of(harness)

    with pytest.raises(OptedOut) as caught:
        await harness.sender.send(sms(to=faults.opted_out_to))

    assert_shape(caught.value, harness, FailureReason.OPTED_OUT)
    assert not caught.value.retryable
    assert "email" in caught.value.message
    assert harness.delivered() == []


async def test_wrong_credentials_are_an_auth_error(harness: SmsHarness) -> None:
    await contract.check_wrong_credentials_are_an_auth_error(harness, sms(), private=PRIVATE)


async def test_rate_limit_is_retryable_after_a_wait(harness: SmsHarness) -> None:
    faults = faults_of(harness)
    faults.rate_limit_next()

    with pytest.raises(RateLimited) as caught:
        await harness.sender.send(sms())

    assert_shape(caught.value, harness, FailureReason.RATE_LIMITED)
    assert caught.value.retryable
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert not caught.value.outcome_unknown
    assert harness.delivered() == []
    # The limit passes: the same message goes through on the next try.
    await harness.sender.send(sms())
    assert harness.delivered() == [(TO, BODY)]


async def test_transient_failure_is_retryable(harness: SmsHarness) -> None:
    await contract.check_transient_failure_is_retryable(harness, sms(), private=PRIVATE)


async def test_timeout_is_transient_and_prompt(harness: SmsHarness) -> None:
    await contract.check_timeout_is_transient_and_prompt(harness, sms(), private=PRIVATE)


async def test_every_vendor_adapter_checks_credentials_without_sending(
    harness: SmsHarness,
) -> None:
    await contract.check_credentials_without_sending(harness)


async def test_check_credentials_rejects_wrong_ones(harness: SmsHarness) -> None:
    await contract.check_credentials_rejects_wrong_ones(harness)
