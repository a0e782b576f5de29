"""The half of the delivery contract SMS and email adapters share word for word.

`test_sms_contract` and `test_email_contract` run these checks on each of their harnesses,
passing one of their own messages and the values no error may show (`private`); what is
particular to a channel (opt-outs, HTML parts, SMTP's rate limits) stays in those modules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import pytest

from providers.errors import (
    DeliveryError,
    FailureReason,
    ProviderAuthError,
    TransientDeliveryError,
)
from tests.providers.support import CredentialsCheck, assert_agent_safe

MessageT = TypeVar("MessageT", contravariant=True)
M = TypeVar("M")


class Sender(Protocol[MessageT]):
    @property
    def name(self) -> str: ...

    async def send(self, message: MessageT, /) -> object: ...


class Faults(Protocol[MessageT]):
    """How a harness makes its vendor fail (see SmsFaults and EmailFaults)."""

    @property
    def wrong_credentials(self) -> Callable[[], Sender[MessageT]]: ...

    @property
    def fail_next(self) -> Callable[[], None]: ...

    @property
    def impatient_after_delay(self) -> Callable[[], Sender[MessageT]]: ...


class Harness(Protocol[MessageT]):
    @property
    def sender(self) -> Sender[MessageT]: ...

    @property
    def delivered(self) -> Callable[[], Sequence[object]]: ...

    @property
    def faults(self) -> Faults[MessageT] | None: ...


def faults_of(harness: Harness[M]) -> Faults[M]:
    if harness.faults is None:
        pytest.skip("the console provider keeps every message and never fails")
    return harness.faults


def assert_shape(
    error: DeliveryError, harness: Harness[M], reason: FailureReason, *, private: Sequence[str]
) -> None:
    assert error.reason is reason
    assert error.provider == harness.sender.name
    assert error.message
    # The flag the retrier reads and the words the agent reads say the same thing.
    assert error.outcome_unknown == ("unknown whether" in error.message)
    assert_agent_safe(error, *private)


async def check_wrong_credentials_are_an_auth_error(
    harness: Harness[M], message: M, *, private: Sequence[str]
) -> None:
    faults = faults_of(harness)

    with pytest.raises(ProviderAuthError) as caught:
        await faults.wrong_credentials().send(message)

    assert_shape(caught.value, harness, FailureReason.AUTH, private=private)
    assert not caught.value.retryable
    assert list(harness.delivered()) == []


async def check_transient_failure_is_retryable(
    harness: Harness[M], message: M, *, private: Sequence[str]
) -> None:
    faults = faults_of(harness)
    faults.fail_next()

    with pytest.raises(TransientDeliveryError) as caught:
        await harness.sender.send(message)

    assert_shape(caught.value, harness, FailureReason.TRANSIENT, private=private)
    assert caught.value.retryable


async def check_timeout_is_transient_and_prompt(
    harness: Harness[M], message: M, *, private: Sequence[str]
) -> None:
    faults = faults_of(harness)
    impatient = faults.impatient_after_delay()

    started = time.monotonic()
    with pytest.raises(TransientDeliveryError) as caught:
        await impatient.send(message)

    assert time.monotonic() - started < 2.0
    assert_shape(caught.value, harness, FailureReason.TRANSIENT, private=private)
    assert caught.value.outcome_unknown


async def check_credentials_without_sending(harness: Harness[M]) -> None:
    if harness.faults is None:
        # The console provider has nothing to check: `providers check` reports it as such.
        assert not isinstance(harness.sender, CredentialsCheck)
        return
    assert isinstance(harness.sender, CredentialsCheck)

    await harness.sender.check_credentials()

    assert list(harness.delivered()) == []


async def check_credentials_rejects_wrong_ones(harness: Harness[M]) -> None:
    faults = faults_of(harness)
    wrong = faults.wrong_credentials()
    assert isinstance(wrong, CredentialsCheck)

    with pytest.raises(ProviderAuthError) as caught:
        await wrong.check_credentials()

    assert caught.value.provider == harness.sender.name
