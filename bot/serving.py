"""Start uvicorn inside the running event loop and learn the port it bound (port 0 works)."""

from __future__ import annotations

import asyncio

import uvicorn


class ServerDidNotStart(Exception):
    """uvicorn gave up while starting; it has logged why (e.g. the port is taken)."""


async def _serve(server: uvicorn.Server) -> None:
    try:
        await server.serve()
    except SystemExit as exc:
        # uvicorn calls sys.exit() when it cannot bind; inside a task that SystemExit would
        # tear through the event loop with a traceback instead of reaching our caller.
        raise ServerDidNotStart(f"exit status {exc.code}") from None


async def start_in_background(server: uvicorn.Server) -> tuple[asyncio.Task[None], int]:
    """Start `server`; return its task once it accepts connections, and its bound port."""
    task = asyncio.create_task(_serve(server))
    while not server.started:
        if task.done():
            task.result()  # re-raises why it stopped (port taken, lifespan failure)
            raise RuntimeError("server stopped before it started")
        await asyncio.sleep(0.005)
    return task, int(server.servers[0].sockets[0].getsockname()[1])
