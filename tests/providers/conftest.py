from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Protocol, TypeVar

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from tests.fakes.postmark import FakePostmark
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.twilio import FakeTwilio
from tests.fakes.vonage import FakeVonage
from tests.providers.support import PostmarkEnv, SendGridEnv, TwilioEnv, VonageEnv
from tests.support.asgi import running_server
from tests.support.hostile import library_chatter

# The shared contract checks assert outside test modules: rewrite them for readable failures.
pytest.register_assert_rewrite("tests.providers.delivery_contract")


class _Fake(Protocol):
    def reset(self) -> None: ...

    def asgi_app(self) -> Starlette: ...


FakeT = TypeVar("FakeT", bound=_Fake)
EnvT = TypeVar("EnvT")


@asynccontextmanager
async def _served(fake: FakeT) -> AsyncIterator[tuple[FakeT, str]]:
    async with running_server(fake.asgi_app()) as url:
        yield fake, url


@asynccontextmanager
async def _fresh(
    env: Callable[[FakeT, str, httpx.AsyncClient], EnvT], served: tuple[FakeT, str]
) -> AsyncIterator[EnvT]:
    """The module's shared fake, forgetting the previous test, and a client of this test's own."""
    fake, url = served
    fake.reset()
    async with httpx.AsyncClient() as client:
        yield env(fake, url, client)


# uvicorn spends ~0.2 s shutting down, so a module shares one server per vendor fake and each
# test resets it; modules using one run in a module-wide loop (see their `pytestmark`).
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def twilio_server() -> AsyncIterator[tuple[FakeTwilio, str]]:
    async with _served(FakeTwilio()) as served:
        yield served


@pytest_asyncio.fixture(loop_scope="module")
async def twilio(twilio_server: tuple[FakeTwilio, str]) -> AsyncIterator[TwilioEnv]:
    async with _fresh(TwilioEnv, twilio_server) as env:
        yield env


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def vonage_server() -> AsyncIterator[tuple[FakeVonage, str]]:
    async with _served(FakeVonage()) as served:
        yield served


@pytest_asyncio.fixture(loop_scope="module")
async def vonage(vonage_server: tuple[FakeVonage, str]) -> AsyncIterator[VonageEnv]:
    async with _fresh(VonageEnv, vonage_server) as env:
        yield env


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sendgrid_server() -> AsyncIterator[tuple[FakeSendGrid, str]]:
    async with _served(FakeSendGrid()) as served:
        yield served


@pytest_asyncio.fixture(loop_scope="module")
async def sendgrid(sendgrid_server: tuple[FakeSendGrid, str]) -> AsyncIterator[SendGridEnv]:
    async with _fresh(SendGridEnv, sendgrid_server) as env:
        yield env


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def postmark_server() -> AsyncIterator[tuple[FakePostmark, str]]:
    async with _served(FakePostmark()) as served:
        yield served


@pytest_asyncio.fixture(loop_scope="module")
async def postmark(postmark_server: tuple[FakePostmark, str]) -> AsyncIterator[PostmarkEnv]:
    async with _fresh(PostmarkEnv, postmark_server) as env:
        yield env


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound (so nobody else takes it), never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def library_logs() -> Iterator[None]:
    """httpx and the other libraries log again for this test (see `library_chatter`)."""
    with library_chatter():
        yield
