"""Property-based fuzzing of everything Slack sends (issue 11): slash text, block_actions and
view_submission payloads (the card's and both modals': destination edit and PIN templates),
signed and unsigned. For every example: no 500, no traceback in any log, and a refused
request changes no row. Example counts: tests/fuzz/conftest.py (PINVERIFY_FUZZ_PROFILE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.ids import ActionId, BlockId, CallbackId
from tests.e2e.test_destination_edits import open_edit
from tests.fuzz.harness import Outcome, app_idle, observe
from tests.fuzz.strategies import broken, texts
from tests.support.bot import AGENT, BotFactory, RunningBot
from tests.support.crafting import (
    click_payload,
    post_command,
    post_interaction,
    submission_payload,
)
from tests.support.hostile import Records, captured_logs


@pytest.fixture
async def fuzzed_bot(running_bot: BotFactory) -> AsyncIterator[tuple[RunningBot, Records]]:
    with captured_logs() as logs:
        async with running_bot(env={"PINVERIFY_ADMINS": AGENT}) as bot:
            yield bot, logs
            await app_idle()
        assert logs.tracebacks() == []


def check(outcome: Outcome) -> None:
    assert outcome.response.status_code != 500, outcome.response.text
    if outcome.refused:
        assert not outcome.changed, "a refused request changed a row"


@given(text=texts(surrogates=False, max_size=400), signed=st.booleans())
async def test_slash_text(fuzzed_bot: tuple[RunningBot, Records], text: str, signed: bool) -> None:
    bot, logs = fuzzed_bot
    outcome = await observe(bot, post_command(bot, text, signed=signed))
    check(outcome)
    if not signed:
        assert outcome.response.status_code == 401 and not outcome.changed
    assert logs.tracebacks() == []


_FIRST_CARD: dict[int, dict[str, dict[str, Any]]] = {}


async def _card_payloads(bot: RunningBot) -> dict[str, dict[str, Any]]:
    """The first card's clicks, drawn once per app (examples that get through change the
    card, and then the buttons drawn are others)."""
    if id(bot) not in _FIRST_CARD:
        card = await bot.open_card("+15135557611")
        _FIRST_CARD[id(bot)] = {
            label: click_payload(bot, card, label) for label in ("Send SMS", "Send email")
        }
    return _FIRST_CARD[id(bot)]


@given(data=st.data(), signed=st.booleans())
async def test_broken_card_clicks(
    fuzzed_bot: tuple[RunningBot, Records], data: st.DataObject, signed: bool
) -> None:
    bot, logs = fuzzed_bot
    payloads = await _card_payloads(bot)
    payload = data.draw(broken(payloads[data.draw(st.sampled_from(sorted(payloads)))]))
    outcome = await observe(bot, post_interaction(bot, payload, signed=signed))
    check(outcome)
    if not signed:
        assert outcome.response.status_code == 401 and not outcome.changed
    assert logs.tracebacks() == []


@given(value=texts(max_size=80), entry=st.one_of(st.none(), texts(max_size=80)))
async def test_card_button_values_and_code_entries(
    fuzzed_bot: tuple[RunningBot, Records], value: str, entry: str | None
) -> None:
    """A Check code click with any button value and anything typed in the code box."""
    bot, logs = fuzzed_bot
    card = await bot.open_card("+15135557611")
    payload = click_payload(bot, card, "Send SMS")
    action = payload["actions"][0]
    action["action_id"] = ActionId.CHECK_CODE.value
    action["value"] = value
    payload["state"]["values"] = {
        f"{BlockId.CODE_ENTRY_PREFIX}:1": {
            ActionId.CODE_INPUT: {"type": "plain_text_input", "value": entry}
        }
    }
    outcome = await observe(bot, post_interaction(bot, payload))
    check(outcome)
    assert logs.tracebacks() == []


MODAL_TEXT = st.one_of(st.none(), texts(max_size=400))


@given(value=MODAL_TEXT, reason=MODAL_TEXT, signed=st.booleans())
async def test_destination_modal_submissions(
    fuzzed_bot: tuple[RunningBot, Records], value: str | None, reason: str | None, signed: bool
) -> None:
    bot, logs = fuzzed_bot
    card = await bot.open_card("+15135557611")
    view = await open_edit(bot, card)
    payload = submission_payload(bot, view)
    payload["view"]["state"]["values"] = {
        BlockId.DESTINATION_VALUE: {
            ActionId.DESTINATION_INPUT: {"type": "plain_text_input", "value": value}
        },
        BlockId.EDIT_REASON: {
            ActionId.EDIT_REASON_INPUT: {"type": "plain_text_input", "value": reason}
        },
    }
    outcome = await observe(bot, post_interaction(bot, payload, signed=signed))
    check(outcome)
    if not signed:
        assert outcome.response.status_code == 401 and not outcome.changed
    assert logs.tracebacks() == []
    bot.emulator.set_modal_stack(AGENT, [])


@given(data=st.data())
async def test_broken_modal_submissions(
    fuzzed_bot: tuple[RunningBot, Records], data: st.DataObject
) -> None:
    bot, logs = fuzzed_bot
    card = await bot.open_card("+15135557611")
    view = await open_edit(bot, card)
    payload = submission_payload(bot, view)
    payload["view"]["callback_id"] = data.draw(
        st.sampled_from(
            [
                c.value
                for c in (
                    CallbackId.EDIT_DESTINATION,
                    CallbackId.CREATE_TICKET,
                    CallbackId.EDIT_TEMPLATES,
                )
            ]
        )
    )
    payload["view"]["state"]["values"] = {
        BlockId.DESTINATION_VALUE: {
            ActionId.DESTINATION_INPUT: {"type": "plain_text_input", "value": "+15135550100"}
        },
    }
    outcome = await observe(bot, post_interaction(bot, data.draw(broken(payload))))
    check(outcome)
    assert logs.tracebacks() == []
    bot.emulator.set_modal_stack(AGENT, [])


@given(
    sms=MODAL_TEXT,
    subject=MODAL_TEXT,
    body=MODAL_TEXT,
    revision=st.sampled_from(["0", "1", "9" * 25, "²", ""]),
)
async def test_template_submissions(
    fuzzed_bot: tuple[RunningBot, Records],
    sms: str | None,
    subject: str | None,
    body: str | None,
    revision: str,
) -> None:
    """The PIN templates modal saved by an admin with any text in its fields."""
    bot, logs = fuzzed_bot
    card = await bot.open_card("+15135557611")
    view = await open_edit(bot, card)
    payload = submission_payload(bot, view)
    payload["view"]["callback_id"] = CallbackId.EDIT_TEMPLATES.value
    payload["view"]["private_metadata"] = revision
    typed = {"tpl_sms": sms, "tpl_email_subject": subject, "tpl_email_body": body}
    payload["view"]["state"]["values"] = {
        f"{block}.{revision}": {
            ActionId.TEMPLATE_INPUT: {"type": "plain_text_input", "value": text}
        }
        for block, text in typed.items()
    }
    outcome = await observe(bot, post_interaction(bot, payload))
    check(outcome)
    assert logs.tracebacks() == []
    bot.emulator.set_modal_stack(AGENT, [])
