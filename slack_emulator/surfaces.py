"""Reading Block Kit surfaces (messages, modals, home tabs) the way a person does: by the
labels they show. Used by the driver to click and type, and by tests to assert."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from slack_emulator.records import Message


class Surface(Protocol):
    """Anything with blocks: an emulator `Message` or `StoredView`."""

    @property
    def blocks(self) -> list[dict[str, Any]]: ...


class ClientValidationError(ValueError):
    """The Slack client would not send this: a required field is empty, a number is not
    a number, a value is too long... (Slack checks these before the app sees anything)."""


@dataclass(frozen=True)
class FoundElement:
    block_id: str
    element: dict[str, Any]


def _plain(text_object: Any) -> str:
    if isinstance(text_object, dict) and isinstance(text_object.get("text"), str):
        return str(text_object["text"])
    return ""


def iter_interactive_elements(blocks: list[dict[str, Any]]) -> Iterator[FoundElement]:
    """Elements in actions blocks and section accessories (not input blocks)."""
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                yield FoundElement(block_id, element)
        accessory = block.get("accessory")
        if block.get("type") == "section" and isinstance(accessory, dict):
            yield FoundElement(block_id, accessory)


def find_button_labels(surface: Surface) -> list[str]:
    """The visible text of every button, in display order."""
    return [
        _plain(found.element.get("text"))
        for found in iter_interactive_elements(surface.blocks)
        if found.element.get("type") == "button"
    ]


def find_button(surface: Surface, label: str) -> FoundElement:
    for found in iter_interactive_elements(surface.blocks):
        if found.element.get("type") == "button" and _plain(found.element.get("text")) == label:
            return found
    raise LookupError(f"no button labelled {label!r}; buttons: {find_button_labels(surface)}")


def find_select(surface: Surface, placeholder_or_label: str) -> FoundElement:
    """A static_select by its placeholder, or an overflow menu by its section's text."""
    candidates: list[str] = []
    for block in surface.blocks:
        for found in iter_interactive_elements([block]):
            kind = found.element.get("type")
            if kind == "static_select":
                name = _plain(found.element.get("placeholder"))
            elif kind == "overflow":
                name = _plain(block.get("text"))
            else:
                continue
            if name == placeholder_or_label:
                return found
            candidates.append(name)
    raise LookupError(f"no menu named {placeholder_or_label!r}; menus: {candidates}")


def find_option(element: dict[str, Any], option_text: str) -> dict[str, Any]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if _plain(option.get("text")) == option_text or option.get("value") == option_text:
            return dict(option)
    shown = [_plain(option.get("text")) for option in options]
    raise LookupError(f"no option {option_text!r}; options: {shown}")


def input_blocks(surface: Surface) -> list[dict[str, Any]]:
    return [block for block in surface.blocks if block.get("type") == "input"]


def input_labels(surface: Surface) -> list[str]:
    return [_plain(block.get("label")) for block in input_blocks(surface)]


def message_text(surface: Surface) -> str:
    """Every piece of text in the blocks (headers, sections, fields, context, buttons,
    labels...), one per line; a message without blocks gives its `text`."""
    if isinstance(surface, Message) and not surface.blocks:
        return surface.text
    pieces: list[str] = []
    _collect_text(surface.blocks, pieces)
    return "\n".join(pieces)


def _collect_text(node: Any, pieces: list[str]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            pieces.append(node["text"])
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                _collect_text(value, pieces)
    elif isinstance(node, list):
        for item in node:
            _collect_text(item, pieces)


# What each input element reports in state.values, and which property holds its start value.
_STATE_KEYS: dict[str, tuple[str, str]] = {
    "plain_text_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "static_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "checkboxes": ("selected_options", "initial_options"),
    "multi_static_select": ("selected_options", "initial_options"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def build_state_values(
    surface: Surface,
    typed: Mapping[str, str] | None,
    *,
    enforce_client_checks: bool,
    chosen: tuple[str, str, Any] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """`state.values` keyed block_id → action_id, as Slack sends it: every input block,
    plus stateful elements (selects, pickers...) in actions blocks and accessories.

    `typed` maps an input's label to what the user entered (for selects: the option's
    text or value). Inputs not typed into keep their initial value, else null. `chosen`
    is (block_id, action_id, value) of a menu just used. With `enforce_client_checks`
    (modal submission) the client's own checks run first.
    """
    typed = dict(typed or {})
    unknown = set(typed) - set(input_labels(surface))
    if unknown:
        raise LookupError(f"no input labelled {sorted(unknown)}; inputs: {input_labels(surface)}")
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block in input_blocks(surface):
        element: dict[str, Any] = block.get("element") or {}
        kind = str(element.get("type"))
        label = _plain(block.get("label"))
        state_key, initial_key = _STATE_KEYS.get(kind, ("value", "initial_value"))
        entered = typed.get(label)
        if entered is None:
            value = element.get(initial_key)
        elif state_key in ("selected_option", "selected_options"):
            option = find_option(element, entered)
            value = [option] if state_key == "selected_options" else option
        else:
            value = entered
        if enforce_client_checks:
            _client_checks(label, element, value, optional=bool(block.get("optional")))
        if value is None and state_key == "selected_options":
            value = []
        action_id = str(element.get("action_id", ""))
        values[str(block.get("block_id", ""))] = {action_id: {"type": kind, state_key: value}}
    for found in iter_interactive_elements(surface.blocks):
        kind = str(found.element.get("type"))
        if kind not in _STATE_KEYS:
            continue  # buttons and overflow menus hold no state
        state_key, initial_key = _STATE_KEYS[kind]
        action_id = str(found.element.get("action_id", ""))
        value = found.element.get(initial_key)
        if chosen is not None and chosen[:2] == (found.block_id, action_id):
            value = chosen[2]
        values.setdefault(found.block_id, {})[action_id] = {"type": kind, state_key: value}
    return values


def _client_checks(label: str, element: dict[str, Any], value: Any, *, optional: bool) -> None:
    if value in (None, "", []):
        if not optional:
            raise ClientValidationError(f"{label!r}: This field is required.")
        return
    kind = element.get("type")
    if isinstance(value, str) and kind == "plain_text_input":
        min_length = element.get("min_length")
        max_length = element.get("max_length")
        if isinstance(min_length, int) and len(value) < min_length:
            raise ClientValidationError(f"{label!r}: needs at least {min_length} characters")
        if isinstance(max_length, int) and len(value) > max_length:
            raise ClientValidationError(f"{label!r}: at most {max_length} characters")
    if isinstance(value, str) and kind == "number_input":
        try:
            number = float(value)
        except ValueError:
            raise ClientValidationError(f"{label!r}: enter a number") from None
        if not element.get("is_decimal_allowed") and not number.is_integer():
            raise ClientValidationError(f"{label!r}: enter a whole number")
    if isinstance(value, str) and kind == "email_text_input" and not _EMAIL.match(value):
        raise ClientValidationError(f"{label!r}: enter a valid email address")
