"""Failures a test asks the emulator to produce: one-off errors, rate limits, outages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# In `set_unavailable`, this name stands for every method and response_url deliveries.
EVERY_METHOD = "*"
# The pseudo-method name under which response_url deliveries are recorded and faulted.
RESPONSE_URL = "response_url"


@dataclass
class InjectedFault:
    method: str
    error: str
    remaining: int
    retry_after: int
    http_status: int | None
    channel: str | None

    @property
    def status(self) -> int:
        """HTTP status of the answer: Slack sends 429 for rate limits, 200 for API errors."""
        if self.http_status is not None:
            return self.http_status
        return 429 if self.error == "ratelimited" else 200

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.status == 429 else {}


class FaultPlan:
    """Pending injected faults (used up in order) and the set of methods that are down."""

    def __init__(self) -> None:
        self._pending: list[InjectedFault] = []
        self._unavailable: frozenset[str] = frozenset()

    def add(self, fault: InjectedFault) -> None:
        self._pending.append(fault)

    def take(self, method: str, channel_ids: Iterable[str]) -> InjectedFault | None:
        """The first pending fault matching this call, counting one use of it."""
        channels = set(channel_ids)
        for fault in self._pending:
            if fault.method != method:
                continue
            if fault.channel is not None and fault.channel not in channels:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._pending.remove(fault)
            return fault
        return None

    def clear(self) -> None:
        self._pending.clear()

    def set_unavailable(self, methods: Iterable[str] | None) -> None:
        self._unavailable = frozenset(methods or ())

    def is_unavailable(self, method: str) -> bool:
        return method in self._unavailable or EVERY_METHOD in self._unavailable
