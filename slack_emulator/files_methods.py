"""files.getUploadURLExternal, the upload URL itself, and files.completeUploadExternal: the
three steps slack_sdk's `files_upload_v2` takes. A completed file shared to a channel is a
message there with `files`; the bytes stay readable in `emulator.files` for tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_emulator.arguments import MethodArgs
from slack_emulator.chat_methods import postable_channel
from slack_emulator.errors import SlackApiFailure

if TYPE_CHECKING:
    from slack_emulator.web_api import SlackEmulator

MAX_FILE_BYTES = 1024 * 1024 * 1024  # Slack's 1 GB


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    title: str | None = None
    content: bytes | None = None  # None until the bytes are posted to the upload URL
    completed: bool = False
    shared_to: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": self.length,
            "permalink": f"https://files.slack.example/{self.id}/{self.filename}",
        }


def get_upload_url_external(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    filename = args.require_text("filename")
    try:
        length = int(args.require_text("length"))
    except ValueError:
        raise SlackApiFailure("invalid_length") from None
    if length <= 0:
        raise SlackApiFailure("invalid_length")
    if length > MAX_FILE_BYTES:
        raise SlackApiFailure("file_upload_size_restricted")
    upload = UploadedFile(
        id=emulator.new_id("F"), filename=filename, length=length, alt_txt=args.text("alt_txt")
    )
    emulator.files[upload.id] = upload
    return {"upload_url": emulator.upload_url(upload.id), "file_id": upload.id}


def receive_upload(emulator: SlackEmulator, file_id: str, body: bytes) -> tuple[int, str]:
    """The POST to an upload URL: Slack answers 200 "OK - <bytes>"."""
    upload = emulator.files.get(file_id)
    if upload is None or upload.completed:
        return 404, "file not found"
    if len(body) != upload.length:
        return 400, f"length mismatch: declared {upload.length}, received {len(body)}"
    upload.content = body
    return 200, f"OK - {len(body)}"


def complete_upload_external(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    try:
        entries = args.json_value("files")
    except ValueError:
        raise SlackApiFailure("invalid_arguments") from None
    if not isinstance(entries, list) or not entries:
        raise SlackApiFailure("invalid_arguments")
    uploads = []
    for entry in entries:
        upload = emulator.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
        if upload is None or upload.content is None or upload.completed:
            raise SlackApiFailure("file_not_found")
        uploads.append((upload, entry))
    channel_id = args.text("channel_id") or (args.text("channels") or "").split(",")[0] or None
    thread_ts = args.text("thread_ts")
    channel = postable_channel(emulator, channel_id) if channel_id else None
    if channel is not None and thread_ts and emulator.message(channel.id, thread_ts) is None:
        raise SlackApiFailure("invalid_thread_ts")
    for upload, entry in uploads:
        upload.title = str(entry.get("title") or upload.filename)
        upload.completed = True
        upload.shared_to = channel.id if channel else None
    if channel is not None:
        emulator.append_message(
            channel.id,
            text=args.text("initial_comment") or "",
            blocks=_blocks(args),
            thread_ts=thread_ts,
            files=[upload.to_api() for upload, _ in uploads],
        )
    return {"files": [upload.to_api() for upload, _ in uploads]}


def _blocks(args: MethodArgs) -> list[dict[str, Any]]:
    raw = args.values.get("blocks")
    if raw is None:
        return []
    decoded = json.loads(raw) if isinstance(raw, str) else raw
    return decoded if isinstance(decoded, list) else []
