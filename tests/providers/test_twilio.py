"""TwilioSms against FakeTwilio over real HTTP: request shape and error translation."""

from __future__ import annotations

import base64
import logging
import time
from email.utils import formatdate

import pytest

from providers.errors import (
    DeliveryError,
    FailureReason,
    InvalidRecipient,
    OptedOut,
    PermanentDeliveryError,
    ProviderAuthError,
    RateLimited,
    TransientDeliveryError,
)
from providers.sms import SmsMessage
from tests.fakes.twilio import TEST_FROM_NUMBER
from tests.providers.support import TwilioEnv, assert_agent_safe

TO = "+14155550123"
CODE = "482913"
BODY = f"Your PIN Verify code is {CODE}."

pytestmark = pytest.mark.asyncio(loop_scope="module")


def sms(to: str = TO, body: str = BODY) -> SmsMessage:
    return SmsMessage(to=to, body=body, idempotency_key="verification-1:1")


async def test_posts_the_documented_form_with_basic_auth(twilio: TwilioEnv) -> None:
    callback = "https://pinverify.example/providers/twilio/status"
    adapter = twilio.adapter(status_callback_url=callback)

    receipt = await adapter.send(sms())

    [request] = twilio.fake.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{twilio.fake.account_sid}/Messages.json"
    assert request.authenticated
    assert request.form == {
        "To": TO,
        "From": TEST_FROM_NUMBER,
        "Body": BODY,
        "StatusCallback": callback,
    }
    [sent] = twilio.fake.messages
    assert receipt.message_id == sent.sid
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert receipt.status == "queued"


async def test_omits_status_callback_when_not_configured(twilio: TwilioEnv) -> None:
    # Also: an API URL without the trailing slash joins the same way.
    await twilio.adapter(api_url=twilio.url).send(sms())

    assert "StatusCallback" not in twilio.fake.requests[0].form
    assert twilio.fake.messages[0].status_callback is None


@pytest.mark.parametrize(
    ("to", "error_class", "reason", "vendor_code"),
    [
        ("+15005550001", InvalidRecipient, FailureReason.INVALID_RECIPIENT, "21211"),
        ("+15005550009", InvalidRecipient, FailureReason.INVALID_RECIPIENT, "21614"),
        ("+15005550002", InvalidRecipient, FailureReason.INVALID_RECIPIENT, "21612"),
        ("+15005550003", InvalidRecipient, FailureReason.INVALID_RECIPIENT, "21408"),
        ("+15005550004", OptedOut, FailureReason.OPTED_OUT, "21610"),
    ],
)
async def test_recipient_errors_are_not_retryable(
    twilio: TwilioEnv,
    to: str,
    error_class: type[DeliveryError],
    reason: FailureReason,
    vendor_code: str,
) -> None:
    with pytest.raises(error_class) as caught:
        await twilio.adapter().send(sms(to=to))

    error = caught.value
    assert type(error) is error_class
    assert error.reason is reason
    assert error.vendor_code == vendor_code
    assert vendor_code in error.message
    assert error.provider == "twilio"
    assert error.retry_after is None
    assert not error.retryable
    assert_agent_safe(error, to, BODY, CODE)
    assert twilio.fake.messages == []


async def test_opted_out_points_the_agent_to_email(twilio: TwilioEnv) -> None:
    with pytest.raises(OptedOut) as caught:
        await twilio.adapter().send(sms(to="+15005550004"))

    assert caught.value.reason is FailureReason.OPTED_OUT
    assert "email" in caught.value.message


async def test_wrong_token_is_an_auth_error_naming_the_settings(twilio: TwilioEnv) -> None:
    wrong = "0" * 32
    with pytest.raises(ProviderAuthError) as caught:
        await twilio.adapter(auth_token=wrong).send(sms())

    error = caught.value
    assert error.reason is FailureReason.AUTH
    assert error.vendor_code == "20003"
    assert "TWILIO_ACCOUNT_SID" in error.message and "TWILIO_AUTH_TOKEN" in error.message
    assert_agent_safe(error, TO, BODY, wrong, twilio.fake.auth_token)
    assert twilio.fake.requests[0].authenticated is False
    assert twilio.fake.messages == []


async def test_429_is_rate_limited_with_retry_after_and_not_retried(twilio: TwilioEnv) -> None:
    twilio.fake.fail_next(status=429, code=20429, retry_after=3)
    adapter = twilio.adapter()

    with pytest.raises(RateLimited) as caught:
        await adapter.send(sms())

    error = caught.value
    assert error.reason is FailureReason.RATE_LIMITED
    assert error.retry_after == 3.0
    assert error.vendor_code == "20429"
    assert error.retryable
    assert_agent_safe(error, TO, BODY, CODE)
    assert len(twilio.fake.requests) == 1
    # The fault was one-shot: the next send goes through.
    await adapter.send(sms())
    assert len(twilio.fake.messages) == 1


