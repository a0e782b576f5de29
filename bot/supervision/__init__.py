"""What supervisors see and are told: each verification's live message in their channel and
the risk alerts in its thread (watcher.py decides what and when; posting.py delivers it
idempotently through a Slack port), their figures, the digest, and voiding.

The edge (commands/posts) draws the messages and implements `SupervisorChannel`.
"""

from __future__ import annotations

from bot.supervision.live import LiveStage, live_key, live_report, live_stage
from bot.supervision.posting import (
    AlertHandler,
    AnnouncementHandler,
    LiveMessageHandler,
    MessageGone,
    PostingTools,
    SupervisorChannel,
)
from bot.supervision.watcher import SupervisionWatcher

__all__ = [
    "AlertHandler",
    "AnnouncementHandler",
    "LiveMessageHandler",
    "LiveStage",
    "MessageGone",
    "PostingTools",
    "SupervisionWatcher",
    "SupervisorChannel",
    "live_key",
    "live_report",
    "live_stage",
]
