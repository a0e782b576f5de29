from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from tests.fakes.postmark import FakePostmark
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.twilio import FakeTwilio
from tests.fakes.vonage import FakeVonage
from tests.providers.support import PostmarkEnv, SendGridEnv, TwilioEnv, VonageEnv
from tests.support.asgi import running_server

# The shared contract checks assert outside test modules: rewrite them for readable failures.
pytest.register_assert_rewrite("tests.providers.delivery_contract")


# uvicorn spends ~0.2 s shutting down, so a module shares one FakeTwilio server and each
# test resets it; modules using it run in a module-wide loop (see their `pytestmark`).
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def twilio_server() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    async with running_server(fake.asgi_app()) as url:
        yield fake, url


@pytest_asyncio.fixture(loop_scope="module")
async def twilio(twilio_server: tuple[FakeTwilio, str]) -> AsyncIterator[TwilioEnv]:
    fake, url = twilio_server
    fake.reset()
    async with httpx.AsyncClient() as client:
        yield TwilioEnv(fake, url, client)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def vonage_server() -> AsyncIterator[tuple[FakeVonage, str]]:
    fake = FakeVonage()
    async with running_server(fake.asgi_app()) as url:
        yield fake, url


@pytest_asyncio.fixture(loop_scope="module")
async def vonage(vonage_server: tuple[FakeVonage, str]) -> AsyncIterator[VonageEnv]:
    fake, url = vonage_server
    fake.reset()
    async with httpx.AsyncClient() as client:
        yield VonageEnv(fake, url, client)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sendgrid_server() -> AsyncIterator[tuple[FakeSendGrid, str]]:
    fake = FakeSendGrid()
    async with running_server(fake.asgi_app()) as url:
        yield fake, url


@pytest_asyncio.fixture(loop_scope="module")
async def sendgrid(sendgrid_server: tuple[FakeSendGrid, str]) -> AsyncIterator[SendGridEnv]:
    fake, url = sendgrid_server
    fake.reset()
    async with httpx.AsyncClient() as client:
        yield SendGridEnv(fake, url, client)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def postmark_server() -> AsyncIterator[tuple[FakePostmark, str]]:
    fake = FakePostmark()
    async with running_server(fake.asgi_app()) as url:
        yield fake, url


@pytest_asyncio.fixture(loop_scope="module")
async def postmark(postmark_server: tuple[FakePostmark, str]) -> AsyncIterator[PostmarkEnv]:
    fake, url = postmark_server
    fake.reset()
    async with httpx.AsyncClient() as client:
        yield PostmarkEnv(fake, url, client)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound (so nobody else takes it), never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
