"""End to end with the console providers: lookup, card, send, check, close, supervisors."""

from __future__ import annotations

import asyncio

import pytest

from slack_emulator import ConfirmationCancelled, Message, find_button_labels, message_text
from tests.support.bot import AGENT, OTHER_AGENT, BotFactory, RunningBot

CODE_BOX = "Code the caller reads back"


async def test_card_shows_masked_contact_and_send_buttons(bot: RunningBot) -> None:
    card = await bot.open_card("+1 (513) 555-7611")
    text = message_text(card)
    assert "Verify caller: Jane Doe" in text
    assert "Globex" in text and "+1 ••• ••• 7611" in text and "j•••@globex.example" in text
    assert "5557611" not in text and "jane.doe" not in text
    assert find_button_labels(card) == ["Send SMS", "Send email"]
    (reply,) = await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(AGENT))
    assert "Opened the verification card for *Jane Doe*" in reply.text


async def test_no_match_and_bad_input_get_specific_replies(bot: RunningBot) -> None:
    texts: list[str] = []
    for count, text in enumerate(("nobody@nowhere.example", "555-0100", ""), start=1):
        # One at a time: the work after each ack runs concurrently and may finish in any order.
        await bot.verify(text)
        replies = await bot.ephemeral_replies(count)
        texts.append(message_text(replies[-1]))
    assert "No contact matches “nobody@nowhere.example”" in texts[0]
    assert "not a valid phone number for region US" in texts[1]
    assert texts[2].startswith("Usage: `/verify")
    assert bot.emulator.dm_messages(AGENT) == []


async def test_several_matches_give_a_pick_list(bot: RunningBot) -> None:
    await bot.verify("smith")
    picks = await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(AGENT))
    assert find_button_labels(picks[0]) == ["Verify Joan Smith", "Verify John Smith"]
    assert "Umbrella" in message_text(picks[0]) and "Initech" in message_text(picks[0])
    await bot.driver.click(AGENT, picks[0], "Verify John Smith")
    card = await bot.driver.wait_for(lambda: bot.emulator.dm_messages(AGENT)[-1:])
    assert "Verify caller: John Smith" in message_text(card[0])
    await bot.wait_text(picks[0], "Opened the verification card for *John Smith*")


async def test_sms_flow_verified_then_completed_reaches_supervisors(bot: RunningBot) -> None:
    card = await bot.open_card("jane.doe@globex.example")
    await bot.driver.click(AGENT, card, "Send SMS")
    text = await bot.wait_text(card, "Code #1 sent by *SMS* to +1 ••• ••• 7611")
    assert "expires" in text
    assert find_button_labels(card) == [
        "Check code",
        "Resend",
        "Send email",
        "Completed",
        "Incomplete",
    ]
    (code,) = await bot.console_codes()
    await bot.driver.click(AGENT, card, "Check code", inputs={"Code the caller reads back": code})
    await bot.wait_text(card, "Code verified")
    await bot.driver.click(AGENT, card, "Completed")
    await bot.wait_text(card, "Closed as Completed")
    assert find_button_labels(card) == []
    post = await bot.live_message("Completed")
    (only,) = bot.supervisor_posts()  # one live message, updated in place
    assert only is post
    post_text = message_text(post)
    assert "Completed" in post_text and "Jane Doe" in post_text and "Globex" in post_text
    assert f"<@{AGENT}>" in post_text and "SMS to +1 ••• ••• 7611" in post_text
    assert "code verified" in post_text
    assert code not in post_text and "5557611" not in post_text
    # Nothing the bot posted anywhere contains the code.
    for call in bot.emulator.calls:
        assert code not in str(call.args)


async def test_wrong_code_five_times_locks(bot: RunningBot) -> None:
    card = await bot.open_card("+15135557611")
    await bot.driver.click(AGENT, card, "Send SMS")
    await bot.wait_text(card, "Code #1 sent")
    (code,) = await bot.console_codes()
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: wrong})
        await bot.wait_text(card, f"Wrong code. {left} attempt{'s' if left > 1 else ''} left.")
    await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: wrong})
    text = await bot.wait_text(card, "Locked")
    assert "no more codes can be sent" in text
    assert "Check code" not in find_button_labels(card)
    assert "Resend" not in find_button_labels(card)
    with pytest.raises(ConfirmationCancelled):
        await bot.driver.click(AGENT, card, "Completed", confirm=False)
    await bot.driver.click(AGENT, card, "Incomplete")
    await bot.wait_text(card, "Closed as Incomplete")
    post = await bot.live_message("Incomplete")
    assert "locked after 5 wrong codes" in message_text(post)
    lockout = await bot.thread_reply(post, "Locked out")
    assert "Jane Doe" in message_text(lockout) and "5 wrong codes" in message_text(lockout)


