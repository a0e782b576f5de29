"""Plain SMTP submission (M365, Google Workspace, on-prem relays) via aiosmtplib."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid
from typing import NoReturn

import aiosmtplib

from providers.email import EmailMessage, EmailReceipt
from providers.errors import (
    DeliveryError,
    InvalidRecipient,
    PermanentDeliveryError,
    ProviderAuthError,
    TransientDeliveryError,
)

PROVIDER = "smtp"

_CHECK_URL = "check SMTP_URL"
# Mailbox unknown (550), "user not local" (551), malformed mailbox name (553).
_BAD_MAILBOX_CODES = frozenset({550, 551, 553})


class SmtpEmail:
    """Opens one SMTP connection per message; never retries (that belongs to one layer above)."""

    name = PROVIDER

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        implicit_tls: bool,
        starttls: bool,
        sender: str,
        timeout: float = 15.0,
        tls_context: ssl.SSLContext | None = None,
        sender_name: str | None = None,
    ) -> None:
        if implicit_tls and starttls:
            raise ValueError("implicit_tls and starttls are mutually exclusive")
        if (username is None) != (password is None):
            raise ValueError("username and password must be given together")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._implicit_tls = implicit_tls
        self._starttls = starttls
        self._timeout = timeout
        self._tls_context = tls_context
        # Address() validates the sender once, here, instead of on every send.
        self._from = Address(display_name=sender_name or "", addr_spec=sender)
        self._sender = self._from.addr_spec
        self._domain = self._from.domain
        if not self._domain:
            raise ValueError("sender must be a full address with a domain")

    async def send(self, message: EmailMessage) -> EmailReceipt:
        mime = self._build(message)
        try:
            await aiosmtplib.send(
                mime,
                sender=self._sender,
                recipients=[message.to],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._implicit_tls,
                # An explicit False, because None makes aiosmtplib upgrade whenever the
                # server offers STARTTLS, which would silently ignore the configured mode.
                start_tls=self._starttls,
                timeout=self._timeout,
                tls_context=self._tls_context,
            )
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            _raise_translated(exc)
        return EmailReceipt(provider=PROVIDER, message_id=str(mime["Message-ID"]), status="sent")

    async def check_credentials(self) -> None:
        """Connect, upgrade or speak TLS as configured, log in, offer the sender, and leave
        (RSET, QUIT): everything a send needs except a recipient and a message."""
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            use_tls=self._implicit_tls,
            start_tls=self._starttls,
            timeout=self._timeout,
            tls_context=self._tls_context,
        )
        try:
            await client.connect()
            try:
                if self._username is not None and self._password is not None:
                    await client.login(self._username, self._password)
                # MAIL FROM is where relays that need a login answer 530, and where a
                # sender the server will not accept is refused; RSET withdraws it.
                await client.mail(self._sender)
                await client.rset()
                await client.quit()
            finally:
                client.close()
        except aiosmtplib.SMTPConnectError as exc:
            if isinstance(exc.__cause__, ssl.SSLError):
                _raise_translated(exc)
            raise TransientDeliveryError(
                f"Could not reach the SMTP server at {self._host}:{self._port}: check the host "
                f"and port in SMTP_URL, or try again if the server is down.",
                provider=PROVIDER,
            ) from exc
        except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected) as exc:
            raise TransientDeliveryError(
                "The SMTP server stopped answering during the check; try again in a moment.",
                provider=PROVIDER,
            ) from exc
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            _raise_translated(exc)

    def _build(self, message: EmailMessage) -> MimeMessage:
        mime = MimeMessage()
        try:
            mime["From"] = self._from
            mime["To"] = message.to
            mime["Subject"] = message.subject
            # "+0000", not formatdate()'s "-0000", which RFC 5322 reads as "zone unknown".
            mime["Date"] = format_datetime(datetime.now(UTC))
            # With a domain, make_msgid skips socket.getfqdn(), a blocking DNS lookup.
            mime["Message-ID"] = make_msgid(domain=self._domain)
            mime.set_content(message.text_body)
            if message.html_body is not None:
                mime.add_alternative(message.html_body, subtype="html")
        except ValueError as exc:
            # The email package refuses CR/LF in headers (header injection) and bad addresses.
            raise PermanentDeliveryError(
                "The email could not be built: the address or subject contains characters "
                "email does not allow.",
                provider=PROVIDER,
            ) from exc
        return mime


def _raise_translated(exc: Exception) -> NoReturn:
    error: DeliveryError
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        code = exc.recipients[0].code if exc.recipients else 550
        error = _from_reply(code, stage="recipient")
    elif isinstance(exc, aiosmtplib.SMTPSenderRefused):
        error = _from_reply(exc.code, stage="sender")
    elif isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # 535 mostly, but 534/538 (Google's "app password required", "encryption
        # required") are the same config problem, and 454 is a temporary auth failure.
        error = _from_reply(exc.code, stage="auth")
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        # SMTPDataError, and a greeting that refuses us (SMTPConnectResponseError).
        error = _from_reply(exc.code, stage="session")
    elif isinstance(exc, aiosmtplib.SMTPConnectError) and isinstance(exc.__cause__, ssl.SSLError):
        error = ProviderAuthError(
            "The TLS handshake with the SMTP server failed: check the port, smtps:// and "
            "starttls in SMTP_URL. The email was not sent.",
            provider=PROVIDER,
        )
    elif isinstance(exc, aiosmtplib.SMTPConnectError):
        # SMTPConnectTimeoutError lands here too: nothing was sent before connecting.
        error = TransientDeliveryError(
            "Could not reach the SMTP server; the email was not sent. Try again in a moment.",
            provider=PROVIDER,
        )
    elif isinstance(exc, aiosmtplib.SMTPTimeoutError | aiosmtplib.SMTPServerDisconnected):
        what = "did not answer in time" if isinstance(exc, TimeoutError) else "dropped the line"
        error = TransientDeliveryError(
            f"The SMTP server {what}; it is unknown whether the email went out — "
            "ask the caller before resending.",
            provider=PROVIDER,
            outcome_unknown=True,
        )
    elif isinstance(exc, aiosmtplib.SMTPException):
        # aiosmtplib's bare SMTPException/SMTPNotSupported mean the server lacks something
        # the configuration asks for: STARTTLS, AUTH, or a mechanism we can use.
        error = ProviderAuthError(
            "The SMTP server does not offer what SMTP_URL asks for (STARTTLS or login): "
            f"{_CHECK_URL}.",
            provider=PROVIDER,
        )
    elif isinstance(exc, ValueError):
        error = InvalidRecipient(
            "The email address cannot be used for sending (it is malformed).",
            provider=PROVIDER,
        )
    elif isinstance(exc, ssl.SSLError):
        error = ProviderAuthError(
            f"The TLS handshake with the SMTP server failed: {_CHECK_URL}.", provider=PROVIDER
        )
    else:
        error = TransientDeliveryError(
            "The connection to the SMTP server failed; it is unknown whether the email went "
            "out — ask the caller before resending.",
            provider=PROVIDER,
            outcome_unknown=True,
        )
    raise error from exc


def _from_reply(code: int, *, stage: str) -> DeliveryError:
    vendor_code = str(code)
    if code == 530:
        return ProviderAuthError(
            "The SMTP server requires authentication or STARTTLS first (530): "
            f"{_CHECK_URL} (user, password, starttls=true).",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if code == 535 or (stage == "auth" and code >= 500):
        return ProviderAuthError(
            f"The SMTP server refused the username or password ({code}): {_CHECK_URL}.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if 400 <= code < 500:
        return TransientDeliveryError(
            f"The SMTP server deferred the email ({code}); try again in a moment.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if stage == "recipient" and code in _BAD_MAILBOX_CODES:
        return InvalidRecipient(
            f"The mail server rejected the address as unknown or unavailable ({code}) — "
            "check the contact's email or use SMS.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if stage == "recipient":
        # Typically 554 5.7.1 "relay access denied": the server will not relay for us.
        return PermanentDeliveryError(
            f"The SMTP server refused to deliver to this address ({code}); if every address "
            f"fails, it may not relay for this account — {_CHECK_URL}.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if stage == "sender":
        return PermanentDeliveryError(
            f"The SMTP server refused the sender address ({code}): check EMAIL_FROM.",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    if code == 552:
        return PermanentDeliveryError(
            "The SMTP server refused the email as too large (552).",
            provider=PROVIDER,
            vendor_code=vendor_code,
        )
    return PermanentDeliveryError(
        f"The SMTP server refused the email ({code}).", provider=PROVIDER, vendor_code=vendor_code
    )
