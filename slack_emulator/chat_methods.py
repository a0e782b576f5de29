"""chat.postMessage, chat.update, chat.postEphemeral and chat.delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_emulator.arguments import MethodArgs
from slack_emulator.block_kit import normalize_blocks, validate_message_blocks
from slack_emulator.errors import SlackApiFailure
from slack_emulator.records import Channel, Message

if TYPE_CHECKING:
    from slack_emulator.web_api import SlackEmulator

# Slack truncates or refuses longer `text`; it answers msg_too_long beyond 40,000 characters.
MAX_TEXT_LENGTH = 40_000


@dataclass(frozen=True)
class MessageContent:
    """What a message-posting call asked to show; None means "not given"."""

    text: str | None
    blocks: list[dict[str, Any]] | None
    attachments: list[Any] | None

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.blocks or self.attachments)


def parse_message_content(args: MethodArgs) -> MessageContent:
    """text / markdown_text / blocks / attachments, checked the way Slack checks them."""
    text = args.text("text")
    markdown_text = args.text("markdown_text")
    if text is not None and markdown_text is not None:
        raise SlackApiFailure("markdown_text_conflict")
    text = text if text is not None else markdown_text
    if text is not None and len(text) > MAX_TEXT_LENGTH:
        raise SlackApiFailure("msg_too_long")
    blocks: list[dict[str, Any]] | None = None
    if "blocks" in args.values and args.values["blocks"] is not None:
        raw_blocks = args.values["blocks"]
        try:
            decoded = args.json_value("blocks")
        except ValueError:
            raise SlackApiFailure("invalid_blocks_format", invalid_payload=raw_blocks) from None
        if not isinstance(decoded, list):
            raise SlackApiFailure("invalid_blocks_format", invalid_payload=decoded)
        errors = validate_message_blocks(decoded)
        if errors:
            raise invalid_blocks(errors, decoded)
        blocks = normalize_blocks(decoded)
    attachments: list[Any] | None = None
    if args.has("attachments"):
        try:
            decoded_attachments = args.json_value("attachments")
        except ValueError:
            raise SlackApiFailure("invalid_attachments") from None
        if not isinstance(decoded_attachments, list):
            raise SlackApiFailure("invalid_attachments")
        attachments = decoded_attachments
    return MessageContent(text=text, blocks=blocks, attachments=attachments)


def invalid_blocks(errors: list[str], payload: Any) -> SlackApiFailure:
    return SlackApiFailure(
        "invalid_blocks",
        extra={
            "errors": errors,
            "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
        },
        invalid_payload=payload,
    )


def postable_channel(emulator: SlackEmulator, reference: str) -> Channel:
    """The channel the bot may post into, or the error Slack gives for it."""
    channel = emulator.resolve_channel(reference)
    # Private channels the bot is not in are invisible to it: Slack says "not found".
    if channel is None or (channel.is_private and emulator.bot.user_id not in channel.members):
        raise SlackApiFailure("channel_not_found")
    if channel.is_archived:
        raise SlackApiFailure("is_archived")
    bot_is_member = emulator.bot.user_id in channel.members
    if not channel.is_im and not bot_is_member and "chat:write.public" not in emulator.scopes:
        raise SlackApiFailure("not_in_channel")
    return channel


def parse_metadata(args: MethodArgs) -> dict[str, Any] | None:
    """`metadata`: {"event_type": str, "event_payload": object}, as Slack requires."""
    if not args.has("metadata"):
        return None
    try:
        metadata = args.json_value("metadata")
    except ValueError:
        raise SlackApiFailure("invalid_metadata_format") from None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackApiFailure("invalid_metadata_schema")
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}


def post_message(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    channel = postable_channel(emulator, args.require_text("channel"))
    content = parse_message_content(args)
    if content.is_empty:
        raise SlackApiFailure("no_text")
    message = emulator.append_message(
        channel.id,
        text=content.text or "",
        blocks=content.blocks or [],
        thread_ts=args.text("thread_ts"),
        attachments=content.attachments,
        metadata=parse_metadata(args),
    )
    return {"channel": channel.id, "ts": message.ts, "message": message.to_api(emulator.team)}


def _bot_message(emulator: SlackEmulator, args: MethodArgs, *, not_mine: str) -> Message:
    # chat.update / chat.delete take a conversation id, never a user id.
    channel = emulator.channels.get(args.require_text("channel"))
    if channel is None or (channel.is_private and emulator.bot.user_id not in channel.members):
        raise SlackApiFailure("channel_not_found")
    message = emulator.message(channel.id, args.require_text("ts"))
    if message is None:
        raise SlackApiFailure("message_not_found")
    if message.bot_id != emulator.bot.bot_id:
        raise SlackApiFailure(not_mine)
    return message


def update_message(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    message = _bot_message(emulator, args, not_mine="cant_update_message")
    content = parse_message_content(args)
    if content.text is None and content.blocks is None and content.attachments is None:
        raise SlackApiFailure("no_text")
    # Slack keeps what the call leaves out: no `blocks` keeps the old blocks, `[]` clears.
    if content.text is not None:
        message.text = content.text
    if content.blocks is not None:
        message.blocks = content.blocks
    if content.attachments is not None:
        message.attachments = content.attachments
    metadata = parse_metadata(args)
    if metadata is not None:
        message.metadata = metadata
    message.edited_ts = emulator.next_ts()
    return {
        "channel": message.channel,
        "ts": message.ts,
        "text": message.text,
        "message": message.to_api(emulator.team),
    }


def post_ephemeral(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    channel = postable_channel(emulator, args.require_text("channel"))
    user_id = args.require_text("user")
    if user_id not in emulator.users or user_id not in _members_for_ephemeral(emulator, channel):
        raise SlackApiFailure("user_not_in_channel")
    content = parse_message_content(args)
    if content.is_empty:
        raise SlackApiFailure("no_text")
    message = emulator.append_message(
        channel.id,
        text=content.text or "",
        blocks=content.blocks or [],
        thread_ts=args.text("thread_ts"),
        attachments=content.attachments,
        ephemeral_to=user_id,
    )
    return {"message_ts": message.ts}


def _members_for_ephemeral(emulator: SlackEmulator, channel: Channel) -> set[str]:
    if channel.is_im or channel.is_private or channel.members - {emulator.bot.user_id}:
        return channel.members
    # A public channel seeded without a member list: treat every user as a member.
    return set(emulator.users)


def delete_message(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    message = _bot_message(emulator, args, not_mine="cant_delete_message")
    emulator.delete_message(message)
    return {"channel": message.channel, "ts": message.ts}
