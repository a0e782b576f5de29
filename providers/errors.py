"""Our delivery error taxonomy: adapters translate vendor failures into these (`raise ... from`)."""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    INVALID_RECIPIENT = "invalid_recipient"
    OPTED_OUT = "opted_out"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class DeliveryError(Exception):
    """A message was not accepted by the provider.

    `message` is written for the agent who clicked Send: it names the provider, says what went
    wrong in plain words and never contains the code or an unmasked destination.
    """

    reason: FailureReason = FailureReason.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        vendor_code: str | None = None,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.vendor_code = vendor_code
        self.retry_after = retry_after
        # The request may have reached the provider before it failed (a timeout after it was
        # sent, a 5xx, a dropped connection, an unreadable acceptance): the caller may get
        # this message, and a resend may deliver a second copy of the same code.
        self.outcome_unknown = outcome_unknown

    @property
    def retryable(self) -> bool:
        return self.reason in (FailureReason.TRANSIENT, FailureReason.RATE_LIMITED)


class InvalidRecipient(DeliveryError):
    reason = FailureReason.INVALID_RECIPIENT


class OptedOut(DeliveryError):
    reason = FailureReason.OPTED_OUT


class ProviderAuthError(DeliveryError):
    reason = FailureReason.AUTH


class RateLimited(DeliveryError):
    reason = FailureReason.RATE_LIMITED


class TransientDeliveryError(DeliveryError):
    """Timeouts, 5xx, dropped connections: the message may or may not have gone out."""

    reason = FailureReason.TRANSIENT


class PermanentDeliveryError(DeliveryError):
    reason = FailureReason.PERMANENT
