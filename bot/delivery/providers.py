"""Getting one code to the caller: the workspace's provider, retries, and what the agent reads.

A retry resends the very same message (same code, same send row, same idempotency key): the
caller may, at worst, get one code twice, never two different codes for one click. Retries are
few and quick because the caller is waiting on the phone, with full jitter so a provider's
hiccup is not met by every agent at the same instant.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.delivery.channels import Channel
from bot.errors import RefusalCode, VerificationRefused
from bot.vendor_catalog import VendorKind, vendor_label, vendors_of
from providers.email import EmailSender
from providers.errors import DeliveryError, FailureReason
from providers.sms import SmsSender

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

# A provider's first answer, in the vocabulary of providers.reports.DeliveryState.
_RECEIPT_STATES = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "unconfirmed": "unconfirmed",
}


def receipt_status(status: str) -> str:
    return _RECEIPT_STATES.get(status.lower(), "queued")


def provider_label(name: str) -> str:
    """What people call the SMS or email provider `name` (from bot.vendor_catalog)."""
    return vendor_label(name)


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries; no new try starts once `deadline_seconds` have passed."""

    attempts: int = 3
    base_seconds: float = 0.5
    max_delay_seconds: float = 2.0
    deadline_seconds: float = 12.0

    def delay(self, retry: int, rng: random.Random, retry_after: float | None) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**(retry-1))), at least Retry-After."""
        ceiling = min(self.max_delay_seconds, self.base_seconds * 2 ** (retry - 1))
        return max(rng.uniform(0, ceiling), retry_after or 0.0)


@dataclass
class Attempts(Generic[T]):
    """How a send went: the receipt, or the last error; and every try on the way."""

    result: T | None = None
    error: DeliveryError | None = None
    errors: list[DeliveryError] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.errors) + (1 if self.result is not None else 0)

    @property
    def maybe_sent(self) -> bool:
        """Did any failed try possibly reach the caller (a timeout after the request left)?"""
        return any(might_have_sent(error) for error in self.errors)


def might_have_sent(error: DeliveryError) -> bool:
    """The adapter's word on whether the failed request may still have reached the caller
    (a timeout after it left, a 5xx, an acceptance it could not read)."""
    return error.outcome_unknown


class SendRetrier:
    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()

    async def run(self, attempt: Callable[[], Awaitable[T]]) -> Attempts[T]:
        outcome: Attempts[T] = Attempts()
        started = self._monotonic()
        for number in range(1, self.policy.attempts + 1):
            try:
                outcome.result = await attempt()
            except DeliveryError as exc:
                outcome.errors.append(exc)
                outcome.error = exc
            else:
                outcome.error = None
                return outcome
            if not outcome.error.retryable or number == self.policy.attempts:
                return outcome
            delay = self.policy.delay(number, self._rng, outcome.error.retry_after)
            if self._monotonic() - started + delay > self.policy.deadline_seconds:
                return outcome  # e.g. a Retry-After longer than a caller will wait
            outcome.delays.append(delay)
            await self._sleep(delay)
        return outcome


@dataclass(frozen=True)
class Providers:
    """Every configured provider by name; the workspace's policy picks one per channel."""

    sms: Mapping[str, SmsSender]
    email: Mapping[str, EmailSender]

    def sms_sender(self, name: str) -> SmsSender:
        sender = self.sms.get(name)
        if sender is None:
            raise _not_configured(VendorKind.SMS, name)
        return sender

    def email_sender(self, name: str) -> EmailSender:
        sender = self.email.get(name)
        if sender is None:
            raise _not_configured(VendorKind.EMAIL, name)
        return sender

    def name_for(self, channel: Channel, *, sms: str, email: str) -> str:
        """The provider this workspace sends `channel` with, refused when it is not set up."""
        if channel is Channel.SMS:
            self.sms_sender(sms)
            return sms
        self.email_sender(email)
        return email


def _not_configured(kind: VendorKind, name: str) -> VerificationRefused:
    needs = _settings_needed(kind, name)
    item = "SMS" if kind is VendorKind.SMS else "email"
    return VerificationRefused(
        f"This workspace sends {item} with {provider_label(name)}, but {provider_label(name)} "
        f"is not configured on this server (it needs {needs}). Nothing was sent; ask an "
        "admin to fix the provider settings.",
        code=RefusalCode.PROVIDER_NOT_CONFIGURED,
    )


def _settings_needed(kind: VendorKind, name: str) -> str:
    """The environment variables `name` needs, from the catalog Settings checks them with."""
    vendor = vendors_of(kind).get(name)
    if vendor is None:
        return "its settings"
    if not vendor.settings:
        return "SMS_PROVIDER=console / EMAIL_PROVIDER=console (development only)"
    names = [setting.upper() for setting in vendor.settings]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def failure_text(error: DeliveryError, *, channel: str, masked_destination: str) -> str:
    """What the card says about a failed send: provider, destination (masked), what to do."""
    label = provider_label(error.provider)
    if error.reason is FailureReason.OPTED_OUT and channel == Channel.SMS:
        return f"{label}: the number {masked_destination} has opted out of SMS — try email."
    if error.reason is FailureReason.OPTED_OUT:
        return (
            f"{label}: the address {masked_destination} is suppressed (bounced or "
            "unsubscribed) — try SMS."
        )
    return error.message
