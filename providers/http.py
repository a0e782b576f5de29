"""What the HTTP adapters share when a vendor fails: the wire failing, a 5xx, an acceptance that
cannot be read, an optional JSON error body, and how long to back off."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn

import httpx

from providers.errors import (
    PermanentDeliveryError,
    ProviderAuthError,
    TransientDeliveryError,
)

HttpFailure = httpx.HTTPError | httpx.InvalidURL


@dataclass(frozen=True)
class HttpVendor:
    """An HTTP delivery vendor as its errors name it to the agent who clicked Send."""

    provider: str  # registry key, e.g. "vonage"
    label: str  # for people, e.g. "Vonage"
    url_setting: str  # the env var holding its API URL
    item: str  # what it sends: "SMS" or "email"

    def raise_transport_error(self, exc: HttpFailure, *, sending: bool) -> NoReturn:
        """Translate a failed request into our taxonomy, saying whether the item may have
        gone out."""
        provider, label, item = self.provider, self.label, self.item
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            raise ProviderAuthError(
                f"The {label} API URL is not usable: check {self.url_setting}.", provider=provider
            ) from exc
        # Nothing reached the vendor when the connection could not even be opened.
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            outcome = f"the {item} was not sent" if sending else "nothing was checked"
            raise TransientDeliveryError(
                f"Could not reach {label}; {outcome}. Try again in a moment.", provider=provider
            ) from exc
        if not sending:
            raise TransientDeliveryError(
                f"{label} did not answer the credentials check; try again in a moment.",
                provider=provider,
            ) from exc
        what = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "dropped"
        raise TransientDeliveryError(
            f"{label} {what}; it is unknown whether the {item} went out — ask the caller before "
            "resending.",
            provider=provider,
            outcome_unknown=True,
        ) from exc

    def server_error(
        self, response: httpx.Response, *, summary: str, sending: bool, vendor_code: str | None
    ) -> TransientDeliveryError:
        """A 5xx: `summary` says what the vendor had ("Twilio had an internal error (error
        20500)"); a send that met one may have gone out all the same."""
        outcome = (
            f"it is unknown whether the {self.item} went out — ask the caller before resending"
            if sending
            else "try the check again in a moment"
        )
        return TransientDeliveryError(
            f"{summary}; {outcome}.",
            provider=self.provider,
            vendor_code=vendor_code,
            retry_after=retry_after(response),
            outcome_unknown=sending,
        )

    def unreadable_acceptance(self) -> PermanentDeliveryError:
        """The vendor said yes but its reply cannot be read: the item has probably gone out."""
        return PermanentDeliveryError(
            f"{self.label} accepted the {self.item} but its reply could not be read; it has "
            "probably been sent — ask the caller before resending.",
            provider=self.provider,
            outcome_unknown=True,
        )


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait, from `Retry-After` (seconds or an HTTP date) or, failing that,
    `X-RateLimit-Reset` (a Unix time, as SendGrid sends)."""
    value = response.headers.get("Retry-After")
    seconds: float | None = None
    if value is not None:
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds is None:
        reset = response.headers.get("X-RateLimit-Reset")
        try:
            seconds = float(reset) - time.time() if reset is not None else None
        except ValueError:
            seconds = None
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def json_object_or_empty(response: httpx.Response) -> dict[str, Any]:
    """An error answer's JSON object, or {} when there is none: proxies and outages answer
    with HTML or nothing, so a vendor's error body is always optional."""
    try:
        payload: Any = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
