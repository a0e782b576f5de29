"""Shared Block Kit basics: escaping, Slack times, card button values, a notice-only modal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.delivery import Channel

MAX_PICKS = 10


def escape(text: str) -> str:
    """Escape Slack's control characters so user text cannot become `<!channel>` or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_time(moment: datetime) -> str:
    """A time Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = moment.strftime("%H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{time}}|{fallback}>"


def as_dicts(blocks: Sequence[Block]) -> list[dict[str, object]]:
    return [block.to_dict() for block in blocks]


@dataclass(frozen=True)
class CardButton:
    """What a card button carries: an opaque id and the send number the card was drawn at."""

    verification_id: str
    seq: int
    channel: Channel | None = None

    def encode(self) -> str:
        return f"{self.verification_id}|{self.seq}|{self.channel.value if self.channel else ''}"


def notice_modal(title: str, text: str) -> View:
    """A modal that only says something (e.g. why the user may not open Settings)."""
    return View(
        type="modal",
        title=PlainTextObject(text=title[:24]),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=escape(text)))],
    )
