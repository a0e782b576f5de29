"""Send retries (bounded, jittered, same message) and the SMS destination rules."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot.delivery.phones import sms_refusal
from bot.delivery.providers import RetryPolicy, SendRetrier, failure_text, might_have_sent
from providers.errors import DeliveryError, OptedOut, RateLimited, TransientDeliveryError


class Script:
    """An attempt function that fails with each scripted error in turn, then succeeds."""

    def __init__(self, *errors: DeliveryError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "receipt"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def retrier(time: FakeTime, **policy: Any) -> SendRetrier:
    return SendRetrier(
        policy=RetryPolicy(**policy),
        sleep=time.sleep,
        monotonic=time.monotonic,
        rng=random.Random(7),
    )


def transient() -> TransientDeliveryError:
    return TransientDeliveryError("Twilio had an internal error", provider="twilio")


async def test_transient_failures_are_retried_with_full_jitter_until_success() -> None:
    time = FakeTime()
    attempt = Script(transient(), transient())
    outcome = await retrier(time, attempts=3, base_seconds=0.5, max_delay_seconds=2.0).run(attempt)
    assert outcome.result == "receipt" and outcome.error is None
    assert attempt.calls == 3 and outcome.count == 3
    # Full jitter: each wait is somewhere in [0, min(cap, base * 2**(n-1))].
    assert len(time.sleeps) == 2
    assert 0 <= time.sleeps[0] <= 0.5 and 0 <= time.sleeps[1] <= 1.0
    assert time.sleeps[0] != time.sleeps[1]


async def test_permanent_failures_stop_at_once() -> None:
    time = FakeTime()
    attempt = Script(OptedOut("opted out", provider="twilio", vendor_code="21610"))
    outcome = await retrier(time).run(attempt)
    assert attempt.calls == 1 and time.sleeps == []
    assert isinstance(outcome.error, OptedOut) and not outcome.maybe_sent


async def test_attempts_are_bounded_and_the_last_error_is_kept() -> None:
    time = FakeTime()
    attempt = Script(*(transient() for _ in range(5)))
    outcome = await retrier(time, attempts=3).run(attempt)
    assert attempt.calls == 3 and len(time.sleeps) == 2
    assert outcome.result is None and outcome.error is outcome.errors[-1]


async def test_retry_after_is_honoured_but_never_past_the_deadline() -> None:
    time = FakeTime()
    limited = RateLimited("slow down", provider="twilio", retry_after=1.5)
    outcome = await retrier(time, deadline_seconds=5.0).run(Script(limited))
    assert outcome.result == "receipt" and time.sleeps[0] >= 1.5
    time = FakeTime()
    # A caller on the phone will not wait a minute: give up and say so.
    too_long = RateLimited("slow down", provider="twilio", retry_after=60)
    attempt = Script(too_long)
    outcome = await retrier(time, deadline_seconds=5.0).run(attempt)
    assert attempt.calls == 1 and time.sleeps == [] and outcome.error is too_long


async def test_a_failure_that_may_have_reached_the_caller_makes_the_send_maybe_sent() -> None:
    time = FakeTime()
    refused = TransientDeliveryError("Could not reach Twilio", provider="twilio")
    outcome = await retrier(time, attempts=2).run(Script(refused, refused))
    assert outcome.result is None and not outcome.maybe_sent
    lost = TransientDeliveryError("Twilio did not answer", provider="twilio", outcome_unknown=True)
    # A lost answer early on still counts, even when a later try is refused outright.
    outcome = await retrier(time, attempts=2).run(Script(lost, refused))
    assert outcome.result is None and outcome.maybe_sent
    assert might_have_sent(lost) and not might_have_sent(refused)


def test_opted_out_names_the_provider_and_the_masked_number() -> None:
    error = OptedOut("The number has opted out", provider="twilio", vendor_code="21610")
    text = failure_text(error, channel="sms", masked_destination="+1 ••• ••• 4567")
    assert text == "Twilio: the number +1 ••• ••• 4567 has opted out of SMS — try email."


@pytest.mark.parametrize(
    ("number", "allowed", "expected"),
    [
        ("+15135557611", ("US",), None),
        ("+442079460018", ("US", "GB"), "is a landline and cannot receive SMS"),
        ("+15005550001", ("US",), "personal (forwarding) number"),
        ("+33612345678", ("US",), "SMS to FR numbers (+33 ••• ••• 5678) is not allowed"),
        ("+33612345678", ("US", "FR"), None),
        ("+447700900123", ("GB",), "is not a valid phone number"),
    ],
)
def test_sms_goes_only_to_valid_mobile_numbers_in_allowed_countries(
    number: str, allowed: tuple[str, ...], expected: str | None
) -> None:
    refusal = sms_refusal(number, default_region="US", allowed_regions=allowed)
    if expected is None:
        assert refusal is None
    else:
        assert refusal is not None and expected in refusal
        assert number[4:] not in refusal  # the number is masked in what the agent reads
