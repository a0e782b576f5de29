"""response_url: the per-interaction webhook Slack hands the app with commands and actions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_emulator.arguments import MethodArgs
from slack_emulator.chat_methods import parse_message_content
from slack_emulator.errors import SlackApiFailure
from slack_emulator.records import Message

if TYPE_CHECKING:
    from slack_emulator.workspace import Workspace

# Slack: "You can use a response_url five times within 30 minutes."
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60


@dataclass
class ResponseUrlTarget:
    """Where a response_url posts: the user and channel of the interaction, and the
    message it came from (None for slash commands)."""

    channel_id: str
    user_id: str
    origin: Message | None
    issued_at: float
    uses: int = 0
    # What this URL posted last; slash-command URLs replace or delete that one.
    last_posted: Message | None = None


class ResponseUrlRegistry:
    def __init__(self) -> None:
        self._targets: dict[str, ResponseUrlTarget] = {}

    def mint(self, target: ResponseUrlTarget) -> str:
        """A new unguessable token for `target` (the caller builds the URL around it)."""
        token = secrets.token_urlsafe(18)
        self._targets[token] = target
        return token

    def get(self, token: str) -> ResponseUrlTarget | None:
        return self._targets.get(token)


def refusal_for(target: ResponseUrlTarget | None, now: float) -> str | None:
    """Why Slack would refuse a post to this URL before reading it, if it would."""
    if target is None:
        return "invalid_token"
    if now - target.issued_at > RESPONSE_URL_TTL_SECONDS:
        return "expired_url"
    if target.uses >= RESPONSE_URL_MAX_USES:
        return "used_url"
    return None


def deliver_response(workspace: Workspace, target: ResponseUrlTarget, body: Any) -> None:
    """Apply one response_url post, as Slack does; raises SlackApiFailure if refused.

    Default: a new ephemeral message for the user. `response_type: in_channel` posts for
    everyone; `replace_original` rewrites the originating message (ephemeral or not) in
    place; `delete_original` removes it.
    """
    if not isinstance(body, dict):
        raise SlackApiFailure("invalid_payload")
    args = MethodArgs(body)
    original = target.origin or target.last_posted
    if original is not None and not workspace.is_live(original):
        original = None
    if args.flag("delete_original"):
        if original is None:
            raise SlackApiFailure("message_not_found")
        workspace.delete_message(original)
        return
    content = parse_message_content(args)
    if content.is_empty:
        raise SlackApiFailure("no_text")
    if args.flag("replace_original") and original is not None:
        # A replacement is the whole message: anything not given is gone.
        original.text = content.text or ""
        original.blocks = content.blocks or []
        original.attachments = content.attachments
        return
    in_channel = args.text("response_type") == "in_channel"
    target.last_posted = workspace.append_message(
        target.channel_id,
        text=content.text or "",
        blocks=content.blocks or [],
        thread_ts=args.text("thread_ts"),
        attachments=content.attachments,
        ephemeral_to=None if in_channel else target.user_id,
    )
