"""What the local vendor fakes share: a script of faults and slow replies a test queues for
the next requests, and HTTP Basic credentials checked exactly."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections import deque
from typing import Generic, TypeVar

from starlette.requests import Request

FaultT = TypeVar("FaultT")


class ScriptedFake(Generic[FaultT]):
    """Base of a delivery fake: its own `fail_next` queues `FaultT`s (the vendor's failure
    shape) with `_queue_faults`; its handlers answer `_next_fault()` before any check and
    `await _maybe_delay(request)` just before a successful reply."""

    def __init__(self) -> None:
        self._faults: deque[FaultT] = deque()
        self._delays: deque[float] = deque()

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Hold the reply to the next `times` requests; the message is still accepted first,
        as when the vendor queued it but the answer was lost (the client cannot tell)."""
        self._delays.extend(seconds for _ in range(times))

    def _queue_faults(self, fault: FaultT, times: int) -> None:
        self._faults.extend(fault for _ in range(times))

    def _next_fault(self) -> FaultT | None:
        return self._faults.popleft() if self._faults else None

    def _forget_script(self) -> None:
        self._faults.clear()
        self._delays.clear()

    async def _maybe_delay(self, request: Request) -> None:
        if not self._delays:
            return
        deadline = asyncio.get_running_loop().time() + self._delays.popleft()
        # Polling for the client's disconnect lets the server stop promptly once a test's
        # client has timed out, instead of holding shutdown for the whole delay.
        while asyncio.get_running_loop().time() < deadline:
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.01)


def basic_auth_matches(request: Request, user: str, password: str) -> bool:
    """Whether the request carries exactly these HTTP Basic credentials."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return False
    return hmac.compare_digest(decoded, f"{user}:{password}".encode())
