"""Block Kit checks and the small rewrites Slack applies to blocks it stores.

Validation uses slack_sdk's models (`Block.parse`, `View`, `to_dict()` which runs every
validator recursively) and adds what the models let through but real Slack refuses:
block types or properties the models do not know (they drop them silently), strings where
a text object is required, duplicate block_ids, duplicate action_ids in one block, and the
per-surface block count. Error strings follow Slack's "<reason> [json-pointer:/path]" form.
"""

from __future__ import annotations

import copy
import secrets
import string
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
MODAL_STACK_LIMIT = 3

# What slack_sdk's model constructors and validators raise on malformed input: their own
# error, or Python's when a dict has the wrong shape (unexpected keyword, missing key...).
MODEL_ERRORS = (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError)
# Properties Slack accepts on a view that slack_sdk's View model does not list.
EXTRA_VIEW_PROPERTIES = frozenset({"submit_disabled"})
# slack_sdk drops an empty `elements` list instead of refusing it; Slack refuses it.
_BLOCKS_NEEDING_ELEMENTS = frozenset({"actions", "context"})
# Text objects Slack requires to be plain_text (it refuses mrkdwn there).
_PLAIN_TEXT_ONLY_KEYS = frozenset(
    {"label", "placeholder", "hint", "title", "confirm", "deny", "submit", "close"}
)
_PLAIN_TEXT_ONLY_PARENTS = frozenset({"header", "button"})
# Elements that carry an action_id; Slack generates one when the app leaves it out.
_ELEMENT_CONTAINER_KEYS = ("accessory", "element")


def validate_message_blocks(blocks: Any, *, pointer: str = "/blocks") -> list[str]:
    """Errors real Slack would report for `blocks` on a message (empty list: valid)."""
    return _validate_block_list(blocks, limit=MESSAGE_BLOCK_LIMIT, pointer=pointer)


