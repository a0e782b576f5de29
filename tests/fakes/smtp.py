"""A real SMTP server (aiosmtpd) on 127.0.0.1 with an OS-chosen port, for adapter tests.

Recipients whose address starts with `bounce@` get 550 at RCPT, `tempfail@` 451, and `drop@`
has the connection closed after the message content, before the final reply (the client
cannot tell whether the message was taken). A test can also tell the server what to answer
next (`reply_to_next_rcpt`, `reply_to_next_data`, "DROP") and to stall (`delay_next_data`).
AUTH PLAIN/LOGIN is offered over plain TCP when credentials are given; `require_auth`
answers 530 to MAIL from an unauthenticated session.
`tls="starttls"` offers STARTTLS and refuses AUTH and MAIL before it (530), `tls="implicit"`
speaks TLS from the first byte; both use a certificate for 127.0.0.1 from the `trustme` CA
whose client context the test hands to the adapter.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hmac
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SERVER_HOSTNAME = "fake-smtp.test"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    authenticated_as: str | None


@dataclass
class FakeSmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    messages: list[ReceivedMail] = field(default_factory=list)
    # Commands the session saw, e.g. "MAIL", "RSET", so a test can tell what a check did.
    commands: list[str] = field(default_factory=list)
    # Told by a test; the handler (on the server's own thread) pops them.
    _rcpt_replies: deque[str] = field(default_factory=deque)
    _data_replies: deque[str] = field(default_factory=deque)
    _data_delays: deque[float] = field(default_factory=deque)

    def reply_to_next_rcpt(self, reply: str) -> None:
        """The next RCPT TO gets `reply` instead of 250, e.g. "451 4.7.1 Try again later"."""
        self._rcpt_replies.append(reply)

    def reply_to_next_data(self, reply: str) -> None:
        """The next message content gets `reply`; "DROP" closes the connection instead,
        after the content and before any reply, like `drop@` recipients."""
        self._data_replies.append(reply)

    def delay_next_data(self, seconds: float) -> None:
        """Keep the client waiting for the reply to the next message's content."""
        self._data_delays.append(seconds)


class _Handler:
    def __init__(self, server: FakeSmtpServer, *, require_auth: bool) -> None:
        self._server = server
        self._require_auth = require_auth

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # aiosmtpd's own auth_required needs TLS (or warns), so 530 is answered here.
        self._server.commands.append("MAIL")
        if self._require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self._server.commands.append("RCPT")
        if self._server._rcpt_replies:
            return self._server._rcpt_replies.popleft()
        lowered = address.lower()
        if lowered.startswith("bounce@"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if lowered.startswith("tempfail@"):
            return "451 4.3.0 Temporary local problem, try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._server.commands.append("RSET")
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._server.commands.append("DATA")
        if self._server._data_delays:
            await asyncio.sleep(self._server._data_delays.popleft())
        told = self._server._data_replies.popleft() if self._server._data_replies else None
        if told is not None and told != "DROP":
            return told
        if told == "DROP" or any(rcpt.lower().startswith("drop@") for rcpt in envelope.rcpt_tos):
            transport = server.transport
            assert isinstance(transport, asyncio.WriteTransport)
            transport.abort()
            return "421 4.3.0 connection dropped by the fake"
        content = envelope.content
        assert isinstance(content, bytes)
        # SMTP carries CRLF line ends; mail clients read them as plain newlines.
        parsed = email.message_from_bytes(
            content.replace(b"\r\n", b"\n"), policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data if session.authenticated else None
        self._server.messages.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=parsed,
                authenticated_as=login.decode() if isinstance(login, bytes) else None,
            )
        )
        return "250 2.0.0 Ok: queued"


class _Authenticator:
    def __init__(self, username: str, password: str) -> None:
        self._username = username.encode()
        self._password = password.encode()

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(auth_data.login, self._username) & hmac.compare_digest(
            auth_data.password, self._password
        )
        if not ok:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data.login)


class _PreboundController(Controller):
    """Serves on a socket bound before start, so the port is known and never raced for.

    `Controller(port=0)` binds fine but then pokes `port` 0 to finish starting, and fails.
    """

    def __init__(self, handler: _Handler, sock: socket.socket, **kwargs: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = sock

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


@asynccontextmanager
async def running_smtp_server(
    *,
    username: str | None = None,
    password: str | None = None,
    require_auth: bool = False,
    tls: Literal["none", "starttls", "implicit"] = "none",
    server_tls: ssl.SSLContext | None = None,
) -> AsyncIterator[FakeSmtpServer]:
    """Serve until the block exits; yields the server's address and its received mail."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    host, port = sock.getsockname()[:2]
    fake = FakeSmtpServer(host=host, port=port, username=username, password=password)
    kwargs: dict[str, Any] = {"server_hostname": SERVER_HOSTNAME, "ready_timeout": 5.0}
    if username is not None and password is not None:
        kwargs |= {
            "authenticator": _Authenticator(username, password),
            "auth_require_tls": tls == "starttls",
        }
    if tls != "none" and server_tls is None:
        raise ValueError("a TLS server needs server_tls (see tls_contexts())")
    if tls == "starttls":
        kwargs |= {"tls_context": server_tls, "require_starttls": True}
    elif tls == "implicit":
        kwargs["ssl_context"] = server_tls
    controller = _PreboundController(_Handler(fake, require_auth=require_auth), sock, **kwargs)
    # start() and stop() block on threading events; keep them off the test's event loop.
    await asyncio.to_thread(controller.start)
    try:
        yield fake
    finally:
        await asyncio.to_thread(controller.stop)
        sock.close()


def tls_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting it."""
    import trustme

    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return server, client
