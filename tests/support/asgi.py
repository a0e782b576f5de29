"""Run an ASGI app on a real socket (127.0.0.1, port 0) inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from bot.runtime.serving import start_in_background


@asynccontextmanager
async def running_server(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve `app` until the block exits; yields its base URL, e.g. http://127.0.0.1:54321."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task, port = await start_in_background(server)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for an app that must know its own URL before it starts
    (PINVERIFY_PUBLIC_URL, which signed provider callbacks are checked against)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
