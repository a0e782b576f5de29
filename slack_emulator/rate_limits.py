"""Slack's rate limits, enforced on request (`SlackEmulator(rate_limits=RateLimits())`):
about one chat.postMessage per second per channel, and chat.update at Tier 3 (50 a minute
for the workspace). A call over the limit answers HTTP 429 `ratelimited` with Retry-After,
and is counted, so a test can report how many 429s its traffic caused.

Off by default, so tests that do not study pacing are unaffected.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class RateLimits:
    post_interval_seconds: float = 1.0  # chat.postMessage, per channel
    updates_per_minute: int = 50  # chat.update, Tier 3, per workspace
    last_post: dict[str, float] = field(default_factory=dict)
    recent_updates: deque[float] = field(default_factory=deque)
    refused: dict[str, int] = field(default_factory=dict)  # method -> 429s answered

    def retry_after(self, method: str, channel: str | None, now: float) -> int | None:
        """Seconds to wait if this call is over the limit (and count it); else record it."""
        wait: float | None = None
        if method == "chat.postMessage" and channel is not None:
            last = self.last_post.get(channel)
            if last is not None and now - last < self.post_interval_seconds:
                wait = self.post_interval_seconds - (now - last)
            else:
                self.last_post[channel] = now
        elif method == "chat.update":
            while self.recent_updates and now - self.recent_updates[0] >= 60:
                self.recent_updates.popleft()
            if len(self.recent_updates) >= self.updates_per_minute:
                wait = 60 - (now - self.recent_updates[0])
            else:
                self.recent_updates.append(now)
        if wait is None:
            return None
        self.refused[method] = self.refused.get(method, 0) + 1
        return max(1, math.ceil(wait))

    @property
    def total_refused(self) -> int:
        return sum(self.refused.values())
