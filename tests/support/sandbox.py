"""The app in sandbox mode on a real socket, as `pinverify serve` runs it without Slack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import uvicorn

from bot.runtime import Runtime, open_runtime
from bot.runtime.sandbox import Sandbox
from bot.runtime.serving import bind_socket, socket_address, start_in_background
from bot.settings import load_settings


@asynccontextmanager
async def running_sandbox(
    database_url: str, *, env: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[Runtime, Sandbox]]:
    settings = load_settings(
        {"DATABASE_URL": database_url, "PINVERIFY_OUTBOX_POLL_SECONDS": "0.05", **(env or {})}
    )
    with bind_socket("127.0.0.1", 0) as sock:
        async with open_runtime(settings, sandbox_at=socket_address(sock)) as runtime:
            assert runtime.sandbox is not None
            server = uvicorn.Server(
                uvicorn.Config(runtime.server, log_level="warning", lifespan="on")
            )
            task, _port = await start_in_background(server, sockets=[sock])
            try:
                yield runtime, runtime.sandbox
            finally:
                server.should_exit = True
                await asyncio.wait_for(task, timeout=15)
