"""The emulated Web API, called the way the bot calls Slack: slack_sdk's AsyncWebClient."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import SlackEmulator, message_text
from tests.slack_emulator.conftest import ADMIN, AGENT, SUPERVISORS

CARD_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Caller:* Jane"}},
    {
        "type": "actions",
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Send SMS"}}],
    },
]


async def raw_call(
    emulator: SlackEmulator, method: str, *, token: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{emulator.api_url}{method}", headers=headers, **kwargs)


async def test_auth_test_describes_the_bot(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    answer = await web_client.auth_test()
    assert answer["user_id"] == emulator.bot.user_id
    assert answer["bot_id"] == emulator.bot.bot_id
    assert answer["team_id"] == "T0EMULATOR"


async def test_post_to_a_user_id_lands_in_their_dm_and_can_be_updated(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    posted = await web_client.chat_postMessage(channel=AGENT, text="card", blocks=CARD_BLOCKS)

    dm_id = posted["channel"]
    assert dm_id.startswith("D")
    (card,) = emulator.dm_messages(AGENT)
    assert card.ts == posted["ts"] and card.channel == dm_id
    # Slack fills in the block_id and action_id the app left out.
    assert all(block["block_id"] for block in card.blocks)
    assert card.blocks[1]["elements"][0]["action_id"]
    assert posted["message"]["blocks"] == card.blocks

    updated = await web_client.chat_update(channel=dm_id, ts=card.ts, text="card v2", blocks=[])
    assert updated["ts"] == card.ts
    assert (card.text, card.blocks) == ("card v2", [])
    again = await web_client.chat_postMessage(channel=AGENT, text="second")
    assert again["channel"] == dm_id and float(again["ts"]) > float(card.ts)


async def test_update_refuses_unknown_ts_and_other_peoples_messages(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    emulator.add_channel("C0GENERAL0", "general", members=[AGENT])
    typed = emulator.append_user_message("C0GENERAL0", AGENT, "hello")

    with pytest.raises(SlackApiError) as unknown:
        await web_client.chat_update(channel="C0GENERAL0", ts="1.000100", text="x")
    with pytest.raises(SlackApiError) as not_mine:
        await web_client.chat_update(channel="C0GENERAL0", ts=typed.ts, text="x")

    assert unknown.value.response["error"] == "message_not_found"
    assert not_mine.value.response["error"] == "cant_update_message"
    assert typed.text == "hello"


async def test_channel_membership_is_enforced(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    emulator.add_channel("C0PUBLIC00", "public", bot_is_member=False)
    emulator.add_channel("G0PRIVATE0", "secret", is_private=True, bot_is_member=False)

    errors = []
    for channel in ("C0PUBLIC00", "G0PRIVATE0", "C0NOSUCH00"):
        with pytest.raises(SlackApiError) as failure:
            await web_client.chat_postMessage(channel=channel, text="hi")
        errors.append(failure.value.response["error"])

    assert errors == ["not_in_channel", "channel_not_found", "channel_not_found"]
    posted = await web_client.chat_postMessage(channel=SUPERVISORS, text="live")
    assert [m.ts for m in emulator.messages(SUPERVISORS)] == [posted["ts"]]


async def test_invalid_blocks_are_refused_and_recorded(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    bad = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "acessory": {}}]

    with pytest.raises(SlackApiError) as failure:
        await web_client.chat_postMessage(channel=AGENT, text="x", blocks=bad)

    assert failure.value.response["error"] == "invalid_blocks"
    assert "acessory" in failure.value.response["errors"][0]
    (recorded,) = emulator.invalid_payloads
    assert recorded.source == "chat.postMessage" and recorded.payload == bad
    assert emulator.dm_messages(AGENT) == []
    assert emulator.calls_to("chat.postMessage")[0].error == "invalid_blocks"


async def test_missing_required_argument_gets_slacks_error(emulator: SlackEmulator) -> None:
    response = await raw_call(
        emulator, "chat.postMessage", token=emulator.bot_token, json={"text": "hi"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["[ERROR] missing required field: channel"]},
    }


async def test_authentication_and_unknown_methods(emulator: SlackEmulator) -> None:
    no_token = await raw_call(emulator, "auth.test")
    wrong_token = await raw_call(emulator, "auth.test", token="xoxb-wrong")
    # A JSON body cannot carry the token: Slack only reads it from the header then.
    token_in_json = await raw_call(emulator, "auth.test", json={"token": emulator.bot_token})
    token_in_form = await raw_call(emulator, "auth.test", data={"token": emulator.bot_token})
    unknown = await raw_call(emulator, "chat.teleport", token=emulator.bot_token)

    assert [r.status_code for r in (no_token, wrong_token, unknown)] == [200, 200, 200]
    assert no_token.json()["error"] == "not_authed"
    assert wrong_token.json()["error"] == "invalid_auth"
    assert token_in_json.json()["error"] == "not_authed"
    assert token_in_form.json()["ok"] is True
    assert unknown.json()["error"] == "unknown_method"


async def test_form_and_query_string_arguments(emulator: SlackEmulator) -> None:
    by_form = await raw_call(
        emulator,
        "chat.postMessage",
        token=emulator.bot_token,
        data={"channel": AGENT, "text": "form", "blocks": json.dumps(CARD_BLOCKS)},
    )
    async with httpx.AsyncClient() as client:
        by_query = await client.get(
            f"{emulator.api_url}users.info",
            params={"token": emulator.bot_token, "user": ADMIN},
        )

    assert by_form.json()["ok"] is True
    assert message_text(emulator.dm_messages(AGENT)[0]).startswith("*Caller:* Jane")
    assert by_query.json()["user"]["is_admin"] is True


async def test_rate_limit_answers_429_with_retry_after(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    emulator.fail_next("chat.postMessage", error="ratelimited", retry_after=7)

    with pytest.raises(SlackApiError) as failure:
        await web_client.chat_postMessage(channel=AGENT, text="one")
    await web_client.chat_postMessage(channel=AGENT, text="two")

    assert failure.value.response.status_code == 429
    assert failure.value.response.headers["Retry-After"] == "7"
    assert [m.text for m in emulator.dm_messages(AGENT)] == ["two"]
    assert [c.error for c in emulator.calls_to("chat.postMessage")] == ["ratelimited", None]


async def test_faults_can_target_one_channel_and_outages_last_until_cleared(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    emulator.fail_next("chat.postMessage", error="fatal_error", channel=SUPERVISORS, times=2)
    await web_client.chat_postMessage(channel=AGENT, text="dm still works")
    with pytest.raises(SlackApiError) as fatal:
        await web_client.chat_postMessage(channel=SUPERVISORS, text="x")
    assert fatal.value.response["error"] == "fatal_error"

    emulator.set_unavailable({"chat.update", "chat.postMessage"})
    with pytest.raises(SlackApiError) as outage:
        await web_client.chat_postMessage(channel=AGENT, text="down")
    emulator.set_unavailable(None)
    with pytest.raises(SlackApiError):  # the second injected fatal_error is still pending
        await web_client.chat_postMessage(channel=SUPERVISORS, text="x")
    await web_client.chat_postMessage(channel=SUPERVISORS, text="back")

    assert outage.value.response.status_code == 503
    assert [m.text for m in emulator.messages(SUPERVISORS)] == ["back"]
    with pytest.raises(ValueError, match="rate_limited"):
        emulator.fail_next("users.info", error="rate_limited")


async def test_trigger_ids_are_single_use_and_expire() -> None:
    now = [1_000.0]
    emulator = SlackEmulator(clock=lambda: now[0])
    emulator.add_user(AGENT, "alice")
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Check code"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    trigger = emulator.issue_trigger(AGENT)

    opened = emulator.call(
        "views.open", {"trigger_id": trigger, "view": modal}, token=emulator.bot_token
    )
    reused = emulator.call(
        "views.open", {"trigger_id": trigger, "view": modal}, token=emulator.bot_token
    )
    late = emulator.issue_trigger(AGENT)
    now[0] += 3.5
    expired = emulator.call(
        "views.open", {"trigger_id": late, "view": modal}, token=emulator.bot_token
    )
    bogus = emulator.call(
        "views.open", {"trigger_id": "1.2.3", "view": modal}, token=emulator.bot_token
    )

    assert opened.body["ok"] is True
    assert opened.body["view"]["id"].startswith("V") and opened.body["view"]["hash"]
    assert [v.id for v in emulator.open_views(AGENT)] == [opened.body["view"]["id"]]
    assert reused.body["error"] == "exchanged_trigger_id"
    assert expired.body["error"] == "expired_trigger_id"
    assert bogus.body["error"] == "invalid_trigger_id"
