"""Helpers shared by the provider tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.email.postmark import PostmarkEmail
from providers.email.sendgrid import SendGridEmail
from providers.errors import DeliveryError
from providers.sms.twilio import TwilioSms
from providers.sms.vonage import VonageSms
from tests.fakes.postmark import FakePostmark
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.twilio import TEST_FROM_NUMBER, FakeTwilio
from tests.fakes.vonage import FakeVonage
from tests.support.asgi import running_server

VONAGE_FROM = "PINVerify"
EMAIL_SENDER = "helpdesk@msp.example"

FakeT = TypeVar("FakeT")
T = TypeVar("T")


@runtime_checkable
class CredentialsCheck(Protocol):
    """What `pinverify providers check` calls on every vendor adapter (not the console)."""

    async def check_credentials(self) -> None: ...


@dataclass
class VendorEnv(Generic[FakeT]):
    """A vendor fake served over real HTTP; subclasses add `adapter(**overrides)`, an adapter
    pointed at it through `client`."""

    fake: FakeT
    url: str
    client: httpx.AsyncClient


@dataclass(frozen=True)
class Kept:
    id: str
    channel: str
    recipient: str
    subject: str | None
    body: str


@dataclass
class InMemorySink:
    """A ConsoleSink that keeps messages in a list."""

    kept: list[Kept] = field(default_factory=list)

    async def keep(self, *, channel: str, recipient: str, subject: str | None, body: str) -> str:
        message_id = f"console-{len(self.kept) + 1}"
        self.kept.append(Kept(message_id, channel, recipient, subject, body))
        return message_id


class TwilioEnv(VendorEnv[FakeTwilio]):
    def adapter(self, **overrides: Any) -> TwilioSms:
        config: dict[str, Any] = {
            "account_sid": self.fake.account_sid,
            "auth_token": self.fake.auth_token,
            "from_number": TEST_FROM_NUMBER,
            "api_url": self.url + "/",
        } | overrides
        return TwilioSms(self.client, **config)


class VonageEnv(VendorEnv[FakeVonage]):
    def adapter(self, **overrides: Any) -> VonageSms:
        config: dict[str, Any] = {
            "api_key": self.fake.api_key,
            "api_secret": self.fake.api_secret,
            "from_": VONAGE_FROM,
            "api_url": self.url + "/",
        } | overrides
        return VonageSms(self.client, **config)


class SendGridEnv(VendorEnv[FakeSendGrid]):
    def adapter(self, **overrides: Any) -> SendGridEmail:
        config: dict[str, Any] = {
            "api_key": self.fake.api_key,
            "sender": EMAIL_SENDER,
            "api_url": self.url + "/",
        } | overrides
        return SendGridEmail(self.client, **config)


class PostmarkEnv(VendorEnv[FakePostmark]):
    def adapter(self, **overrides: Any) -> PostmarkEmail:
        config: dict[str, Any] = {
            "server_token": self.fake.server_token,
            "sender": EMAIL_SENDER,
            "api_url": self.url + "/",
        } | overrides
        return PostmarkEmail(self.client, **config)


def assert_agent_safe(error: DeliveryError, *private: str) -> None:
    """The agent-facing text names no destination, body or secret, in any spelling."""
    text = f"{error.message}\n{error}"
    for value in private:
        assert value not in text
        digits = "".join(ch for ch in value if ch.isdigit())
        if value.startswith("+") and len(digits) >= 7:
            assert digits[-7:] not in text


@asynccontextmanager
async def status_receiver(
    path: str,
    parse: Callable[[Request], Awaitable[Sequence[T]]],
    *,
    methods: Sequence[str] = ("POST",),
) -> AsyncIterator[tuple[str, list[T]]]:
    """A stand-in for the bot's webhook route at `path`: keeps what `parse` makes of every
    request, answers 204, and yields its URL with the list it fills."""
    parsed: list[T] = []

    async def receive(request: Request) -> Response:
        parsed.extend(await parse(request))
        return Response(status_code=204)

    app = Starlette(routes=[Route(path, receive, methods=list(methods))])
    async with running_server(app) as url:
        yield url + path, parsed
