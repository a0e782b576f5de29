"""SlackDriver against a tiny real Bolt app served over HTTP, wired to the emulator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slack_emulator import (
    ClientValidationError,
    ConfirmationCancelled,
    SlackDriver,
    SlackEmulator,
    find_button_labels,
    message_text,
)
from tests.slack_emulator.conftest import AGENT
from tests.support.asgi import running_server

SIGNING_SECRET = "emulator-test-signing-secret"


def text(kind: str, value: str) -> dict[str, str]:
    return {"type": kind, "text": value}


CARD: list[dict[str, Any]] = [
    {
        "type": "section",
        "block_id": "caller",
        "text": text("mrkdwn", "*Jane Caller*"),
        "accessory": {
            "type": "static_select",
            "action_id": "send_by",
            "placeholder": text("plain_text", "Send by"),
            "options": [
                {"text": text("plain_text", "SMS"), "value": "sms"},
                {"text": text("plain_text", "Email"), "value": "email"},
            ],
        },
    },
    {
        "type": "input",
        "block_id": "code_block",
        "label": text("plain_text", "Code"),
        "element": {"type": "plain_text_input", "action_id": "code_input"},
    },
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "check_code",
                "text": text("plain_text", "Check code"),
                "value": "verification-1",
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "mark_incomplete",
                "text": text("plain_text", "Incomplete"),
                "confirm": {
                    "title": text("plain_text", "Sure?"),
                    "text": text("mrkdwn", "Marks it incomplete."),
                    "confirm": text("plain_text", "Yes"),
                    "deny": text("plain_text", "No"),
                },
            },
        ],
    },
]

SETTINGS_MODAL = {
    "type": "modal",
    "callback_id": "settings",
    "private_metadata": "team-settings",
    "title": text("plain_text", "Settings"),
    "submit": text("plain_text", "Save"),
    "blocks": [
        {
            "type": "input",
            "block_id": "length",
            "label": text("plain_text", "Code length"),
            "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": False},
        }
    ],
}


def build_app(emulator: SlackEmulator) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url),
        signing_secret=SIGNING_SECRET,
    )

    @app.command("/verify")
    async def verify(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        if command["text"] == "settings":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=SETTINGS_MODAL)
        elif command["text"] == "help":
            await ack(text="Usage: /verify <phone | email | name>")
        else:
            await ack()
            await client.chat_postMessage(channel=command["user_id"], text="Caller", blocks=CARD)

    @app.action("check_code")
    async def check_code(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        code = body["state"]["values"]["code_block"]["code_input"]["value"]
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"Checked {code}",
            blocks=[{"type": "section", "text": text("mrkdwn", f"Checked {code}")}],
        )

    @app.action("send_by")
    async def send_by(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        chosen = body["state"]["values"]["caller"]["send_by"]["selected_option"]["value"]
        await client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], text=f"Sending by {chosen}"
        )

    @app.action("mark_incomplete")
    async def mark_incomplete(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="Marked incomplete", replace_original=True)

    @app.view("settings")
    async def save_settings(ack: AsyncAck, view: dict[str, Any]) -> None:
        length = int(view["state"]["values"]["length"]["value"]["value"])
        if not 6 <= length <= 10:
            await ack(response_action="errors", errors={"length": "Use 6 to 10 digits."})
        else:
            await ack()

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        header = {"type": "header", "text": text("plain_text", "PIN Verify")}
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [header]})

    return app


@pytest.fixture
async def driver(emulator: SlackEmulator) -> AsyncIterator[SlackDriver]:
    handler = AsyncSlackRequestHandler(build_app(emulator))

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    web = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    async with running_server(web) as app_url, httpx.AsyncClient() as client:
        yield SlackDriver(f"{app_url}/slack/events", SIGNING_SECRET, emulator, client)


async def test_command_card_click_and_update_round_trip(
    emulator: SlackEmulator, driver: SlackDriver
) -> None:
    answer = await driver.slash_command(AGENT, "/verify", "jane")
    card = await driver.wait_for(lambda: next(iter(driver.dm_messages(AGENT)), None))

    assert answer.status_code == 200
    assert find_button_labels(card) == ["Check code", "Incomplete"]

    clicked = await driver.click(AGENT, card, "Check code", inputs={"Code": "123456"})
    await driver.wait_for(lambda: "Checked 123456" in message_text(card))

    assert clicked.status_code == 200
    sent = driver.sent_payloads[-1]
    assert sent["container"] == {
        "type": "message",
        "message_ts": card.ts,
        "channel_id": card.channel,
        "is_ephemeral": False,
    }
    assert sent["actions"][0]["value"] == "verification-1"
    assert card.text == "Checked 123456" and find_button_labels(card) == []
    assert emulator.invalid_payloads == [] and driver.interaction_errors == []


async def test_click_refuses_unknown_labels_and_cancelled_confirms(
    emulator: SlackEmulator, driver: SlackDriver
) -> None:
    await driver.slash_command(AGENT, "/verify", "jane")
    card = await driver.wait_for(lambda: next(iter(driver.dm_messages(AGENT)), None))
    sent_before = len(driver.sent_payloads)

    with pytest.raises(LookupError, match="Check code"):
        await driver.click(AGENT, card, "Send SMS")
    with pytest.raises(ConfirmationCancelled):
        await driver.click(AGENT, card, "Incomplete", confirm=False)
    with pytest.raises(LookupError, match="no input labelled"):
        await driver.click(AGENT, card, "Check code", inputs={"PIN": "1"})

    assert len(driver.sent_payloads) == sent_before


async def test_respond_replace_original_through_the_minted_response_url(
    emulator: SlackEmulator, driver: SlackDriver
) -> None:
    await driver.slash_command(AGENT, "/verify", "jane")
    card = await driver.wait_for(lambda: next(iter(driver.dm_messages(AGENT)), None))

    await driver.click(AGENT, card, "Incomplete")
    await driver.wait_for(lambda: card.text == "Marked incomplete")

    assert card.blocks == [] and emulator.calls_to("response_url")[0].ok


async def test_select_reports_the_chosen_option_in_action_and_state(
    emulator: SlackEmulator, driver: SlackDriver
) -> None:
    await driver.slash_command(AGENT, "/verify", "jane")
    card = await driver.wait_for(lambda: next(iter(driver.dm_messages(AGENT)), None))

    await driver.select(AGENT, card, "Send by", "Email")
    await driver.wait_for(lambda: card.text == "Sending by email")

    action = driver.sent_payloads[-1]["actions"][0]
    assert (action["type"], action["selected_option"]["value"]) == ("static_select", "email")
    # Blocks were kept (no `blocks` in the update), so the menu is still there.
    with pytest.raises(LookupError, match="Send by"):
        await driver.select(AGENT, card, "Channel", "SMS")


async def test_slash_command_ack_text_is_shown_to_the_user_only(
    emulator: SlackEmulator, driver: SlackDriver
) -> None:
    await driver.slash_command(AGENT, "/verify", "help")

    (shown,) = driver.ephemeral_messages(AGENT)
    assert shown.text.startswith("Usage: /verify")
    assert driver.dm_messages(AGENT) == []


async def test_modal_submission_errors_then_success(
    emulator: SlackEmulator, driver: SlackDriver
) -> None:
    await driver.slash_command(AGENT, "/verify", "settings")
    modal = await driver.wait_for(lambda: next(iter(emulator.open_views(AGENT)), None))

    with pytest.raises(ClientValidationError):
        await driver.submit_view(AGENT, modal.id, {})
    rejected = await driver.submit_view(AGENT, modal.id, {"Code length": "4"})
    still_open = emulator.open_views(AGENT) == [modal]
    accepted = await driver.submit_view(AGENT, modal.id, {"Code length": "8"})

    assert rejected.json()["response_action"] == "errors"
    assert still_open and modal.errors == {"length": "Use 6 to 10 digits."}
    assert accepted.status_code == 200 and emulator.open_views(AGENT) == []
    assert driver.sent_payloads[-1]["view"]["private_metadata"] == "team-settings"


async def test_closing_a_modal_without_notify_on_close_tells_the_app_nothing(
    emulator: SlackEmulator, driver: SlackDriver
) -> None:
    await driver.slash_command(AGENT, "/verify", "settings")
    modal = await driver.wait_for(lambda: next(iter(emulator.open_views(AGENT)), None))
    sent_before = len(driver.sent_payloads)

    closed = await driver.close_view(AGENT, modal.id)

    assert closed is None and len(driver.sent_payloads) == sent_before
    assert emulator.open_views(AGENT) == [] and not modal.is_open
    with pytest.raises(LookupError, match="not on"):
        await driver.submit_view(AGENT, modal.id, {"Code length": "8"})


async def test_opening_home_publishes_the_home_tab(
    emulator: SlackEmulator, driver: SlackDriver
) -> None:
    answer = await driver.open_home(AGENT)
    home = await driver.wait_for(lambda: emulator.home_view(AGENT))

    assert answer.status_code == 200
    assert message_text(home) == "PIN Verify"


async def test_bad_signature_and_stale_timestamp_get_401(driver: SlackDriver) -> None:
    body = "command=%2Fverify&text=help&user_id=" + AGENT
    form = {"content-type": "application/x-www-form-urlencoded"}
    forged = driver.signed_headers(body, secret="not-the-secret")
    stale = driver.signed_headers(body, timestamp=int(time.time()) - 301)
    fresh = driver.signed_headers(body)

    forged_answer = await driver.client.post(driver.events_url, content=body, headers=forged | form)
    stale_answer = await driver.client.post(driver.events_url, content=body, headers=stale | form)
    fresh_answer = await driver.client.post(driver.events_url, content=body, headers=fresh | form)

    assert (forged_answer.status_code, stale_answer.status_code) == (401, 401)
    assert fresh_answer.status_code == 200
