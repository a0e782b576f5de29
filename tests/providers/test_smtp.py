"""SmtpEmail against a real local SMTP server (aiosmtpd): message shape and error translation."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest

from providers.email import EmailMessage
from providers.email.smtp import SmtpEmail
from providers.errors import (
    FailureReason,
    InvalidRecipient,
    PermanentDeliveryError,
    ProviderAuthError,
    TransientDeliveryError,
)
from tests.fakes.smtp import FakeSmtpServer, running_smtp_server, tls_contexts
from tests.providers.support import assert_agent_safe

SENDER = "helpdesk@msp.example"
USER = "pinverify"
PASSWORD = "s3cret-smtp-password"
CODE = "482913"
TEXT = f"Your PIN Verify code is {CODE}."
HTML = f"<p>Your PIN Verify code is <b>{CODE}</b>.</p>"


def adapter(server: FakeSmtpServer | None = None, **overrides: Any) -> SmtpEmail:
    config: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port if server else 0,
        "username": None,
        "password": None,
        "implicit_tls": False,
        "starttls": False,
        "sender": SENDER,
        "timeout": 5.0,
    } | overrides
    return SmtpEmail(**config)


def mail(to: str = "jane@acme.example", **overrides: Any) -> EmailMessage:
    return EmailMessage(
        **(
            {"to": to, "subject": "Your code", "text_body": TEXT, "idempotency_key": "v1:1"}
            | overrides
        )
    )


async def test_sends_a_well_formed_message_after_logging_in() -> None:
    async with running_smtp_server(username=USER, password=PASSWORD) as server:
        smtp = adapter(server, username=USER, password=PASSWORD, sender_name="MSP Helpdesk")
        receipt = await smtp.send(mail(html_body=HTML))

    [received] = server.messages
    msg = received.message
    assert received.authenticated_as == USER
    assert received.mail_from == SENDER
    assert received.rcpt_tos == ("jane@acme.example",)
    assert msg["From"] == f"MSP Helpdesk <{SENDER}>"
    assert msg["To"] == "jane@acme.example"
    assert msg["Subject"] == "Your code"
    assert email.utils.parsedate_to_datetime(str(msg["Date"])).utcoffset() is not None
    assert str(msg["Message-ID"]).endswith("@msp.example>")
    assert receipt.message_id == msg["Message-ID"]
    assert (receipt.provider, receipt.status) == ("smtp", "sent")
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and plain.get_content() == TEXT + "\n"
    assert html is not None and html.get_content() == HTML + "\n"


async def test_plain_text_only_when_there_is_no_html() -> None:
    async with running_smtp_server() as server:
        await adapter(server).send(mail())

    [received] = server.messages
    assert received.message.get_content_type() == "text/plain"
    assert received.authenticated_as is None


async def test_wrong_password_is_an_auth_error() -> None:
    async with running_smtp_server(username=USER, password=PASSWORD) as server:
        with pytest.raises(ProviderAuthError) as caught:
            await adapter(server, username=USER, password="wrong-password").send(mail())

    error = caught.value
    assert error.reason is FailureReason.AUTH
    assert error.vendor_code == "535"
    assert "SMTP_URL" in error.message
    assert_agent_safe(error, "wrong-password", PASSWORD, "jane@acme.example", TEXT, CODE)
    assert server.messages == []


async def test_server_requiring_auth_is_a_config_error_when_we_send_none() -> None:
    async with running_smtp_server(username=USER, password=PASSWORD, require_auth=True) as server:
        with pytest.raises(ProviderAuthError) as caught:
            await adapter(server).send(mail())

    assert caught.value.vendor_code == "530"
    assert "STARTTLS" in caught.value.message
    assert server.messages == []


async def test_unknown_mailbox_is_an_invalid_recipient() -> None:
    to = "bounce@acme.example"
    async with running_smtp_server() as server:
        with pytest.raises(InvalidRecipient) as caught:
            await adapter(server).send(mail(to=to))

    error = caught.value
    assert (error.reason, error.vendor_code, error.retry_after) == (
        FailureReason.INVALID_RECIPIENT,
        "550",
        None,
    )
    assert not error.retryable
    assert_agent_safe(error, to, "bounce", TEXT, CODE)
    assert server.messages == []


async def test_temporary_rejection_is_transient() -> None:
    to = "tempfail@acme.example"
    async with running_smtp_server() as server:
        with pytest.raises(TransientDeliveryError) as caught:
            await adapter(server).send(mail(to=to))

    error = caught.value
    assert (error.reason, error.vendor_code) == (FailureReason.TRANSIENT, "451")
    assert error.retryable
    assert_agent_safe(error, to, "tempfail", TEXT, CODE)


async def test_connection_refused_is_transient_and_not_sent(closed_port: int) -> None:
    with pytest.raises(TransientDeliveryError) as caught:
        await adapter(port=closed_port).send(mail())

    assert "not sent" in caught.value.message
    assert caught.value.vendor_code is None


async def test_connection_dropped_during_data_is_transient_and_unknown() -> None:
    to = "drop@acme.example"
    async with running_smtp_server() as server:
        with pytest.raises(TransientDeliveryError) as caught:
            await adapter(server).send(mail(to=to))

    assert "unknown whether the email went out" in caught.value.message
    assert_agent_safe(caught.value, to, TEXT, CODE)


async def test_starttls_against_a_server_without_it_is_a_config_error() -> None:
    async with running_smtp_server() as server:
        with pytest.raises(ProviderAuthError) as caught:
            await adapter(server, starttls=True).send(mail())

    assert "SMTP_URL" in caught.value.message
    assert server.messages == []


async def test_implicit_tls_against_a_plain_server_is_a_config_error() -> None:
    async with running_smtp_server() as server:
        with pytest.raises(ProviderAuthError) as caught:
            await adapter(server, implicit_tls=True).send(mail())

    assert "TLS handshake" in caught.value.message
    assert server.messages == []


async def test_header_injection_is_refused_before_connecting(closed_port: int) -> None:
    # The closed port proves no connection was attempted: that would be a TransientDeliveryError.
    with pytest.raises(PermanentDeliveryError) as caught:
        await adapter(port=closed_port).send(mail(subject="Your code\r\nBcc: evil@example.com"))

    assert type(caught.value) is PermanentDeliveryError
    assert "evil" not in caught.value.message


def test_rejects_contradictory_tls_settings() -> None:
    with pytest.raises(ValueError, match="mutually exclusive"):
        adapter(implicit_tls=True, starttls=True)


def test_rejects_a_sender_without_a_domain() -> None:
    with pytest.raises(ValueError, match="domain"):
        adapter(sender="helpdesk")


async def test_starttls_then_auth_delivers() -> None:
    server_tls, client_tls = tls_contexts()
    async with running_smtp_server(
        username=USER, password=PASSWORD, tls="starttls", server_tls=server_tls
    ) as server:
        sender = adapter(
            server, username=USER, password=PASSWORD, starttls=True, tls_context=client_tls
        )
        receipt = await sender.send(mail())
        (received,) = server.messages
        assert received.authenticated_as == USER
        assert received.message["Message-ID"] == receipt.message_id


async def test_starttls_server_refuses_a_client_that_skips_it() -> None:
    server_tls, _ = tls_contexts()
    async with running_smtp_server(
        username=USER, password=PASSWORD, tls="starttls", server_tls=server_tls
    ) as server:
        with pytest.raises(ProviderAuthError) as error:
            await adapter(server, username=USER, password=PASSWORD).send(mail())
        assert_agent_safe(error.value, PASSWORD)
        assert server.messages == []


async def test_implicit_tls_delivers() -> None:
    server_tls, client_tls = tls_contexts()
    async with running_smtp_server(tls="implicit", server_tls=server_tls) as server:
        await adapter(server, implicit_tls=True, tls_context=client_tls).send(mail())
        assert len(server.messages) == 1


async def test_untrusted_certificate_is_a_configuration_error() -> None:
    server_tls, _ = tls_contexts()
    async with running_smtp_server(tls="implicit", server_tls=server_tls) as server:
        with pytest.raises(ProviderAuthError) as error:
            await adapter(server, implicit_tls=True).send(mail())  # system trust store
        assert server.messages == []
        assert "TLS" in error.value.message


async def test_the_server_can_be_told_to_refuse_the_next_recipient() -> None:
    async with running_smtp_server() as server:
        server.reply_to_next_rcpt("550 5.1.1 No such user here")
        with pytest.raises(InvalidRecipient) as refused:
            await adapter(server).send(mail())
        server.reply_to_next_rcpt("451 4.7.1 Greylisted, try again later")
        with pytest.raises(TransientDeliveryError) as deferred:
            await adapter(server).send(mail())
        await adapter(server).send(mail())  # the next one goes through

    assert (refused.value.vendor_code, deferred.value.vendor_code) == ("550", "451")
    assert len(server.messages) == 1


async def test_the_server_can_be_told_to_drop_mid_data_or_refuse_the_content() -> None:
    async with running_smtp_server() as server:
        server.reply_to_next_data("DROP")
        with pytest.raises(TransientDeliveryError) as dropped:
            await adapter(server).send(mail())
        server.reply_to_next_data("552 5.3.4 Message size exceeds fixed limit")
        with pytest.raises(PermanentDeliveryError) as too_big:
            await adapter(server).send(mail())

    assert "unknown whether the email went out" in dropped.value.message
    assert too_big.value.vendor_code == "552"
    assert server.messages == []


async def test_a_stalled_server_is_a_timeout_with_an_unknown_outcome() -> None:
    async with running_smtp_server() as server:
        server.delay_next_data(2.0)
        with pytest.raises(TransientDeliveryError) as caught:
            await adapter(server, timeout=0.3).send(mail())

    assert "unknown whether the email went out" in caught.value.message


async def test_check_credentials_over_starttls_logs_in_and_sends_nothing() -> None:
    server_tls, client_tls = tls_contexts()
    async with running_smtp_server(
        username=USER, password=PASSWORD, tls="starttls", server_tls=server_tls
    ) as server:
        smtp = adapter(
            server, username=USER, password=PASSWORD, starttls=True, tls_context=client_tls
        )
        await smtp.check_credentials()

    assert server.commands == ["MAIL", "RSET"]
    assert server.messages == []


async def test_check_credentials_rejects_a_wrong_password() -> None:
    server_tls, client_tls = tls_contexts()
    async with running_smtp_server(
        username=USER, password=PASSWORD, tls="starttls", server_tls=server_tls
    ) as server:
        smtp = adapter(
            server, username=USER, password="wrong", starttls=True, tls_context=client_tls
        )
        with pytest.raises(ProviderAuthError) as caught:
            await smtp.check_credentials()

    assert caught.value.vendor_code == "535"
    assert "SMTP_URL" in caught.value.message
    assert_agent_safe(caught.value, "wrong", PASSWORD)
    assert server.commands == []


async def test_check_credentials_finds_a_relay_that_needs_a_login() -> None:
    async with running_smtp_server(username=USER, password=PASSWORD, require_auth=True) as server:
        with pytest.raises(ProviderAuthError) as caught:
            await adapter(server).check_credentials()

    assert caught.value.vendor_code == "530"


async def test_check_credentials_against_an_untrusted_certificate() -> None:
    server_tls, _ = tls_contexts()
    async with running_smtp_server(tls="implicit", server_tls=server_tls) as server:
        with pytest.raises(ProviderAuthError) as caught:
            await adapter(server, implicit_tls=True).check_credentials()

    assert "TLS" in caught.value.message


async def test_check_credentials_names_the_unreachable_address(closed_port: int) -> None:
    with pytest.raises(TransientDeliveryError) as caught:
        await adapter(port=closed_port).check_credentials()

    assert f"127.0.0.1:{closed_port}" in caught.value.message
    assert "SMTP_URL" in caught.value.message
