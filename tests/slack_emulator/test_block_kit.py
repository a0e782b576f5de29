"""Block Kit checks: what slack_sdk's models let through but Slack refuses, and back."""

from __future__ import annotations

from typing import Any

from slack_emulator.block_kit import normalize_blocks, validate_message_blocks, validate_view


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


GOOD_CARD: list[dict[str, Any]] = [
    {"type": "header", "text": plain("Verify caller")},
    section("*Jane*", fields=[{"type": "mrkdwn", "text": "Phone: •••• 1234"}]),
    {"type": "divider"},
    {
        "type": "input",
        "block_id": "code",
        "optional": True,
        "label": plain("Code"),
        "hint": plain("Six digits"),
        "element": {"type": "plain_text_input", "action_id": "code", "max_length": 10},
    },
    {
        "type": "actions",
        "elements": [
            {"type": "button", "text": plain("Send SMS"), "action_id": "sms", "value": "v1"},
            {
                "type": "static_select",
                "action_id": "via",
                "placeholder": plain("Send by"),
                "options": [{"text": plain("SMS"), "value": "sms"}],
            },
        ],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Expires in 10 min"}]},
]


def test_a_realistic_card_is_valid() -> None:
    assert validate_message_blocks(GOOD_CARD) == []


def test_refuses_what_slack_refuses() -> None:
    bad = [
        {"type": "section", "text": "a bare string"},
        {"type": "sectoin", "text": plain("typo")},
        section("x", acessory={}),
        {"type": "header", "text": {"type": "mrkdwn", "text": "headers are plain"}},
        {"type": "actions", "elements": []},
        {"type": "divider", "block_id": "same"},
        {"type": "divider", "block_id": "same"},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": plain("A"), "action_id": "dup"},
                {"type": "button", "text": plain("B"), "action_id": "dup"},
            ],
        },
    ]

    errors = validate_message_blocks(bad)

    pointers = [error.rsplit("[json-pointer:", 1)[1].rstrip("]") for error in errors]
    assert pointers == [
        "/blocks/0/text",
        "/blocks/1",
        "/blocks/2",
        "/blocks/3/text",
        "/blocks/4/elements",
        "/blocks/6/block_id",
        "/blocks/7/elements",
    ]


def test_message_block_limit_is_fifty() -> None:
    assert validate_message_blocks([{"type": "divider"}] * 50) == []
    assert "no more than 50" in validate_message_blocks([{"type": "divider"}] * 51)[0]


def test_modal_rules() -> None:
    modal_types = frozenset({"modal"})
    with_input = {
        "type": "modal",
        "title": plain("Settings"),
        "blocks": [GOOD_CARD[3]],
    }

    assert validate_view({**with_input, "submit": plain("Save")}, allowed_types=modal_types) == []
    assert any("submit" in e for e in validate_view(with_input, allowed_types=modal_types))
    assert validate_view({**with_input, "callbak_id": "x"}, allowed_types=modal_types)
    assert validate_view({"type": "home", "blocks": [GOOD_CARD[0]]}, allowed_types=modal_types)


def test_normalize_fills_ids_like_slack_without_touching_the_input() -> None:
    stored = normalize_blocks(GOOD_CARD)

    assert "block_id" not in GOOD_CARD[0]
    assert all(isinstance(block["block_id"], str) for block in stored)
    assert stored[3]["block_id"] == "code"
    assert stored[0]["text"]["emoji"] is True
    assert validate_message_blocks(stored) == []
