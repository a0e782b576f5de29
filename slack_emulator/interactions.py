"""Interactions named the way a real Slack client names them: by block_id and action_id.

The driver's `click`/`select` find elements by their labels, which suits tests. A client
such as the sandbox page knows the ids of what it rendered, and sends raw values for every
input (text, an option's value, a user or conversation id...); this module turns those
into the `actions[0]` object and the `state.values` Slack would send.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slack_emulator.surfaces import (
    FoundElement,
    Surface,
    _client_checks,
    find_option,
    iter_interactive_elements,
)

# Raw values a client sends: block_id → action_id → value (str, list of str, or None).
Entries = Mapping[str, Mapping[str, Any]]

# Where each element keeps its value in state.values and in a block_actions action, which
# property holds its starting value, and whether the value is an option object.
_VALUE_KEYS: dict[str, tuple[str, str]] = {
    "plain_text_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "overflow": ("selected_option", ""),
    "checkboxes": ("selected_options", "initial_options"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_external_select": ("selected_options", "initial_options"),
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
}
# Elements whose value is not part of state.values (they only send an action).
_STATELESS = frozenset({"button", "overflow", "workflow_button"})
_LIST_KEYS = frozenset(
    key for key, _initial in _VALUE_KEYS.values() if key.startswith("selected_") and key[-1] == "s"
)


def _elements(surface: Surface) -> Iterator[FoundElement]:
    """Every element a user can use: in actions blocks, accessories and input blocks."""
    yield from iter_interactive_elements(surface.blocks)
    for block in surface.blocks:
        element = block.get("element")
        if block.get("type") == "input" and isinstance(element, dict):
            yield FoundElement(str(block.get("block_id", "")), element)


def find_element(surface: Surface, block_id: str, action_id: str) -> FoundElement:
    """The element with these ids on the surface; LookupError if it is not shown."""
    for found in _elements(surface):
        if found.block_id == block_id and found.element.get("action_id") == action_id:
            return found
    raise LookupError(f"no element {block_id}/{action_id} on this surface")


def _option_by_value(element: dict[str, Any], value: Any) -> dict[str, Any]:
    if not isinstance(value, str):
        raise LookupError(f"an option value must be a string, not {value!r}")
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    if not any(option.get("value") == value for option in options):
        raise LookupError(f"no option with value {value!r}")
    return find_option(element, value)


def element_value(element: dict[str, Any], raw: Any) -> Any:
    """The value as Slack reports it for `raw` sent by the client (LookupError if the
    client sent something the element cannot hold, such as an option it does not show)."""
    kind = str(element.get("type"))
    state_key, _initial = _VALUE_KEYS.get(kind, ("value", "initial_value"))
    if raw is None or raw == "" or raw == []:
        return [] if state_key in _LIST_KEYS else None
    if state_key == "selected_option":
        return _option_by_value(element, raw)
    if state_key == "selected_options":
        if not isinstance(raw, list):
            raise LookupError(f"{kind} takes a list of option values")
        return [_option_by_value(element, item) for item in raw]
    if state_key in _LIST_KEYS:
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise LookupError(f"{kind} takes a list of ids")
        return list(raw)
    if not isinstance(raw, str):
        raise LookupError(f"{kind} takes a string")
    return raw


def state_from_entries(
    surface: Surface,
    entries: Entries | None,
    *,
    enforce_client_checks: bool,
    chosen: tuple[str, str, Any] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """`state.values` from the client's raw entries; elements it sent nothing for keep
    their initial value. `chosen` is (block_id, action_id, value) of a menu just used."""
    entries = entries or {}
    values: dict[str, dict[str, dict[str, Any]]] = {}
    blocks = {str(block.get("block_id", "")): block for block in surface.blocks}
    for found in _elements(surface):
        kind = str(found.element.get("type"))
        if kind in _STATELESS or kind not in _VALUE_KEYS:
            continue
        state_key, initial_key = _VALUE_KEYS[kind]
        action_id = str(found.element.get("action_id", ""))
        sent = entries.get(found.block_id, {})
        if chosen is not None and chosen[:2] == (found.block_id, action_id):
            value = chosen[2]
        elif action_id in sent:
            value = element_value(found.element, sent[action_id])
        else:
            value = found.element.get(initial_key)
        block = blocks.get(found.block_id, {})
        if enforce_client_checks and block.get("type") == "input":
            label = str((block.get("label") or {}).get("text", ""))
            _client_checks(label, found.element, value, optional=bool(block.get("optional")))
        if value is None and state_key in _LIST_KEYS:
            value = []
        values.setdefault(found.block_id, {})[action_id] = {"type": kind, state_key: value}
    return values


def action_object(found: FoundElement, chosen: Any, *, action_ts: str) -> dict[str, Any]:
    """The `actions[0]` of a block_actions payload for using `found` (with `chosen`, the
    converted value picked in a menu)."""
    element = found.element
    kind = str(element.get("type"))
    action: dict[str, Any] = {
        "type": kind,
        "action_id": element.get("action_id"),
        "block_id": found.block_id,
    }
    if kind in ("button", "workflow_button"):
        action["text"] = element.get("text")
        for key in ("value", "style", "url"):
            if key in element:
                action[key] = element[key]
    else:
        state_key, _initial = _VALUE_KEYS.get(kind, ("value", "initial_value"))
        action[state_key] = chosen
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
    action["action_ts"] = action_ts
    return action


def is_stateful(found: FoundElement) -> bool:
    return str(found.element.get("type")) not in _STATELESS
