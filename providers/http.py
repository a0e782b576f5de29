"""What the HTTP adapters share when a vendor fails: the wire failing, the statuses every vendor
means the same by (401/403, 429, 5xx), an acceptance that cannot be read, an optional JSON error
body, and how long to back off."""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn

import httpx

from providers.errors import (
    DeliveryError,
    PermanentDeliveryError,
    ProviderAuthError,
    RateLimited,
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

    def status_error(
        self,
        response: httpx.Response,
        *,
        sending: bool,
        answer: str,
        vendor_code: str | None,
        refused_credentials: str,
        auth_statuses: Collection[int] = (401, 403),
        says_refused: bool = False,
        says_rate_limited: bool = False,
        trouble: str = "a server error",
    ) -> DeliveryError | None:
        """The error a refused credential, a rate limit or a 5xx stands for; None for any other
        answer, which only the adapter can read.

        Adapters look for their vendor's own codes first (a recipient or opt-out code can come
        with any status) and fall back on theirs after. `answer` names the answer in messages
        ("HTTP 429", "error 20429"); `refused_credentials` is the vendor's whole sentence for a
        refused key, since only the adapter knows which settings to name; `says_refused` and
        `says_rate_limited` are the vendor's own codes for the same, whatever the status.
        """
        status = response.status_code
        if says_refused or status in auth_statuses:
            return ProviderAuthError(
                refused_credentials, provider=self.provider, vendor_code=vendor_code
            )
        if says_rate_limited or status == 429:
            return RateLimited(
                f"{self.label} is rate limiting this account ({answer}); the {self.item} was "
                "not sent. Try again in a moment.",
                provider=self.provider,
                vendor_code=vendor_code,
                retry_after=retry_after(response),
            )
        if status >= 500:
            return self._server_error(
                response,
                summary=f"{self.label} had {trouble} ({answer})",
                sending=sending,
                vendor_code=vendor_code,
            )
        return None

    def _server_error(
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
