"""Every email adapter honours the EmailSender port the same way.

One suite, run against the console provider, SMTP (a real aiosmtpd server with STARTTLS and
AUTH) and every HTTP vendor over its fake: a new adapter joins by adding a harness below.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from providers.email import EmailMessage, EmailSender
from providers.email.console import ConsoleEmail
from providers.email.smtp import SmtpEmail
from providers.errors import (
    DeliveryError,
    FailureReason,
    InvalidRecipient,
    RateLimited,
)
from tests.fakes.smtp import FakeSmtpServer, ReceivedMail, running_smtp_server, tls_contexts
from tests.providers import delivery_contract as contract
from tests.providers.support import (
    EMAIL_SENDER,
    InMemorySink,
    PostmarkEnv,
    SendGridEnv,
    assert_agent_safe,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SENDER = EMAIL_SENDER
TO = "jane.doe@acme.example"
SUBJECT = "Votre code de vérification"
CODE = "482913"
TEXT = f"Bonjour Jane,\n\nVotre code est {CODE}. Il expire dans 10 minutes.\n\n— Le support"
HTML = f"<p>Bonjour Jane,</p><p>Votre code est <b>{CODE}</b>.</p>"
SMTP_USER = "pinverify"
SMTP_PASSWORD = "s3cret-smtp-password"
# What no error may show the agent.
PRIVATE = (TO, TEXT, CODE, SMTP_PASSWORD)


@dataclass
class EmailFaults:
    """How to make one vendor fail in each documented way, through its fake."""

    invalid_to: str
    wrong_credentials: Callable[[], EmailSender]
    rate_limit_next: Callable[[], None]
    # SMTP has no rate-limit reply of its own: servers answer 4xx, which is transient.
    rate_limit_reason: FailureReason
    fail_next: Callable[[], None]
    impatient_after_delay: Callable[[], EmailSender]


@dataclass
class EmailHarness:
    sender: EmailSender
    # (to, subject, text body, html body) as the outside world received them.
    delivered: Callable[[], list[tuple[str, str, str, str | None]]]
    faults: EmailFaults | None  # None: the console provider cannot fail


def _as_received(mail: ReceivedMail) -> tuple[str, str, str, str | None]:
    plain = mail.message.get_body(("plain",))
    html = mail.message.get_body(("html",))
    assert plain is not None
    text = plain.get_content()
    assert isinstance(text, str)
    # MIME text parts always end with a line break; the port's bodies need not.
    html_text = html.get_content().removesuffix("\n") if html is not None else None
    return (mail.rcpt_tos[0], str(mail.message["Subject"]), text.removesuffix("\n"), html_text)


@pytest_asyncio.fixture(loop_scope="module")
async def smtp_server() -> AsyncIterator[tuple[FakeSmtpServer, ssl.SSLContext]]:
    """A real SMTP server demanding STARTTLS and AUTH, and a client context trusting it."""
    server_tls, client_tls = tls_contexts()
    async with running_smtp_server(
        username=SMTP_USER, password=SMTP_PASSWORD, tls="starttls", server_tls=server_tls
    ) as server:
        yield server, client_tls


@pytest.fixture(params=["console", "smtp", "sendgrid", "postmark"])
def harness(request: pytest.FixtureRequest) -> EmailHarness:
    # Vendor fixtures are requested only here, so console runs start no server.
    if request.param == "console":
        sink = InMemorySink()
        return EmailHarness(
            ConsoleEmail(sink, logging.getLogger("tests.console_email"), SENDER),
            lambda: [
                (kept.recipient, kept.subject or "", kept.body, None)
                for kept in sink.kept
                if kept.channel == "email"
            ],
            None,
        )
    if request.param == "smtp":
        server, client_tls = request.getfixturevalue("smtp_server")

        def smtp(**overrides: Any) -> SmtpEmail:
            config: dict[str, Any] = {
                "host": server.host,
                "port": server.port,
                "username": SMTP_USER,
                "password": SMTP_PASSWORD,
                "implicit_tls": False,
                "starttls": True,
                "sender": SENDER,
                "timeout": 5.0,
                "tls_context": client_tls,
            } | overrides
            return SmtpEmail(**config)

        def smtp_slow() -> EmailSender:
            server.delay_next_data(2.0)
            return smtp(timeout=0.3)

        return EmailHarness(
            smtp(),
            lambda: [_as_received(mail) for mail in server.messages],
            EmailFaults(
                invalid_to="bounce@acme.example",
                wrong_credentials=lambda: smtp(password="wrong-password"),
                rate_limit_next=lambda: server.reply_to_next_rcpt(
                    "451 4.7.1 Rate limit exceeded, try again later"
                ),
                rate_limit_reason=FailureReason.TRANSIENT,
                fail_next=lambda: server.reply_to_next_data("451 4.3.0 Local problem"),
                impatient_after_delay=smtp_slow,
            ),
        )
    if request.param == "sendgrid":
        sendgrid: SendGridEnv = request.getfixturevalue("sendgrid")

        def sendgrid_slow() -> EmailSender:
            sendgrid.fake.delay_next(5.0)
            return sendgrid.adapter(timeout=0.2)

        return EmailHarness(
            sendgrid.adapter(),
            lambda: [(m.to[0], m.subject, m.text, m.html) for m in sendgrid.fake.messages],
            EmailFaults(
                invalid_to="jane.doe@@acme",
                wrong_credentials=lambda: sendgrid.adapter(api_key="SG.wrong"),
                rate_limit_next=lambda: sendgrid.fake.fail_next(status=429, retry_after=2),
                rate_limit_reason=FailureReason.RATE_LIMITED,
                fail_next=lambda: sendgrid.fake.fail_next(status=500),
                impatient_after_delay=sendgrid_slow,
            ),
        )
    postmark: PostmarkEnv = request.getfixturevalue("postmark")

    def postmark_slow() -> EmailSender:
        postmark.fake.delay_next(5.0)
        return postmark.adapter(timeout=0.2)

    return EmailHarness(
        postmark.adapter(),
        lambda: [(m.to, m.subject, m.text or "", m.html) for m in postmark.fake.messages],
        EmailFaults(
            invalid_to="jane.doe@@acme",
            wrong_credentials=lambda: postmark.adapter(server_token="wrong-token"),
            rate_limit_next=lambda: postmark.fake.fail_next(status=429, retry_after=2),
            rate_limit_reason=FailureReason.RATE_LIMITED,
            fail_next=lambda: postmark.fake.fail_next(status=500),
            impatient_after_delay=postmark_slow,
        ),
    )


def mail(to: str = TO, key: str = "v1:1", **overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": to,
        "subject": SUBJECT,
        "text_body": TEXT,
        "idempotency_key": key,
    }
    return EmailMessage(**(fields | overrides))


def faults_of(harness: EmailHarness) -> EmailFaults:
    if harness.faults is None:
        pytest.skip("the console provider keeps every message and never fails")
    return harness.faults


def assert_shape(error: DeliveryError, harness: EmailHarness, reason: FailureReason) -> None:
    contract.assert_shape(error, harness, reason, private=PRIVATE)


async def test_send_delivers_the_message_intact(harness: EmailHarness) -> None:
    receipt = await harness.sender.send(mail())

    assert receipt.provider == harness.sender.name
    assert receipt.message_id
    assert receipt.status
    assert harness.delivered() == [(TO, SUBJECT, TEXT, None)]


async def test_html_goes_alongside_the_text(harness: EmailHarness) -> None:
    if harness.faults is None:
        pytest.skip("the console provider shows the text part only")

    await harness.sender.send(mail(html_body=HTML))

    assert harness.delivered() == [(TO, SUBJECT, TEXT, HTML)]


async def test_each_send_gets_its_own_message_id(harness: EmailHarness) -> None:
    first = await harness.sender.send(mail(subject="one", text_body="code 111111", key="a"))
    second = await harness.sender.send(mail(subject="two", text_body="code 222222", key="b"))

    assert first.message_id != second.message_id
    assert [d[:3] for d in harness.delivered()] == [
        (TO, "one", "code 111111"),
        (TO, "two", "code 222222"),
    ]


async def test_invalid_recipient_is_final_and_nothing_is_sent(harness: EmailHarness) -> None:
    faults = faults_of(harness)

    with pytest.raises(InvalidRecipient) as caught:
        await harness.sender.send(mail(to=faults.invalid_to))

    assert_shape(caught.value, harness, FailureReason.INVALID_RECIPIENT)
    assert_agent_safe(caught.value, faults.invalid_to)
    assert not caught.value.retryable
    assert harness.delivered() == []


async def test_wrong_credentials_are_an_auth_error(harness: EmailHarness) -> None:
    await contract.check_wrong_credentials_are_an_auth_error(harness, mail(), private=PRIVATE)


async def test_rate_limit_is_retryable(harness: EmailHarness) -> None:
    faults = faults_of(harness)
    faults.rate_limit_next()

    with pytest.raises(DeliveryError) as caught:
        await harness.sender.send(mail())

    assert_shape(caught.value, harness, faults.rate_limit_reason)
    assert caught.value.retryable
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 2.0
    assert not caught.value.outcome_unknown
    assert harness.delivered() == []
    # The limit passes: the same message goes through on the next try.
    await harness.sender.send(mail())
    assert len(harness.delivered()) == 1


async def test_transient_failure_is_retryable(harness: EmailHarness) -> None:
    await contract.check_transient_failure_is_retryable(harness, mail(), private=PRIVATE)


async def test_timeout_is_transient_and_prompt(harness: EmailHarness) -> None:
    await contract.check_timeout_is_transient_and_prompt(harness, mail(), private=PRIVATE)


async def test_every_vendor_adapter_checks_credentials_without_sending(
    harness: EmailHarness,
) -> None:
    await contract.check_credentials_without_sending(harness)


async def test_check_credentials_rejects_wrong_ones(harness: EmailHarness) -> None:
    await contract.check_credentials_rejects_wrong_ones(harness)
