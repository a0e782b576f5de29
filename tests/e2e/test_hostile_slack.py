"""Issue 11, findings 4, 8 and 10: hostile requests to /slack/events get a quiet, specific
refusal (401 unsigned, 400 unreadable, an ephemeral reply or a notice in place of a modal for
a signed one), never a 500 or a traceback, and change no row."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from commands.ids import ActionId, BlockId, CallbackId
from slack_emulator import message_text
from tests.e2e.test_destination_edits import open_edit
from tests.support.bot import AGENT, RunningBot
from tests.support.crafting import (
    Payload,
    bent,
    click_payload,
    post_command,
    post_interaction,
    post_raw,
    submission_payload,
)
from tests.support.hostile import captured_logs, dump_tables

DEEP = "[" * 50_000 + "]" * 50_000
FORM = "application/x-www-form-urlencoded"
USER_IS_A_NUMBER = '{"type":"block_actions","user":5}'


@pytest.mark.parametrize(
    ("body", "content_type", "headers"),
    [
        (USER_IS_A_NUMBER, "application/json", {}),
        (DEEP, "application/json", {}),
        ("payload=" + quote(DEEP), FORM, {}),
        (USER_IS_A_NUMBER, "application/json", {"x-slack-request-timestamp": "soon"}),
        (USER_IS_A_NUMBER, "application/json", {"x-slack-request-timestamp": "9" * 5000}),
    ],
    ids=["user-5", "deep-json", "deep-form", "timestamp-word", "timestamp-5000-digits"],
)
async def test_unsigned_requests_are_refused_before_anything_parses_them(
    bot: RunningBot, body: str, content_type: str, headers: dict[str, str]
) -> None:
    before = await dump_tables(bot.runtime.db)
    with captured_logs() as logs:
        response = await post_raw(
            bot,
            body,
            content_type=content_type,
            signed=False,
            headers={"x-slack-signature": "v0=" + "0" * 64, **headers},
        )
    assert response.status_code == 401
    assert logs.tracebacks() == []
    assert await dump_tables(bot.runtime.db) == before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (USER_IS_A_NUMBER, "application/json"),
        (DEEP, "application/json"),
        ("payload=" + quote(DEEP), FORM),
        (b"\xff\xfe{}", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"type":"shortcut","callback_id":"x","user":{"id":"U1"}}', "application/json"),
        ('{"type":"block_actions","user":{"id":"U1"},"actions":"x"}', "application/json"),
        (
            '{"type":"event_callback","event":{"type":"app_home_opened","user":{"id":5}}}',
            "application/json",
        ),
        (
            '{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"a"}],"x":'
            + "1" * 5000
            + "}",
            "application/json",
        ),
    ],
    ids=[
        "user-5",
        "deep-json",
        "deep-form",
        "not-utf8",
        "array",
        "unserved-type",
        "actions-string",
        "event-user-object",
        "5000-digit-number",
    ],
)
async def test_signed_but_unreadable_requests_get_400_not_500(
    bot: RunningBot, body: str | bytes, content_type: str
) -> None:
    before = await dump_tables(bot.runtime.db)
    with captured_logs() as logs:
        response = await post_raw(bot, body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["ok"] is False and response.json()["error"]
    assert logs.tracebacks() == []
    assert await dump_tables(bot.runtime.db) == before


async def _ephemeral_after(bot: RunningBot, count: int) -> str:
    replies = await bot.ephemeral_replies(count + 1)
    return message_text(replies[-1])


@pytest.mark.parametrize(
    "value",
    ["{vid}|²|sms", "{vid}|" + "9" * 5000 + "|sms", "{vid}|" + "9" * 25 + "|sms", "{vid}|1|fax"],
    ids=["superscript-two", "5000-digits", "25-digits", "unknown-channel"],
)
async def test_crafted_button_values_get_an_ephemeral_refusal(bot: RunningBot, value: str) -> None:
    card = await bot.open_card("+15135557611")
    await bot.ephemeral_replies(1)  # "Opened the verification card…"
    payload = click_payload(bot, card, "Send SMS")
    verification_id = payload["actions"][0]["value"].split("|")[0]
    crafted = value.format(vid=verification_id)
    shown = len(bot.driver.ephemeral_messages(AGENT))
    before = await dump_tables(bot.runtime.db)
    with captured_logs() as logs:
        response = await post_interaction(
            bot, bent(payload, lambda p: p["actions"][0].update(value=crafted))
        )
        reply = await _ephemeral_after(bot, shown)
    assert response.status_code == 200
    assert "PIN Verify could not read that click: " in reply
    assert "Nothing was changed" in reply
    assert logs.tracebacks() == []
    assert await dump_tables(bot.runtime.db) == before


async def test_a_pick_naming_a_25_digit_contact_is_refused_quietly(bot: RunningBot) -> None:
    response = await bot.verify("Smith")
    assert response.status_code == 200
    pick_list = await bot.driver.wait_for(
        lambda: [m for m in bot.driver.ephemeral_messages(AGENT) if "pick" in m.text]
    )
    payload = click_payload(bot, pick_list[-1], "Verify John Smith")
    shown = len(bot.driver.ephemeral_messages(AGENT))
    before = await dump_tables(bot.runtime.db)
    with captured_logs() as logs:
        response = await post_interaction(
            bot, bent(payload, lambda p: p["actions"][0].update(value="9" * 25))
        )
        await bot.driver.wait_for(lambda: "no longer available" in message_text(pick_list[-1]))
    assert response.status_code == 200
    assert len(bot.driver.ephemeral_messages(AGENT)) == shown
    assert logs.tracebacks() == []
    assert await dump_tables(bot.runtime.db) == before


def _value(payload: Payload, value: Any) -> None:
    for inputs in payload["view"]["state"]["values"].values():
        for typed in inputs.values():
            typed["value"] = value


MODAL_BENDS: dict[str, Any] = {
    "metadata-superscript": lambda p: p["view"].update(private_metadata="abc|²|sms"),
    "metadata-5000-digits": lambda p: p["view"].update(private_metadata="a|" + "9" * 5000 + "|sms"),
    "metadata-empty": lambda p: p["view"].update(private_metadata=""),
    "metadata-number": lambda p: p["view"].update(private_metadata=12),
    "value-number": lambda p: _value(p, 5),
    "value-object": lambda p: _value(p, {"x": 1}),
    "value-nul": lambda p: _value(p, "+1513\x005550100"),
    "value-surrogate": lambda p: _value(p, "\ud800"),
    "value-too-long": lambda p: _value(p, "5" * 5000),
    "state-list": lambda p: p["view"].update(state=[]),
    "values-string": lambda p: p["view"]["state"].update(values="x"),
    "user-missing": lambda p: p.pop("user"),
    "user-id-number": lambda p: p["user"].update(id=5),
    "view-missing": lambda p: p.pop("view"),
    "callback-object": lambda p: p["view"].update(callback_id={"a": 1}),
}


@pytest.mark.parametrize("callback_id", [CallbackId.EDIT_DESTINATION, CallbackId.CREATE_TICKET])
@pytest.mark.parametrize("bend", list(MODAL_BENDS))
async def test_malformed_modal_submissions_get_a_notice_not_a_500(
    bot: RunningBot, callback_id: CallbackId, bend: str
) -> None:
    card = await bot.open_card("+15135557611")
    view = await open_edit(bot, card)
    payload = submission_payload(bot, view)
    payload["view"]["callback_id"] = callback_id.value
    payload["view"]["state"]["values"] = {
        BlockId.DESTINATION_VALUE: {
            ActionId.DESTINATION_INPUT: {"type": "plain_text_input", "value": "+15135550100"}
        },
        BlockId.EDIT_REASON: {
            ActionId.EDIT_REASON_INPUT: {"type": "plain_text_input", "value": "lost phone"}
        },
    }
    crafted = bent(payload, MODAL_BENDS[bend])
    before = await dump_tables(bot.runtime.db)
    with captured_logs() as logs:
        response = await post_interaction(bot, crafted)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        answer = response.json()
        assert answer["response_action"] == "update"
        assert "could not read this form" in json.dumps(answer["view"])
    assert logs.tracebacks() == []
    assert await dump_tables(bot.runtime.db) == before


async def test_a_nul_byte_in_verify_text_gets_an_ephemeral_refusal(bot: RunningBot) -> None:
    before = await dump_tables(bot.runtime.db)
    with captured_logs() as logs:
        response = await post_command(bot, "Jane\x00Doe")
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert "could not read that command: it contains a NUL byte" in answer["text"]
    assert logs.tracebacks() == []
    assert await dump_tables(bot.runtime.db) == before


async def test_control_characters_in_verify_text_are_stripped(bot: RunningBot) -> None:
    card = await bot.open_card("Jane\x07 \x1bDoe\x7f")
    assert "Jane Doe" in message_text(card)
