"""Where the console providers put what they "send", so a developer can read it."""

from __future__ import annotations

from typing import Protocol


class ConsoleSink(Protocol):
    async def keep(self, *, channel: str, recipient: str, subject: str | None, body: str) -> str:
        """Store one outgoing message; return its id."""
        ...
