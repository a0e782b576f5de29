"""What supervisors see and are told: each verification's live message in their channel and
the risk alerts in its thread (watcher.py decides what and when; posting.py delivers it
idempotently through a Slack port), their figures, the digest, and voiding.

The edge (commands/posts) draws the messages and implements `SupervisorChannel`.
"""

from __future__ import annotations

from bot.supervision.digest import DigestHandler, DigestPoster, DigestScheduler, digest_filename
from bot.supervision.figures import WINDOWS, OpenVerification, SupervisorFigures
from bot.supervision.live import LiveStage, live_key, live_report, live_stage
from bot.supervision.posting import (
    AlertHandler,
    AnnouncementHandler,
    LiveMessageHandler,
    MessageGone,
    PostingTools,
    SupervisorChannel,
)
from bot.supervision.service import MAX_VOID_REASON, SupervisionService, Voided
from bot.supervision.watcher import SupervisionWatcher

__all__ = [
    "MAX_VOID_REASON",
    "WINDOWS",
    "AlertHandler",
    "AnnouncementHandler",
    "DigestHandler",
    "DigestPoster",
    "DigestScheduler",
    "LiveMessageHandler",
    "LiveStage",
    "MessageGone",
    "OpenVerification",
    "PostingTools",
    "SupervisionService",
    "SupervisionWatcher",
    "SupervisorChannel",
    "SupervisorFigures",
    "Voided",
    "digest_filename",
    "live_key",
    "live_report",
    "live_stage",
]
