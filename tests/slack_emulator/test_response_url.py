"""response_url deliveries, sent the way bolt's respond() sends them (AsyncWebhookClient)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from slack_emulator import SlackEmulator
from tests.slack_emulator.conftest import AGENT, SUPERVISORS

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "Code sent"}}]


async def test_replace_original_rewrites_the_message_the_action_came_from(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    posted = await web_client.chat_postMessage(channel=SUPERVISORS, text="sent")
    card = emulator.messages(SUPERVISORS)[0]
    url = emulator.mint_response_url(SUPERVISORS, AGENT, card)

    answer = await AsyncWebhookClient(url).send(
        text="delivered", blocks=BLOCKS, replace_original=True
    )

    assert (answer.status_code, answer.body) == (200, "ok")
    assert emulator.messages(SUPERVISORS) == [card]
    assert (card.ts, card.text, card.blocks[0]["text"]["text"]) == (
        posted["ts"],
        "delivered",
        "Code sent",
    )


async def test_default_is_ephemeral_and_delete_original_removes(emulator: SlackEmulator) -> None:
    url = emulator.mint_response_url(SUPERVISORS, AGENT, None)
    webhook = AsyncWebhookClient(url)

    await webhook.send(text="only you can see this")
    (shown,) = emulator.ephemeral_messages(AGENT, SUPERVISORS)
    await webhook.send(text="replaced", replace_original=True)
    replaced_text = shown.text
    await webhook.send_dict({"delete_original": True})

    assert emulator.messages(SUPERVISORS) == []
    assert replaced_text == "replaced"
    assert emulator.ephemeral_messages(AGENT) == []


async def test_in_channel_posts_for_everyone(emulator: SlackEmulator) -> None:
    url = emulator.mint_response_url(SUPERVISORS, AGENT, None)

    await AsyncWebhookClient(url).send(text="for all", response_type="in_channel")

    assert [m.text for m in emulator.messages(SUPERVISORS)] == ["for all"]
    assert emulator.ephemeral_messages(AGENT) == []


async def test_five_uses_then_used_url(emulator: SlackEmulator) -> None:
    webhook = AsyncWebhookClient(emulator.mint_response_url(SUPERVISORS, AGENT, None))

    statuses = [(await webhook.send(text=f"#{n}")).status_code for n in range(5)]
    sixth = await webhook.send(text="#6")

    assert statuses == [200] * 5
    assert sixth.status_code == 404 and "used_url" in sixth.body
    assert len(emulator.ephemeral_messages(AGENT)) == 5


async def test_expired_after_thirty_minutes() -> None:
    now = [5_000.0]
    emulator = SlackEmulator(clock=lambda: now[0], base_url="http://emulator.invalid")
    url = emulator.mint_response_url(SUPERVISORS, AGENT, None)
    token = url.rsplit("/", 1)[1]

    now[0] += 30 * 60 + 1

    assert emulator._deliver(token, {"text": "late"}) == (404, "expired_url")


async def test_invalid_blocks_are_refused_and_recorded(emulator: SlackEmulator) -> None:
    webhook = AsyncWebhookClient(emulator.mint_response_url(SUPERVISORS, AGENT, None))
    bad = [{"type": "header", "text": {"type": "mrkdwn", "text": "headers are plain"}}]

    answer = await webhook.send(text="x", blocks=bad)

    assert answer.status_code == 400 and "invalid_blocks" in answer.body
    assert emulator.invalid_payloads[0].source == "response_url"
    assert emulator.ephemeral_messages(AGENT) == []
