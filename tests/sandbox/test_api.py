"""The sandbox page's JSON API: state, command, action, submit, close, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.clock import SystemClock
from bot.runtime import Runtime
from bot.runtime.sandbox import Sandbox
from bot.runtime.sandbox.workspace import SANDBOX_USER, SUPERVISORS_CHANNEL, seed_sample_contacts
from storage import repositories as repo
from tests.support.sandbox import running_sandbox


@dataclass
class Page:
    """What the browser does, minus the browser."""

    runtime: Runtime
    sandbox: Sandbox
    http: httpx.AsyncClient

    @property
    def dm(self) -> str:
        return self.sandbox.emulator.dm_channel(SANDBOX_USER).id

    async def state(self, version: str = "") -> dict[str, Any]:
        response = await self.http.get("/sandbox/api/state", params={"version": version})
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(f"/sandbox/api/{path}", json=body)

    async def wait_for(self, fragment: str, conversation: str | None = None) -> dict[str, Any]:
        """Long-poll until a message in the conversation shows `fragment`; returns it."""
        version = ""
        for _ in range(40):
            state = await self.state(version)
            version = state["version"]
            for shown in state["conversations"]:
                if shown["id"] != (conversation or self.dm):
                    continue
                for message in shown["messages"]:
                    if fragment in str(message["blocks"]) + message["text"]:
                        return dict(message)
        raise AssertionError(f"{fragment!r} never shown")


def element(message: dict[str, Any], action_id: str) -> tuple[str, str]:
    for block in message["blocks"]:
        for item in [*block.get("elements", []), block.get("element"), block.get("accessory")]:
            if isinstance(item, dict) and item.get("action_id") == action_id:
                return str(block["block_id"]), action_id
    raise AssertionError(f"no {action_id} in {message['blocks']}")


@pytest.fixture
async def page(database_url: str) -> AsyncIterator[Page]:
    async with running_sandbox(database_url) as (runtime, sandbox):
        sandbox.long_poll_seconds = 0.5
        async with httpx.AsyncClient(base_url=sandbox.address, timeout=10) as http:
            yield Page(runtime, sandbox, http)


async def test_state_shows_the_workspace_and_the_sample_contacts_are_seeded_once(
    page: Page,
) -> None:
    state = await page.state()
    assert state["me"] == SANDBOX_USER
    assert [(c["name"], c["kind"]) for c in state["conversations"]] == [
        ("PIN Verify", "im"),
        ("supervisors", "private"),
    ]
    assert state["commands"] == ["/verify"] and state["modals"] == [] and state["phone"] == []
    db = page.runtime.db
    async with db.transaction() as session:
        assert await repo.count_contacts(session=session) == 5
    assert await seed_sample_contacts(db, SystemClock()) == 0  # not twice, not over real data
    async with db.transaction() as session:
        assert await repo.count_contacts(session=session) == 5


async def test_sandbox_never_sends_real_messages(database_url: str) -> None:
    env = {
        "SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_FROM_NUMBER": "+15005550006",
        "SMTP_URL": "smtp://u:p@mail.example:587",
        "EMAIL_FROM": "desk@msp.example",
        "CRM_PROVIDER": "zendesk",
        "ZENDESK_API_URL": "https://acme.zendesk.com/api/v2",
        "ZENDESK_EMAIL": "agent@msp.example",
        "ZENDESK_API_TOKEN": "token",
    }
    async with running_sandbox(database_url, env=env) as (runtime, _sandbox):
        settings = runtime.settings
        assert (settings.sms_provider, settings.email_provider) == ("console", "console")
        # Nothing else an admin could switch to in Settings, and no real PSA either.
        assert settings.configured_sms_providers == ("console",)
        assert settings.configured_email_providers == ("console",)
        offered = runtime.deps.workspace.settings_choices(())
        assert (offered.sms_providers, offered.email_providers) == (("console",), ("console",))
        assert runtime.deps.contacts.name == "directory"


async def test_long_poll_answers_at_once_on_change_and_after_the_wait_otherwise(
    page: Page,
) -> None:
    first = await page.state()
    loop = asyncio.get_running_loop()
    started = loop.time()
    unchanged = await page.state(first["version"])
    assert unchanged["version"] == first["version"]
    assert loop.time() - started >= 0.5
    waiting = asyncio.create_task(page.state(first["version"]))
    await asyncio.sleep(0.1)
    await page.post("command", {"conversation": page.dm, "text": "/verify Jane Doe"})
    changed = await asyncio.wait_for(waiting, timeout=5)
    assert changed["version"] != first["version"]


async def test_command_reaches_the_app_as_a_signed_slash_command(page: Page) -> None:
    response = await page.post("command", {"conversation": page.dm, "text": "/verify Jane Doe"})
    assert response.json() == {"ok": True, "status": 200}
    sent = page.sandbox.driver.sent_payloads[-1]
    assert (sent["command"], sent["text"], sent["user_id"]) == ("/verify", "Jane Doe", SANDBOX_USER)
    card = await page.wait_for("Verify caller: Jane Doe")
    assert card["author"] == "PIN Verify" and card["is_bot"] and not card["ephemeral"]
    reply = await page.wait_for("Opened the verification card")
    assert reply["ephemeral"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("hello", "Only slash commands reach the app here: try /verify Jane Doe"),
        ("/weather today", "/weather is not a command of this app (it has: /verify)"),
        ("   ", "text is required"),
    ],
)
async def test_command_refuses_what_slack_would_not_send(page: Page, text: str, error: str) -> None:
    response = await page.post("command", {"conversation": page.dm, "text": text})
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert page.sandbox.driver.sent_payloads == []


async def test_only_loopback_host_names_are_answered(page: Page) -> None:
    # DNS rebinding: another site's name pointed at 127.0.0.1 must not read the codes.
    for path in ("/sandbox", "/sandbox/api/state"):
        refused = await page.http.get(path, headers={"host": "evil.example:3000"})
        assert refused.status_code == 403
        assert refused.json()["error"] == "the sandbox answers on a loopback address only"
    refused = await page.http.post(
        "/sandbox/api/command",
        json={"conversation": page.dm, "text": "/verify Jane Doe"},
        headers={"host": "evil.example"},
    )
    assert refused.status_code == 403 and page.sandbox.driver.sent_payloads == []
    for host in ("localhost:3000", "127.0.0.1", "[::1]:3000"):
        assert (await page.http.get("/sandbox", headers={"host": host})).status_code == 200


async def test_the_page_and_its_scripts_are_served_fresh(page: Page) -> None:
    html = await page.http.get("/sandbox")
    assert html.headers["cache-control"] == "no-store"
    for script in ("mrkdwn.js", "blocks.js", "app.js"):
        assert f'src="/sandbox/static/{script}"' in html.text
        served = await page.http.get(f"/sandbox/static/{script}")
        assert served.status_code == 200 and served.headers["cache-control"] == "no-cache"
        assert "innerHTML =" not in served.text


async def test_requests_must_be_json(page: Page) -> None:
    response = await page.http.post("/sandbox/api/command", data={"text": "/verify Jane Doe"})
    assert response.status_code == 400 and response.json()["error"] == "send application/json"


async def test_actions_carry_the_typed_code_in_state_values_through_to_completed(
    page: Page,
) -> None:
    await page.post("command", {"conversation": page.dm, "text": "/verify +1 513 555 0100"})
    card = await page.wait_for("Verify caller: Jane Doe")
    block_id, action_id = element(card, "send_sms")
    target = {"conversation": page.dm, "ts": card["ts"]}
    sent = await page.post("action", {**target, "block_id": block_id, "action_id": action_id})
    assert sent.json() == {"ok": True, "status": 200}
    card = await page.wait_for("Code #1 sent by *SMS*")
    (sms,) = (await page.state())["phone"]
    assert sms["channel"] == "sms" and sms["recipient"] == "+15135550100"
    code = next(word.strip(".") for word in sms["body"].split() if word.strip(".").isdigit())

    code_block, code_input = element(card, "code_input")
    check_block, check = element(card, "check_code")
    entries = {code_block: {code_input: code}}
    await page.post(
        "action", {**target, "block_id": check_block, "action_id": check, "entries": entries}
    )
    payload = page.sandbox.driver.sent_payloads[-1]
    assert payload["type"] == "block_actions"
    assert payload["state"]["values"][code_block][code_input] == {
        "type": "plain_text_input",
        "value": code,
    }
    card = await page.wait_for("Code verified")
    block_id, action_id = element(card, "mark_completed")
    await page.post("action", {**target, "block_id": block_id, "action_id": action_id})
    await page.wait_for("Closed as Completed")
    # The live message, once updated to its final state (at the channel's pace).
    post = await page.wait_for("Completed* (code verified)", conversation=SUPERVISORS_CHANNEL)
    assert "Jane Doe" in str(post["blocks"]) and code not in str(post)


async def test_actions_on_things_not_shown_are_refused(page: Page) -> None:
    await page.post("command", {"conversation": page.dm, "text": "/verify Jane Doe"})
    card = await page.wait_for("Verify caller: Jane Doe")
    target = {"conversation": page.dm, "ts": card["ts"]}
    missing = await page.post("action", {**target, "block_id": "nope", "action_id": "send_sms"})
    assert missing.status_code == 409 and "no element nope/send_sms" in missing.json()["error"]
    gone = await page.post(
        "action", {"conversation": page.dm, "ts": "1.000100", "block_id": "b", "action_id": "a"}
    )
    assert gone.status_code == 400 and gone.json()["error"] == "that message no longer exists"
    assert [p.get("type") for p in page.sandbox.driver.sent_payloads] == [None]  # the command


MODAL = {
    "type": "modal",
    "callback_id": "sandbox_test",
    "title": {"type": "plain_text", "text": "Edit PIN templates"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "sms",
            "label": {"type": "plain_text", "text": "SMS text"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        },
        {
            "type": "input",
            "block_id": "channel",
            "optional": True,
            "label": {"type": "plain_text", "text": "Supervisors' channel"},
            "element": {"type": "conversations_select", "action_id": "pick"},
        },
        {
            "type": "input",
            "block_id": "length",
            "label": {"type": "plain_text", "text": "Code length"},
            "element": {
                "type": "static_select",
                "action_id": "digits",
                "options": [
                    {"text": {"type": "plain_text", "text": "6 digits"}, "value": "6"},
                    {"text": {"type": "plain_text", "text": "8 digits"}, "value": "8"},
                ],
            },
        },
    ],
}


async def test_modals_submit_state_values_and_close(page: Page) -> None:
    emulator = page.sandbox.emulator
    # Open a modal the way the app does: views.open with a fresh trigger.
    trigger = emulator.issue_trigger(SANDBOX_USER)
    opened = emulator.call(
        "views.open", {"trigger_id": trigger, "view": MODAL}, token=emulator.bot_token
    )
    assert opened.body["ok"], opened.body
    (modal,) = (await page.state())["modals"]
    assert (modal["title"], modal["submit"]) == ("Edit PIN templates", "Save")

    empty = await page.post("submit", {"view": modal["id"], "entries": {}})
    assert empty.status_code == 422 and "This field is required" in empty.json()["error"]
    bad = await page.post(
        "submit",
        {"view": modal["id"], "entries": {"sms": {"text": "x"}, "length": {"digits": "7"}}},
    )
    assert bad.status_code == 409 and "no option with value '7'" in bad.json()["error"]

    entries = {
        "sms": {"text": "Your code: {{ code }}"},
        "channel": {"pick": SUPERVISORS_CHANNEL},
        "length": {"digits": "8"},
    }
    await page.post("submit", {"view": modal["id"], "entries": entries})
    payload = page.sandbox.driver.sent_payloads[-1]
    assert payload["type"] == "view_submission"
    values = payload["view"]["state"]["values"]
    assert values["sms"]["text"] == {"type": "plain_text_input", "value": "Your code: {{ code }}"}
    assert values["channel"]["pick"]["selected_conversation"] == SUPERVISORS_CHANNEL
    assert values["length"]["digits"]["selected_option"]["value"] == "8"

    still_open = (await page.state())["modals"]
    if still_open:  # today's app has no such modal: it answers 404 and Slack keeps it open
        closed = await page.post("close", {"view": modal["id"]})
        assert closed.json() == {"ok": True}
    assert (await page.state())["modals"] == []
