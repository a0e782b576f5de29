"""Start uvicorn inside the running event loop and learn the port it bound (port 0 works)."""

from __future__ import annotations

import asyncio
import socket

import uvicorn


class ServerDidNotStart(Exception):
    """uvicorn gave up while starting; it has logged why (e.g. the port is taken)."""


async def _serve(server: uvicorn.Server, sockets: list[socket.socket] | None) -> None:
    try:
        await server.serve(sockets=sockets)
    except SystemExit as exc:
        # uvicorn calls sys.exit() when it cannot bind; inside a task that SystemExit would
        # tear through the event loop with a traceback instead of reaching our caller.
        raise ServerDidNotStart(f"exit status {exc.code}") from None


def bind_socket(host: str, port: int) -> socket.socket:
    """Listen on `host`:`port` (0: any free port) before the app is built, so the app can
    know its own address; raises OSError (e.g. the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    sock.set_inheritable(True)
    return sock


def socket_address(sock: socket.socket) -> str:
    """http://host:port of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def start_in_background(
    server: uvicorn.Server, *, sockets: list[socket.socket] | None = None
) -> tuple[asyncio.Task[None], int]:
    """Start `server` (on `sockets` if given, already bound); return its task once it
    accepts connections, and its bound port."""
    task = asyncio.create_task(_serve(server, sockets))
    while not server.started:
        if task.done():
            task.result()  # re-raises why it stopped (port taken, lifespan failure)
            raise RuntimeError("server stopped before it started")
        await asyncio.sleep(0.005)
    return task, int(server.servers[0].sockets[0].getsockname()[1])
