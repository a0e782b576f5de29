"""Elements named by ids, raw client values → Slack's actions[0] and state.values."""

from __future__ import annotations

from typing import Any

import pytest

from slack_emulator import ClientValidationError, StoredView
from slack_emulator.interactions import (
    Entries,
    action_object,
    element_value,
    find_element,
    state_from_entries,
)


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


SIZES = [option("Small", "s"), option("Large", "l")]
BLOCKS: list[dict[str, Any]] = [
    {
        "type": "input",
        "block_id": "note",
        "label": plain("Note"),
        "element": {"type": "plain_text_input", "action_id": "text", "max_length": 5},
    },
    {
        "type": "input",
        "block_id": "size",
        "optional": True,
        "label": plain("Size"),
        "element": {
            "type": "static_select",
            "action_id": "pick",
            "options": SIZES,
            "initial_option": SIZES[0],
        },
    },
    {
        "type": "input",
        "block_id": "flags",
        "optional": True,
        "label": plain("Flags"),
        "element": {"type": "checkboxes", "action_id": "on", "options": SIZES},
    },
    {
        "type": "actions",
        "block_id": "row",
        "elements": [
            {"type": "users_select", "action_id": "who", "placeholder": plain("Who")},
            {"type": "button", "action_id": "go", "text": plain("Go"), "value": "v1"},
            {"type": "overflow", "action_id": "more", "options": SIZES},
            {"type": "datepicker", "action_id": "when", "initial_date": "2026-01-02"},
        ],
    },
]


def view() -> StoredView:
    return StoredView(
        id="V1",
        user_id="U1",
        payload={"type": "modal", "blocks": BLOCKS},
        hash="h",
        root_view_id="V1",
    )


def test_state_keeps_initial_values_and_converts_what_the_client_sent() -> None:
    entries: Entries = {"note": {"text": "hi"}, "flags": {"on": ["l"]}, "row": {"who": "U2"}}
    state = state_from_entries(view(), entries, enforce_client_checks=True)
    assert state == {
        "note": {"text": {"type": "plain_text_input", "value": "hi"}},
        "size": {"pick": {"type": "static_select", "selected_option": SIZES[0]}},
        "flags": {"on": {"type": "checkboxes", "selected_options": [SIZES[1]]}},
        "row": {
            "who": {"type": "users_select", "selected_user": "U2"},
            "when": {"type": "datepicker", "selected_date": "2026-01-02"},
        },
    }


def test_client_checks_run_on_submission_only() -> None:
    with pytest.raises(ClientValidationError, match="'Note': This field is required"):
        state_from_entries(view(), {}, enforce_client_checks=True)
    with pytest.raises(ClientValidationError, match="'Note': at most 5 characters"):
        state_from_entries(view(), {"note": {"text": "too long"}}, enforce_client_checks=True)
    state = state_from_entries(view(), {}, enforce_client_checks=False)
    assert state["note"]["text"]["value"] is None
    assert state["flags"]["on"]["selected_options"] == []


def test_values_the_element_cannot_hold_are_refused() -> None:
    select = find_element(view(), "size", "pick").element
    with pytest.raises(LookupError, match="no option with value 'xl'"):
        element_value(select, "xl")
    with pytest.raises(LookupError, match="takes a list"):
        element_value(find_element(view(), "flags", "on").element, "s")
    with pytest.raises(LookupError, match="no element row/nope"):
        find_element(view(), "row", "nope")


def test_action_objects_look_like_slacks() -> None:
    button = action_object(find_element(view(), "row", "go"), None, action_ts="1.5")
    assert button == {
        "type": "button",
        "action_id": "go",
        "block_id": "row",
        "text": plain("Go"),
        "value": "v1",
        "action_ts": "1.5",
    }
    overflow = find_element(view(), "row", "more")
    menu = action_object(overflow, element_value(overflow.element, "l"), action_ts="2.0")
    assert menu["selected_option"] == SIZES[1] and menu["type"] == "overflow"
    who = find_element(view(), "row", "who")
    picked = action_object(who, element_value(who.element, "U9"), action_ts="3.0")
    assert picked["selected_user"] == "U9" and picked["placeholder"] == plain("Who")
