"""VonageSms against FakeVonage over real HTTP: request shape, statuses under HTTP 200, receipts."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import pytest_asyncio
from starlette.requests import Request

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
from providers.reports import DeliveryState, DeliveryStatus
from providers.sms import SmsMessage
from providers.sms.vonage import parse_vonage_receipt
from tests.providers.support import VONAGE_FROM, VonageEnv, assert_agent_safe, status_receiver

TO = "+447700900123"
CODE = "482913"
BODY = f"Your PIN Verify code is {CODE}."

pytestmark = pytest.mark.asyncio(loop_scope="module")


def sms(to: str = TO, body: str = BODY, key: str = "verification-1:1") -> SmsMessage:
    return SmsMessage(to=to, body=body, idempotency_key=key)


async def test_posts_the_documented_form(vonage: VonageEnv) -> None:
    callback = "https://pinverify.example/webhooks/vonage/receipt"

    receipt = await vonage.adapter(status_callback_url=callback).send(sms())

    [request] = vonage.fake.requests
    assert (request.method, request.path, request.authenticated) == ("POST", "/sms/json", True)
    assert request.form == {
        "api_key": vonage.fake.api_key,
        "api_secret": vonage.fake.api_secret,
        "from": VONAGE_FROM,
        "to": "447700900123",
        "text": BODY,
        "client-ref": "verification-1:1",
        "callback": callback,
    }
    [sent] = vonage.fake.messages
    assert receipt.message_id == sent.message_ids[0]
    assert (receipt.provider, receipt.status) == ("vonage", "accepted")


async def test_a_numeric_sender_loses_its_plus_and_callback_is_optional(
    vonage: VonageEnv,
) -> None:
    await vonage.adapter(from_="+447700900000").send(sms())

    form = vonage.fake.requests[0].form
    assert form["from"] == "447700900000"
    assert "callback" not in form
    assert "type" not in form


async def test_text_outside_gsm7_is_sent_as_unicode(vonage: VonageEnv) -> None:
    body = f"Ваш код {CODE}"

    await vonage.adapter().send(sms(body=body))

    [sent] = vonage.fake.messages
    assert (sent.type, sent.text) == ("unicode", body)


async def test_gsm7_extension_characters_do_not_need_unicode(vonage: VonageEnv) -> None:
    await vonage.adapter().send(sms(body=f"Code {{{CODE}}} costs 0 €"))

    assert vonage.fake.messages[0].type == "text"


async def test_a_long_message_is_receipted_by_its_first_part(vonage: VonageEnv) -> None:
    receipt = await vonage.adapter().send(sms(body="x" * 200))

    [sent] = vonage.fake.messages
    assert len(sent.message_ids) == 2
    assert receipt.message_id == sent.message_ids[0]


async def test_an_overlong_idempotency_key_is_not_sent_as_client_ref(vonage: VonageEnv) -> None:
    await vonage.adapter().send(sms(key="k" * 101))

    assert "client-ref" not in vonage.fake.requests[0].form


@pytest.mark.parametrize(
    ("to", "error_class", "vendor_code"),
    [
        ("+447700900003", InvalidRecipient, "3"),
        ("+447700900006", InvalidRecipient, "6"),
        ("+447700900007", OptedOut, "7"),
        ("+447700900009", PermanentDeliveryError, "9"),
        ("+12", InvalidRecipient, "3"),
    ],
)
async def test_error_statuses_under_http_200_are_not_retryable(
    vonage: VonageEnv, to: str, error_class: type[DeliveryError], vendor_code: str
) -> None:
    with pytest.raises(error_class) as caught:
        await vonage.adapter().send(sms(to=to))

    error = caught.value
    assert type(error) is error_class
    assert error.vendor_code == vendor_code
    assert f"status {vendor_code}" in error.message
    assert not error.retryable
    assert_agent_safe(error, to, BODY, CODE)
    assert vonage.fake.messages == []


async def test_out_of_credit_tells_the_admin_what_to_do(vonage: VonageEnv) -> None:
    vonage.fake.balance = 0

    with pytest.raises(PermanentDeliveryError) as caught:
        await vonage.adapter().send(sms())

    assert caught.value.vendor_code == "9"
    assert "top it up" in caught.value.message


async def test_bad_credentials_are_status_4_under_http_200(vonage: VonageEnv) -> None:
    wrong = "0" * 16
    with pytest.raises(ProviderAuthError) as caught:
        await vonage.adapter(api_secret=wrong).send(sms())

    error = caught.value
    assert (error.reason, error.vendor_code) == (FailureReason.AUTH, "4")
    assert "VONAGE_API_KEY" in error.message and "VONAGE_API_SECRET" in error.message
    assert_agent_safe(error, TO, BODY, wrong, vonage.fake.api_secret)
    assert vonage.fake.requests[0].authenticated is False


async def test_throttled_is_rate_limited_with_a_wait(vonage: VonageEnv) -> None:
    vonage.fake.fail_next(status="1")

    with pytest.raises(RateLimited) as caught:
        await vonage.adapter().send(sms())

    assert caught.value.vendor_code == "1"
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert caught.value.retryable
    assert vonage.fake.messages == []


async def test_internal_error_status_is_transient_and_not_sent(vonage: VonageEnv) -> None:
    vonage.fake.fail_next(status="5")

    with pytest.raises(TransientDeliveryError) as caught:
        await vonage.adapter().send(sms())

    assert caught.value.vendor_code == "5"
    assert "not sent" in caught.value.message
    assert not caught.value.outcome_unknown


async def test_http_429_is_rate_limited_with_retry_after(vonage: VonageEnv) -> None:
    vonage.fake.fail_http_next(http_status=429, retry_after=3)

    with pytest.raises(RateLimited) as caught:
        await vonage.adapter().send(sms())

    assert caught.value.retry_after == 3.0


async def test_http_5xx_is_transient_and_outcome_unknown(vonage: VonageEnv) -> None:
    vonage.fake.fail_http_next(http_status=502)

    with pytest.raises(TransientDeliveryError) as caught:
        await vonage.adapter().send(sms())

    assert caught.value.vendor_code == "HTTP 502"
    assert "unknown whether the SMS went out" in caught.value.message
    assert caught.value.outcome_unknown


async def test_timeout_is_transient_and_says_the_outcome_is_unknown(vonage: VonageEnv) -> None:
    vonage.fake.delay_next(5.0)

    started = time.monotonic()
    with pytest.raises(TransientDeliveryError) as caught:
        await vonage.adapter(timeout=0.1).send(sms())

    assert time.monotonic() - started < 2.0
    assert "unknown whether the SMS went out" in caught.value.message
    assert len(vonage.fake.messages) == 1


async def test_unreachable_api_is_transient_and_not_sent(
    vonage: VonageEnv, closed_port: int
) -> None:
    with pytest.raises(TransientDeliveryError) as caught:
        await vonage.adapter(api_url=f"http://127.0.0.1:{closed_port}/").send(sms())

    assert "not sent" in caught.value.message


async def test_api_url_without_a_scheme_is_a_config_error(vonage: VonageEnv) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        await vonage.adapter(api_url="rest.nexmo.com/").send(sms())

    assert "VONAGE_API_URL" in caught.value.message


async def test_check_credentials_reads_the_balance_with_basic_auth(vonage: VonageEnv) -> None:
    await vonage.adapter().check_credentials()

    [request] = vonage.fake.requests
    assert (request.method, request.path, request.authenticated) == (
        "GET",
        "/account/get-balance",
        True,
    )
    # The secret never travels in the URL (httpx logs URLs).
    assert request.form == {}
    assert vonage.fake.messages == []


async def test_check_credentials_rejects_a_wrong_secret(vonage: VonageEnv) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        await vonage.adapter(api_secret="nope").check_credentials()

    assert "VONAGE_API_SECRET" in caught.value.message


async def test_check_credentials_reports_an_empty_balance(vonage: VonageEnv) -> None:
    vonage.fake.balance = 0.0

    with pytest.raises(PermanentDeliveryError) as caught:
        await vonage.adapter().check_credentials()

    assert "balance is empty" in caught.value.message


async def test_nothing_secret_reaches_the_logs(
    vonage: VonageEnv, caplog: pytest.LogCaptureFixture, library_logs: None
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = vonage.adapter()
    await adapter.send(sms())
    await adapter.check_credentials()

    credentials = f"{vonage.fake.api_key}:{vonage.fake.api_secret}".encode()
    assert caplog.records
    assert CODE not in caplog.text
    assert vonage.fake.api_secret not in caplog.text
    assert base64.b64encode(credentials).decode() not in caplog.text


@pytest_asyncio.fixture(loop_scope="module")
async def receipts_app() -> AsyncIterator[tuple[str, list[DeliveryStatus | None]]]:
    """A stand-in for the bot's receipt route: parses whatever Vonage sends, any method."""

    async def parse(request: Request) -> list[DeliveryStatus | None]:
        fields: dict[str, Any] = dict(request.query_params)
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            fields |= json.loads(body)
        elif body:
            fields |= dict(parse_qsl(body.decode()))
        return [parse_vonage_receipt(fields)]

    async with status_receiver("/receipts", parse, methods=("GET", "POST")) as receiver:
        yield receiver


@pytest.mark.parametrize("method", ["GET", "POST", "POST-JSON"])
async def test_fake_delivery_receipts_parse_into_statuses(
    vonage: VonageEnv,
    receipts_app: tuple[str, list[DeliveryStatus | None]],
    method: Any,
) -> None:
    url, parsed = receipts_app
    receipt = await vonage.adapter(status_callback_url=url).send(sms())

    response = await vonage.fake.post_delivery_receipt(
        url, message_id=receipt.message_id, status="failed", err_code="2", method=method
    )

    assert response.status_code == 204
    [status] = parsed
    assert status is not None
    assert (status.message_id, status.state, status.error_code, status.reference) == (
        receipt.message_id,
        DeliveryState.UNDELIVERED,
        "2",
        "verification-1:1",
    )
    assert status.reason is not None and "unreachable" in status.reason


async def test_check_credentials_during_an_outage_is_transient(vonage: VonageEnv) -> None:
    vonage.fake.fail_http_next(http_status=503)

    with pytest.raises(TransientDeliveryError) as caught:
        await vonage.adapter().check_credentials()

    assert "try the check again" in caught.value.message
    assert not caught.value.outcome_unknown
