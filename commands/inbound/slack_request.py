"""The gate every HTTP request to /slack/events passes, after its signature and before Bolt:
the body is read exactly as Bolt will read it, but bounded (depth, no NUL or broken Unicode)
and validated against the payload models, so Bolt's routing only ever sees shapes it handles.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from pydantic import TypeAdapter, ValidationError

from commands.inbound.json_bounds import UnreadableJson, load_json
from commands.inbound.refusals import SlackRefusal, refusal_for
from commands.inbound.slack_payloads import (
    BlockActions,
    EventCallback,
    RateLimited,
    SlashCommand,
    UrlVerification,
    ViewClosed,
    ViewSubmission,
)
from commands.inbound.text import strings_in, unreadable_reason

_BY_TYPE: dict[str, TypeAdapter[Any]] = {
    "block_actions": TypeAdapter(BlockActions),
    "view_submission": TypeAdapter(ViewSubmission),
    "view_closed": TypeAdapter(ViewClosed),
    "event_callback": TypeAdapter(EventCallback),
    "url_verification": TypeAdapter(UrlVerification),
    "app_rate_limited": TypeAdapter(RateLimited),
}
_SLASH = TypeAdapter(SlashCommand)


class SlackRequestRefused(Exception):
    """The request is signed but not one PIN Verify serves; `refusal` is how to answer."""

    def __init__(self, refusal: SlackRefusal, reason: str) -> None:
        super().__init__(reason)
        self.refusal = refusal
        self.reason = reason


def read_slack_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """The payload Bolt will parse from `raw`, checked; raises `SlackRequestRefused`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _refused(None, "the body is not UTF-8") from None
    try:
        payload = parse_like_bolt(text, content_type)
    except UnreadableJson as exc:
        raise _refused(None, str(exc)) from None
    if not isinstance(payload, dict) or not payload:
        raise _refused(None, "the body is not a Slack payload")
    for string in strings_in(payload):
        reason = unreadable_reason(string)
        if reason is not None:
            raise _refused(payload, f"it contains {reason}")
    check_shape(payload)
    return payload


def check_shape(payload: dict[str, Any]) -> None:
    """Raise `SlackRequestRefused` unless `payload` fits the model of its kind."""
    kind = payload.get("type")
    if "command" in payload:
        adapter = _SLASH if kind is None else None
    else:
        adapter = _BY_TYPE.get(kind) if isinstance(kind, str) else None
    if adapter is None:
        raise _refused(payload, "it is not a kind of request PIN Verify answers")
    try:
        adapter.validate_python(payload)
    except ValidationError as exc:
        raise _refused(payload, f"{field_path(exc)} is not what Slack sends") from None


def parse_like_bolt(text: str, content_type: str | None) -> Any:
    """`slack_bolt.request.internals.parse_body`, with the JSON parts bounded."""
    if not text:
        return {}
    media_type = content_type.split(";")[0] if content_type else None
    if media_type == "application/json" or text.startswith("{"):
        return load_json(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return load_json(payload) if payload is not None else {}
    return dict(parse_qsl(text, keep_blank_values=True))


def field_path(error: ValidationError) -> str:
    """Where the first problem is, in the model's own field names (never the payload's keys or
    values, which are the sender's words): e.g. "the field 'actions.value'"."""
    first = error.errors(include_url=False, include_input=False)[0]
    parts: list[str] = []
    for part in first["loc"]:
        if isinstance(part, int) or not str(part).isidentifier():
            continue
        parts.append(str(part))
        if part == "values":
            break  # below are block and action ids: the sender's words
    return f"the field '{'.'.join(parts)}'" if parts else "the payload"


def _refused(payload: dict[str, Any] | None, reason: str) -> SlackRequestRefused:
    return SlackRequestRefused(refusal_for(payload, reason), reason)
