"""PostmarkEmail against FakePostmark over real HTTP: request shape, ErrorCodes, webhooks."""

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
from providers.email.postmark import parse_postmark_webhook
from providers.errors import (
    FailureReason,
    InvalidRecipient,
    OptedOut,
    PermanentDeliveryError,
    ProviderAuthError,
    RateLimited,
    TransientDeliveryError,
)
from providers.reports import REFERENCE_KEY, DeliveryState, DeliveryStatus
from tests.fakes.postmark import TEST_TOKEN
from tests.providers.support import (
    EMAIL_SENDER,
    PostmarkEnv,
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


async def test_posts_the_documented_json_with_the_server_token(postmark: PostmarkEnv) -> None:
    adapter = postmark.adapter(sender_name="MSP Helpdesk, Inc.")

    receipt = await adapter.send(mail(html_body=HTML))

    [request] = postmark.fake.requests
    assert (request.method, request.path) == ("POST", "/email")
    assert request.token == postmark.fake.server_token
    assert request.json == {
        "From": f'"MSP Helpdesk, Inc." <{EMAIL_SENDER}>',
        "To": TO,
        "Subject": "Your code",
        "TextBody": TEXT,
        "HtmlBody": HTML,
        "MessageStream": "outbound",
        "Metadata": {REFERENCE_KEY: "verification-1:1"},
        "TrackOpens": False,
        "TrackLinks": "None",
    }
    [sent] = postmark.fake.messages
    assert receipt.message_id == sent.message_id
    assert (receipt.provider, receipt.status) == ("postmark", "sent")


async def test_text_only_and_a_custom_stream(postmark: PostmarkEnv) -> None:
    await postmark.adapter(message_stream="pin-codes").send(mail())

    payload = postmark.fake.requests[0].json
    assert "HtmlBody" not in payload
    assert payload["MessageStream"] == "pin-codes"
    assert payload["From"] == EMAIL_SENDER


async def test_the_test_token_validates_without_sending(postmark: PostmarkEnv) -> None:
    receipt = await postmark.adapter(server_token=TEST_TOKEN).send(mail())

    assert receipt.message_id
    assert postmark.fake.messages == []


async def test_inactive_recipient_is_opted_out(postmark: PostmarkEnv) -> None:
    to = "inactive@acme.example"
    with pytest.raises(OptedOut) as caught:
        await postmark.adapter().send(mail(to=to))

    error = caught.value
    assert (error.reason, error.vendor_code) == (FailureReason.OPTED_OUT, "406")
    assert "The address is marked inactive at Postmark (bounced or unsubscribed)" in error.message
    assert not error.retryable
    assert_agent_safe(error, to, TEXT, CODE)


async def test_invalid_to_is_an_invalid_recipient(postmark: PostmarkEnv) -> None:
    to = "jane@@acme"
    with pytest.raises(InvalidRecipient) as caught:
        await postmark.adapter().send(mail(to=to))

    assert caught.value.vendor_code == "300"
    assert_agent_safe(caught.value, to, TEXT, CODE)


async def test_sender_without_signature_is_a_config_error(postmark: PostmarkEnv) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        await postmark.adapter(sender="noreply@elsewhere.example").send(mail())

    assert caught.value.vendor_code == "400"
    assert "EMAIL_FROM" in caught.value.message


async def test_pending_account_is_permanent(postmark: PostmarkEnv) -> None:
    postmark.fake.account_pending = True

    with pytest.raises(PermanentDeliveryError) as caught:
        await postmark.adapter().send(mail())

    assert caught.value.vendor_code == "412"
    assert "pending approval" in caught.value.message


async def test_bad_token_is_an_auth_error(postmark: PostmarkEnv) -> None:
    wrong = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(ProviderAuthError) as caught:
        await postmark.adapter(server_token=wrong).send(mail())

    error = caught.value
    assert error.vendor_code == "10"
    assert "POSTMARK_SERVER_TOKEN" in error.message
    assert_agent_safe(error, wrong, postmark.fake.server_token, TO, CODE)


async def test_429_is_rate_limited_with_retry_after(postmark: PostmarkEnv) -> None:
    postmark.fake.fail_next(status=429, retry_after=4)

    with pytest.raises(RateLimited) as caught:
        await postmark.adapter().send(mail())

    assert (caught.value.vendor_code, caught.value.retry_after) == ("429", 4.0)


async def test_5xx_is_transient_and_outcome_unknown(postmark: PostmarkEnv) -> None:
    postmark.fake.fail_next(status=500)

    with pytest.raises(TransientDeliveryError) as caught:
        await postmark.adapter().send(mail())

    assert caught.value.vendor_code == "HTTP 500"
    assert "unknown whether the email went out" in caught.value.message


async def test_timeout_is_transient_and_unknown(postmark: PostmarkEnv) -> None:
    postmark.fake.delay_next(5.0)

    started = time.monotonic()
    with pytest.raises(TransientDeliveryError):
        await postmark.adapter(timeout=0.1).send(mail())

    assert time.monotonic() - started < 2.0
    assert len(postmark.fake.messages) == 1


async def test_subject_with_a_line_break_is_refused_before_sending(postmark: PostmarkEnv) -> None:
    with pytest.raises(PermanentDeliveryError):
        await postmark.adapter().send(mail(subject="Code\nBcc: evil@example.com"))

    assert postmark.fake.requests == []


async def test_check_credentials_fetches_the_server(postmark: PostmarkEnv) -> None:
    await postmark.adapter().check_credentials()

    [request] = postmark.fake.requests
    assert (request.method, request.path) == ("GET", "/server")
    assert postmark.fake.messages == []


async def test_check_credentials_rejects_a_bad_token(postmark: PostmarkEnv) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        await postmark.adapter(server_token="nope").check_credentials()

    assert caught.value.vendor_code == "10"


async def test_the_token_never_reaches_the_logs(
    postmark: PostmarkEnv, caplog: pytest.LogCaptureFixture, library_logs: None
) -> None:
    caplog.set_level(logging.DEBUG)
    await postmark.adapter().send(mail())
    await postmark.adapter().check_credentials()

    assert caplog.records
    assert postmark.fake.server_token not in caplog.text
    assert CODE not in caplog.text


@pytest_asyncio.fixture(loop_scope="module")
async def webhook_app() -> AsyncIterator[tuple[str, list[DeliveryStatus | None]]]:
    async def parse(request: Request) -> list[DeliveryStatus | None]:
        return [parse_postmark_webhook(json.loads(await request.body()))]

    async with status_receiver("/postmark", parse) as receiver:
        yield receiver


async def test_fake_webhooks_parse_into_statuses(
    postmark: PostmarkEnv, webhook_app: tuple[str, list[DeliveryStatus | None]]
) -> None:
    url, parsed = webhook_app
    receipt = await postmark.adapter().send(mail())
    [sent] = postmark.fake.messages

    await postmark.fake.post_webhook(url, postmark.fake.delivery_webhook(sent))
    await postmark.fake.post_webhook(url, postmark.fake.bounce_webhook(sent))

    delivered, bounced = parsed
    assert delivered is not None and bounced is not None
    assert (delivered.message_id, delivered.state, delivered.reference) == (
        receipt.message_id,
        DeliveryState.DELIVERED,
        "verification-1:1",
    )
    assert (bounced.state, bounced.error_code) == (DeliveryState.UNDELIVERED, "HardBounce")
    assert bounced.reason is not None and "inactive" in bounced.reason


async def test_check_credentials_during_an_outage_is_transient(postmark: PostmarkEnv) -> None:
    postmark.fake.fail_next(status=503)

    with pytest.raises(TransientDeliveryError) as caught:
        await postmark.adapter().check_credentials()

    assert "try the check again" in caught.value.message
    assert not caught.value.outcome_unknown
