"""SendGridEmail against FakeSendGrid over real HTTP: request shape, 202 receipt, errors, events."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from starlette.requests import Request

from providers.email import EmailMessage
from providers.email.sendgrid import parse_sendgrid_events
from providers.errors import (
    FailureReason,
    InvalidRecipient,
    PermanentDeliveryError,
    ProviderAuthError,
    RateLimited,
    TransientDeliveryError,
)
from providers.reports import REFERENCE_KEY, DeliveryState, DeliveryStatus
from tests.providers.support import (
    EMAIL_SENDER,
    SendGridEnv,
    assert_agent_safe,
    status_receiver,
)

TO = "jane@acme.example"
CODE = "482913"
TEXT = f"Your PIN Verify code is {CODE}."
HTML = f"<p>Your PIN Verify code is <b>{CODE}</b>.</p>"

pytestmark = pytest.mark.asyncio(loop_scope="module")


def mail(to: str = TO, **overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": to,
        "subject": "Your code",
        "text_body": TEXT,
        "idempotency_key": "verification-1:1",
    }
    return EmailMessage(**(fields | overrides))


async def test_posts_the_documented_json_and_keeps_x_message_id(sendgrid: SendGridEnv) -> None:
    receipt = await sendgrid.adapter(sender_name="MSP Helpdesk").send(mail(html_body=HTML))

    [request] = sendgrid.fake.requests
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.authorization == f"Bearer {sendgrid.fake.api_key}"
    assert request.json == {
        "personalizations": [{"to": [{"email": TO}]}],
        "from": {"email": EMAIL_SENDER, "name": "MSP Helpdesk"},
        "subject": "Your code",
        "content": [
            {"type": "text/plain", "value": TEXT},
            {"type": "text/html", "value": HTML},
        ],
        "custom_args": {REFERENCE_KEY: "verification-1:1"},
        "tracking_settings": {
            "click_tracking": {"enable": False, "enable_text": False},
            "open_tracking": {"enable": False},
            "subscription_tracking": {"enable": False},
        },
    }
    [sent] = sendgrid.fake.messages
    assert receipt.message_id == sent.message_id
    assert (receipt.provider, receipt.status) == ("sendgrid", "queued")
    assert (sent.text, sent.html) == (TEXT, HTML)


async def test_text_only_without_html_and_no_name_without_one(sendgrid: SendGridEnv) -> None:
    await sendgrid.adapter().send(mail())

    payload = sendgrid.fake.requests[0].json
    assert payload["content"] == [{"type": "text/plain", "value": TEXT}]
    assert payload["from"] == {"email": EMAIL_SENDER}


async def test_invalid_address_is_an_invalid_recipient(sendgrid: SendGridEnv) -> None:
    to = "jane@@acme"
    with pytest.raises(InvalidRecipient) as caught:
        await sendgrid.adapter().send(mail(to=to))

    error = caught.value
    assert (error.reason, error.vendor_code) == (FailureReason.INVALID_RECIPIENT, "HTTP 400")
    assert not error.retryable
    assert_agent_safe(error, to, TEXT, CODE)
    assert sendgrid.fake.messages == []


async def test_unverified_sender_is_a_config_error_naming_email_from(
    sendgrid: SendGridEnv,
) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        await sendgrid.adapter(sender="someone@elsewhere.example").send(mail())

    assert caught.value.vendor_code == "HTTP 403"
    assert "EMAIL_FROM" in caught.value.message


async def test_wrong_key_is_an_auth_error(sendgrid: SendGridEnv) -> None:
    wrong = "SG.not-the-key"
    with pytest.raises(ProviderAuthError) as caught:
        await sendgrid.adapter(api_key=wrong).send(mail())

    error = caught.value
    assert error.vendor_code == "HTTP 401"
    assert "SENDGRID_API_KEY" in error.message
    assert_agent_safe(error, wrong, sendgrid.fake.api_key, TO, CODE)


async def test_key_without_mail_send_is_an_auth_error_on_send(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.keys["SG.read-only"] = ("scopes.read",)

    with pytest.raises(ProviderAuthError) as caught:
        await sendgrid.adapter(api_key="SG.read-only").send(mail())

    assert caught.value.vendor_code == "HTTP 403"
    assert "Mail Send" in caught.value.message


async def test_429_honours_retry_after(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.fail_next(status=429, retry_after=7)

    with pytest.raises(RateLimited) as caught:
        await sendgrid.adapter().send(mail())

    assert caught.value.retry_after == 7.0
    assert caught.value.retryable


async def test_429_falls_back_to_x_ratelimit_reset(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.fail_next(status=429, rate_limit_reset_in=30)

    with pytest.raises(RateLimited) as caught:
        await sendgrid.adapter().send(mail())

    assert caught.value.retry_after is not None
    assert 28 <= caught.value.retry_after <= 30


async def test_413_is_permanent(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.fail_next(status=413)

    with pytest.raises(PermanentDeliveryError) as caught:
        await sendgrid.adapter().send(mail())

    assert "too large" in caught.value.message


async def test_5xx_is_transient_and_outcome_unknown(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.fail_next(status=503)

    with pytest.raises(TransientDeliveryError) as caught:
        await sendgrid.adapter().send(mail())

    assert "unknown whether the email went out" in caught.value.message


async def test_timeout_is_transient_and_unknown(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.delay_next(5.0)

    started = time.monotonic()
    with pytest.raises(TransientDeliveryError) as caught:
        await sendgrid.adapter(timeout=0.1).send(mail())

    assert time.monotonic() - started < 2.0
    assert "unknown whether the email went out" in caught.value.message


async def test_subject_with_a_line_break_is_refused_before_sending(sendgrid: SendGridEnv) -> None:
    with pytest.raises(PermanentDeliveryError):
        await sendgrid.adapter().send(mail(subject="Code\r\nBcc: evil@example.com"))

    assert sendgrid.fake.requests == []


async def test_check_credentials_reads_scopes(sendgrid: SendGridEnv) -> None:
    await sendgrid.adapter().check_credentials()

    [request] = sendgrid.fake.requests
    assert (request.method, request.path) == ("GET", "/v3/scopes")
    assert sendgrid.fake.messages == []


async def test_check_credentials_rejects_a_key_without_mail_send(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.keys["SG.read-only"] = ("scopes.read",)

    with pytest.raises(ProviderAuthError) as caught:
        await sendgrid.adapter(api_key="SG.read-only").check_credentials()

    assert "Mail Send" in caught.value.message


async def test_check_credentials_rejects_an_unknown_key(sendgrid: SendGridEnv) -> None:
    with pytest.raises(ProviderAuthError):
        await sendgrid.adapter(api_key="SG.unknown").check_credentials()


async def test_the_key_never_reaches_the_logs(
    sendgrid: SendGridEnv, caplog: pytest.LogCaptureFixture, library_logs: None
) -> None:
    caplog.set_level(logging.DEBUG)
    await sendgrid.adapter().send(mail())
    await sendgrid.adapter().check_credentials()

    assert caplog.records
    assert sendgrid.fake.api_key not in caplog.text
    assert CODE not in caplog.text


@pytest_asyncio.fixture(loop_scope="module")
async def events_app() -> AsyncIterator[tuple[str, list[DeliveryStatus]]]:
    async def parse(request: Request) -> list[DeliveryStatus]:
        return parse_sendgrid_events(json.loads(await request.body()))

    async with status_receiver("/events", parse) as receiver:
        yield receiver


async def test_fake_events_match_the_send_by_message_id_and_reference(
    sendgrid: SendGridEnv, events_app: tuple[str, list[DeliveryStatus]]
) -> None:
    url, parsed = events_app
    receipt = await sendgrid.adapter().send(mail())
    [sent] = sendgrid.fake.messages

    response = await sendgrid.fake.post_events(
        url,
        [
            sendgrid.fake.event_for(sent, "processed"),
            sendgrid.fake.event_for(sent, "open"),
            sendgrid.fake.event_for(sent, "bounce", type="bounce", reason="550 unknown user"),
        ],
    )

    assert response.status_code == 204
    assert [(s.message_id, s.reference, s.state) for s in parsed] == [
        (receipt.message_id, "verification-1:1", DeliveryState.QUEUED),
        (receipt.message_id, "verification-1:1", DeliveryState.UNDELIVERED),
    ]
    assert parsed[1].reason == "550 unknown user"


async def test_other_validation_errors_are_permanent_and_name_the_field(
    sendgrid: SendGridEnv,
) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        await sendgrid.adapter().send(mail(text_body=""))

    assert type(caught.value) is PermanentDeliveryError
    assert caught.value.vendor_code == "HTTP 400"
    assert "content.0.value" in caught.value.message


async def test_check_credentials_during_an_outage_is_transient(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.fail_next(status=503)

    with pytest.raises(TransientDeliveryError) as caught:
        await sendgrid.adapter().check_credentials()

    assert "try the check again" in caught.value.message
    assert not caught.value.outcome_unknown


async def test_used_up_credits_are_permanent_not_an_auth_error(sendgrid: SendGridEnv) -> None:
    sendgrid.fake.credits_exhausted = True

    with pytest.raises(PermanentDeliveryError) as caught:
        await sendgrid.adapter().send(mail())

    assert type(caught.value) is PermanentDeliveryError
    assert "credits" in caught.value.message
    assert "SENDGRID_API_KEY" not in caught.value.message
