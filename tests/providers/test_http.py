"""The status ladder every HTTP vendor shares: refused credentials, rate limits and outages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from providers.errors import ProviderAuthError, RateLimited, TransientDeliveryError
from providers.http import HttpVendor

VENDOR = HttpVendor(provider="acme", label="Acme", url_setting="ACME_API_URL", item="SMS")


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def ladder(response: httpx.Response, *, sending: bool = True, **options: Any) -> object:
    return VENDOR.status_error(
        response,
        sending=sending,
        answer=f"HTTP {response.status_code}",
        vendor_code="v1",
        refused_credentials="Acme refused the key: check ACME_KEY.",
        **options,
    )


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_an_auth_error_in_the_vendors_words(status: int) -> None:
    error = ladder(answer(status))

    assert isinstance(error, ProviderAuthError)
    assert error.message == "Acme refused the key: check ACME_KEY."
    assert error.provider == "acme" and error.vendor_code == "v1"


def test_a_vendor_may_keep_403_for_itself_or_say_refused_with_its_own_code() -> None:
    assert ladder(answer(403), auth_statuses=(401,)) is None
    assert isinstance(ladder(answer(400), says_refused=True), ProviderAuthError)


def test_a_rate_limit_carries_retry_after_and_says_nothing_was_sent() -> None:
    error = ladder(answer(429, **{"Retry-After": "7"}))

    assert isinstance(error, RateLimited)
    assert error.retry_after == 7
    assert error.message == (
        "Acme is rate limiting this account (HTTP 429); the SMS was not sent. "
        "Try again in a moment."
    )
    assert isinstance(ladder(answer(400), says_rate_limited=True), RateLimited)


def test_an_outage_may_have_sent_the_message_but_a_failed_check_sent_nothing() -> None:
    during_send = ladder(answer(503))
    during_check = ladder(answer(503), sending=False)

    assert isinstance(during_send, TransientDeliveryError) and during_send.outcome_unknown
    assert during_send.message.startswith("Acme had a server error (HTTP 503); it is unknown")
    assert isinstance(during_check, TransientDeliveryError)
    assert not during_check.outcome_unknown
    assert during_check.message.endswith("try the check again in a moment.")


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_other_answers_are_left_to_the_adapter(status: int) -> None:
    assert ladder(answer(status)) is None