async def test_429_without_retry_after_leaves_it_unset(twilio: TwilioEnv) -> None:
    twilio.fake.fail_next(status=429)

    with pytest.raises(RateLimited) as caught:
        await twilio.adapter().send(sms())

    assert caught.value.retry_after is None


async def test_retry_after_as_an_http_date_becomes_seconds(twilio: TwilioEnv) -> None:
    twilio.fake.fail_next(status=429, retry_after=formatdate(time.time() + 30, usegmt=True))

    with pytest.raises(RateLimited) as caught:
        await twilio.adapter().send(sms())

    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 31


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503), (502, None)])
async def test_server_errors_are_transient_and_not_retried(
    twilio: TwilioEnv, status: int, code: int | None
) -> None:
    twilio.fake.fail_next(status=status, code=code)

    with pytest.raises(TransientDeliveryError) as caught:
        await twilio.adapter().send(sms())

    error = caught.value
    assert error.reason is FailureReason.TRANSIENT
    assert error.vendor_code == (str(code) if code else None)
    assert "unknown whether the SMS went out" in error.message
    assert_agent_safe(error, TO, BODY, CODE)
    assert len(twilio.fake.requests) == 1


async def test_timeout_is_transient_and_says_the_outcome_is_unknown(twilio: TwilioEnv) -> None:
    twilio.fake.delay_next(5.0)

    started = time.monotonic()
    with pytest.raises(TransientDeliveryError) as caught:
        await twilio.adapter(timeout=0.1).send(sms())

    assert time.monotonic() - started < 2.0
    assert "unknown whether the SMS went out" in caught.value.message
    assert_agent_safe(caught.value, TO, BODY, CODE)
    # Twilio had taken it: exactly why a timeout must not be reported as "not sent".
    assert len(twilio.fake.messages) == 1


async def test_unreachable_api_is_transient_and_not_sent(
    twilio: TwilioEnv, closed_port: int
) -> None:
    adapter = twilio.adapter(api_url=f"http://127.0.0.1:{closed_port}/")

    with pytest.raises(TransientDeliveryError) as caught:
        await adapter.send(sms())

    assert "not sent" in caught.value.message
    assert "unknown" not in caught.value.message


async def test_api_url_without_a_scheme_is_a_config_error(twilio: TwilioEnv) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        await twilio.adapter(api_url="api.twilio.com/").send(sms())

    assert "TWILIO_API_URL" in caught.value.message


async def test_sender_not_owned_is_permanent_and_names_the_setting(twilio: TwilioEnv) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        await twilio.adapter(from_number="+15005550111").send(sms())

    error = caught.value
    assert error.reason is FailureReason.PERMANENT
    assert error.vendor_code == "21606"
    assert "TWILIO_FROM_NUMBER" in error.message
    assert_agent_safe(error, TO, BODY, "+15005550111")


async def test_unlisted_error_codes_are_permanent_with_the_code(twilio: TwilioEnv) -> None:
    long_body = "x" * 1601

    with pytest.raises(PermanentDeliveryError) as caught:
        await twilio.adapter().send(sms(body=long_body))

    assert type(caught.value) is PermanentDeliveryError
    assert caught.value.vendor_code == "21617"
    assert "21617" in caught.value.message
    assert_agent_safe(caught.value, TO, long_body)


async def test_check_credentials_accepts_the_right_token(twilio: TwilioEnv) -> None:
    await twilio.adapter().check_credentials()

    [request] = twilio.fake.requests
    assert (request.method, request.path) == (
        "GET",
        f"/2010-04-01/Accounts/{twilio.fake.account_sid}.json",
    )
    assert request.authenticated


async def test_check_credentials_rejects_a_wrong_token(twilio: TwilioEnv) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        await twilio.adapter(auth_token="f" * 32).check_credentials()

    assert caught.value.vendor_code == "20003"


async def test_check_credentials_rejects_another_account_sid(twilio: TwilioEnv) -> None:
    with pytest.raises(ProviderAuthError):
        await twilio.adapter(account_sid="AC" + "0" * 32).check_credentials()


async def test_nothing_secret_reaches_the_logs(
    twilio: TwilioEnv, caplog: pytest.LogCaptureFixture, library_logs: None
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = twilio.adapter()
    await adapter.send(sms())
    with pytest.raises(InvalidRecipient):
        await adapter.send(sms(to="+15005550001"))

    credentials = f"{twilio.fake.account_sid}:{twilio.fake.auth_token}".encode()
    assert caplog.records  # httpx does log each request
    assert CODE not in caplog.text
    assert twilio.fake.auth_token not in caplog.text
    assert base64.b64encode(credentials).decode() not in caplog.text


async def test_check_credentials_during_an_outage_is_transient_and_sends_nothing(
    twilio: TwilioEnv,
) -> None:
    twilio.fake.fail_next(status=503)

    with pytest.raises(TransientDeliveryError) as caught:
        await twilio.adapter().check_credentials()

    assert "try the check again" in caught.value.message
    assert not caught.value.outcome_unknown