async def test_expired_code_says_so_and_resend_voids_the_old_code(bot: RunningBot) -> None:
    card = await bot.open_card("+15135557611")
    await bot.driver.click(AGENT, card, "Send SMS")
    await bot.wait_text(card, "Code #1 sent")
    (old,) = await bot.console_codes()
    bot.clock.advance(minutes=10)
    await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: old})
    await bot.wait_text(card, "That code has expired")
    assert "Check code" not in find_button_labels(card)
    await bot.driver.click(AGENT, card, "Resend")
    await bot.wait_text(card, "Code #2 sent")
    old_code, new_code = await bot.console_codes()
    assert old_code == old
    if new_code != old_code:
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: old_code})
        await bot.wait_text(card, "Wrong code. 4 attempts left.")
    await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: new_code})
    await bot.wait_text(card, "Code verified")


async def test_double_click_sends_once(bot: RunningBot) -> None:
    card = await bot.open_card("+15135557611")
    responses = await asyncio.gather(*[bot.driver.click(AGENT, card, "Send SMS") for _ in range(5)])
    assert all(r.status_code == 200 for r in responses)
    await bot.wait_text(card, "Code #1 sent")
    await asyncio.sleep(0.2)  # give any (wrong) second send time to land
    assert len(await bot.console_codes()) == 1


async def test_another_agent_cannot_drive_my_card(bot: RunningBot) -> None:
    card = await bot.open_card("+15135557611")
    before = list(card.blocks)
    # A crafted request: the other agent replays my card's button with their own user id.
    bot.emulator.dm_channel(OTHER_AGENT)
    response = await bot.driver.post_signed(
        _forged_click(bot, card, OTHER_AGENT), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    await asyncio.sleep(0.2)
    assert await bot.console_codes() == []
    assert card.blocks == before


def _forged_click(bot: RunningBot, card: Message, user: str) -> str:
    import json
    from urllib.parse import urlencode

    from commands.ids import ActionId

    message = card
    value = next(
        element["value"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ActionId.SEND_SMS
    )
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "carol", "name": "carol", "team_id": "T0EMULATOR"},
        "team": {"id": "T0EMULATOR", "domain": "emulator"},
        "api_app_id": "A0EMULATOR",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1.0", "channel_id": "D0X"},
        "channel": {"id": "D0X", "name": "directmessage"},
        "actions": [
            {
                "action_id": ActionId.SEND_SMS.value,
                "block_id": "card_actions:1",
                "value": value,
                "type": "button",
                "action_ts": "1.0",
                "text": {"type": "plain_text", "text": "Send SMS"},
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_policy_from_settings_shapes_the_code(running_bot: BotFactory) -> None:
    env = {"PINVERIFY_CODE_LENGTH": "8", "PINVERIFY_CODE_TTL_SECONDS": "120"}
    async with running_bot(env=env) as bot:
        card = await bot.open_card("+15135557611")
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent")
        (code,) = await bot.console_codes()
        assert len(code) == 8
        bot.clock.advance(seconds=119)
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: code[:6]})
        await bot.wait_text(card, "That was 6 digits; codes are 8. 4 attempts left.")
        bot.clock.advance(seconds=1)
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: code})
        await bot.wait_text(card, "That code has expired")


async def test_verifying_the_same_caller_again_moves_the_card_down(bot: RunningBot) -> None:
    first = await bot.open_card("+15135557611")
    await bot.driver.click(AGENT, first, "Send SMS")
    await bot.wait_text(first, "Code #1 sent")
    second = await bot.open_card("jane.doe@globex.example")
    assert second is not first
    await bot.wait_text(first, "This verification continues in the newer card below.")
    assert find_button_labels(first) == []
    # Same verification: the code already sent can be checked on the new card.
    assert "Code #1 sent" in message_text(second)
    (code,) = await bot.console_codes()
    await bot.driver.click(AGENT, second, "Check code", inputs={CODE_BOX: code})
    await bot.wait_text(second, "Code verified")