def validate_view(view: Any, *, allowed_types: frozenset[str]) -> list[str]:
    """Errors real Slack would report for a view payload of one of `allowed_types`."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    view_type = view.get("type")
    if view_type not in allowed_types:
        expected = " or ".join(sorted(allowed_types))
        return [f"view type must be {expected} [json-pointer:/view/type]"]
    errors: list[str] = []
    try:
        View(**copy.deepcopy(view)).to_dict()
    except MODEL_ERRORS as exc:
        errors.append(f"{exc} [json-pointer:/view]")
    allowed = set(View.attributes) | EXTRA_VIEW_PROPERTIES
    errors.extend(
        f"invalid additional property: {key} [json-pointer:/view]"
        for key in view
        if key not in allowed
    )
    for key in ("title", "submit", "close"):
        if key in view and _text_type(view[key]) != "plain_text":
            errors.append(f"must be a plain_text object [json-pointer:/view/{key}]")
    if view_type == "modal":
        if not view.get("title"):
            errors.append("must provide an object [json-pointer:/view/title]")
        has_input = any(
            isinstance(block, dict) and block.get("type") == "input"
            for block in view.get("blocks") or []
        )
        if has_input and not view.get("submit"):
            errors.append("must provide a submit button with input blocks [json-pointer:/view]")
    errors.extend(
        _validate_block_list(view.get("blocks"), limit=VIEW_BLOCK_LIMIT, pointer="/view/blocks")
    )
    return errors


def _validate_block_list(blocks: Any, *, limit: int, pointer: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")
    seen_block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        here = f"{pointer}/{index}"
        if not isinstance(block, dict):
            errors.append(f"must be an object [json-pointer:{here}]")
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                errors.append(f"duplicate block_id: {block_id} [json-pointer:{here}/block_id]")
            seen_block_ids.add(block_id)
        errors.extend(_validate_block(block, here))
    return errors


def _validate_block(block: dict[str, Any], pointer: str) -> list[str]:
    try:
        # deepcopy: some slack_sdk constructors pop keys from the dicts they are given.
        parsed = Block.parse(copy.deepcopy(block))
    except MODEL_ERRORS as exc:
        return [f"{exc} [json-pointer:{pointer}]"]
    if parsed is None:
        return [f"unsupported block type: {block.get('type')!r} [json-pointer:{pointer}]"]
    try:
        rendered = parsed.to_dict()
    except MODEL_ERRORS as exc:
        return [f"{exc} [json-pointer:{pointer}]"]
    if rendered.get("type") != block.get("type"):
        return [f"block type changed when parsed [json-pointer:{pointer}]"]
    errors = list(_unknown_properties(block, parsed, pointer))
    errors.extend(_duplicate_action_ids(block, pointer))
    if block.get("type") in _BLOCKS_NEEDING_ELEMENTS and not block.get("elements"):
        errors.append(f"must provide at least 1 item [json-pointer:{pointer}/elements]")
    return errors


def _unknown_properties(raw: dict[str, Any], parsed: JsonObject, pointer: str) -> Iterator[str]:
    """Properties in `raw` that the parsed model neither declares nor renders.

    Some models (Option, ConfirmObject) declare no `attributes` and build their JSON by
    hand, so the rendered keys count as declared too.
    """
    try:
        rendered_keys = set(parsed.to_dict())
    except MODEL_ERRORS:
        rendered_keys = set()
    allowed = set(parsed.attributes) | rendered_keys | {"type"}
    for key, value in raw.items():
        if key not in allowed:
            yield f"invalid additional property: {key} [json-pointer:{pointer}]"
            continue
        if _needs_plain_text(raw, key) and _text_type(value) not in (None, "plain_text"):
            yield f"must be a plain_text object [json-pointer:{pointer}/{key}]"
        yield from _compare_value(value, getattr(parsed, key, None), f"{pointer}/{key}")


def _text_type(value: Any) -> str | None:
    return value.get("type") if isinstance(value, dict) else None


def _needs_plain_text(parent: dict[str, Any], key: str) -> bool:
    # slack_sdk accepts mrkdwn anywhere a text object goes; Slack only in some places.
    if key == "text":
        return parent.get("type") in _PLAIN_TEXT_ONLY_PARENTS
    return key in _PLAIN_TEXT_ONLY_KEYS


def _compare_value(raw: Any, parsed: Any, pointer: str) -> Iterator[str]:
    if isinstance(parsed, JsonObject):
        if isinstance(raw, dict):
            yield from _unknown_properties(raw, parsed, pointer)
        else:
            # e.g. "text": "hi" where a text object is required; slack_sdk coerces it.
            yield f"must be an object [json-pointer:{pointer}]"
    elif isinstance(parsed, list | tuple) and isinstance(raw, list):
        if len(parsed) != len(raw):
            yield f"contains unsupported items [json-pointer:{pointer}]"
            return
        for index, (raw_item, parsed_item) in enumerate(zip(raw, parsed, strict=True)):
            if parsed_item is None:
                yield f"unsupported element [json-pointer:{pointer}/{index}]"
            else:
                yield from _compare_value(raw_item, parsed_item, f"{pointer}/{index}")


def _duplicate_action_ids(block: dict[str, Any], pointer: str) -> Iterator[str]:
    seen: set[str] = set()
    for element in block.get("elements") or []:
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                yield f"duplicate action_id: {action_id} [json-pointer:{pointer}/elements]"
            seen.add(action_id)


def _random_id(length: int = 5) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def normalize_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of valid `blocks` as Slack stores and returns them.

    Slack fills in a random block_id and action_id where the app gave none, and marks
    plain_text objects with `emoji: true`; the app sees these values in interaction
    payloads, so an app that relies on positions instead of ids breaks here as it would
    in Slack.
    """
    stored: list[dict[str, Any]] = copy.deepcopy(blocks)
    for block in stored:
        block.setdefault("block_id", _random_id())
        interactive: list[Any] = [block.get(key) for key in _ELEMENT_CONTAINER_KEYS]
        if block.get("type") == "actions":
            interactive.extend(block.get("elements") or [])
        for element in interactive:
            if isinstance(element, dict) and element.get("type") not in (None, "image"):
                element.setdefault("action_id", _random_id())
        _mark_plain_text_emoji(block)
    return stored


def _mark_plain_text_emoji(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "plain_text" and isinstance(node.get("text"), str):
            node.setdefault("emoji", True)
        for value in node.values():
            _mark_plain_text_emoji(value)
    elif isinstance(node, list):
        for item in node:
            _mark_plain_text_emoji(item)
