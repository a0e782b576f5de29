"""conversations.history and conversations.replies: what a channel or a thread holds.

Newest first for history (top-level messages only, as Slack lists them), oldest first for
replies (the parent, then its replies). `metadata` is returned only with
`include_all_metadata`, as Slack does. Pagination uses an opaque cursor (an offset).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_emulator.arguments import MethodArgs
from slack_emulator.errors import SlackApiFailure
from slack_emulator.records import Channel, Message

if TYPE_CHECKING:
    from slack_emulator.web_api import SlackEmulator

DEFAULT_LIMIT = 100
MAX_LIMIT = 999


def _readable(emulator: SlackEmulator, args: MethodArgs) -> Channel:
    channel = emulator.channels.get(args.require_text("channel"))
    if channel is None or (channel.is_private and emulator.bot.user_id not in channel.members):
        raise SlackApiFailure("channel_not_found")
    if not channel.is_im and emulator.bot.user_id not in channel.members:
        raise SlackApiFailure("not_in_channel")
    return channel


def _timestamp(args: MethodArgs, name: str, error: str) -> float | None:
    value = args.text(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise SlackApiFailure(error) from None


def _page(emulator: SlackEmulator, args: MethodArgs, messages: list[Message]) -> dict[str, Any]:
    limit_text = args.text("limit")
    try:
        limit = min(max(int(limit_text), 1), MAX_LIMIT) if limit_text else DEFAULT_LIMIT
    except ValueError:
        raise SlackApiFailure("invalid_arguments") from None
    cursor = args.text("cursor")
    try:
        start = int(cursor.removeprefix("offset:")) if cursor else 0
    except ValueError:
        raise SlackApiFailure("invalid_cursor") from None
    page = messages[start : start + limit]
    with_metadata = args.flag("include_all_metadata")
    more = start + limit < len(messages)
    return {
        "messages": [m.to_api(emulator.team, include_metadata=with_metadata) for m in page],
        "has_more": more,
        "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""},
    }


def _window(args: MethodArgs, messages: list[Message]) -> list[Message]:
    oldest = _timestamp(args, "oldest", "invalid_ts_oldest")
    latest = _timestamp(args, "latest", "invalid_ts_latest")
    inclusive = args.flag("inclusive")
    kept = []
    for message in messages:
        ts = float(message.ts)
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            continue
        if latest is not None and (ts > latest or (ts == latest and not inclusive)):
            continue
        kept.append(message)
    return kept


def conversations_history(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    channel = _readable(emulator, args)
    top_level = [
        m for m in emulator.messages(channel.id) if m.thread_ts is None or m.thread_ts == m.ts
    ]
    newest_first = list(reversed(_window(args, top_level)))
    return _page(emulator, args, newest_first)


def conversations_replies(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    channel = _readable(emulator, args)
    ts = args.require_text("ts")
    parent = emulator.message(channel.id, ts)
    if parent is None:
        raise SlackApiFailure("thread_not_found")
    root = parent.thread_ts or parent.ts
    thread = [m for m in emulator.messages(channel.id) if m.ts == root or m.thread_ts == root]
    return _page(emulator, args, _window(args, thread))
