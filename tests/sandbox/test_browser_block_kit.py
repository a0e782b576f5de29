"""The page renders whatever Block Kit the app sends (messages, Home tab, modals), safely,
and turns each gesture into the payload Slack would send. The app is played here through
the emulator's Web API, so these tests do not depend on which surfaces today's app has."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from bot.runtime.sandbox import Sandbox
from bot.runtime.sandbox.workspace import SANDBOX_USER, SUPERVISORS_CHANNEL
from tests.sandbox.browser import ARTIFACTS, chromium_page
from tests.support.sandbox import running_sandbox


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def as_app(sandbox: Sandbox, method: str, **arguments: Any) -> dict[str, Any]:
    """Call the Web API the way the app does (bot token)."""
    emulator = sandbox.emulator
    answer = emulator.call(method, arguments, token=emulator.bot_token)
    assert answer.body["ok"], answer.body
    return answer.body


HOSTILE = (
    "*bold* _italic_ ~gone~ `code` <https://example.com/docs|the docs> "
    "<javascript:window.__xss=1|not a link> <@U0SANDBOX02> "
    "&lt;img src=x onerror=window.__xss=1&gt;\nsecond line"
)

HOME = {
    "type": "home",
    "blocks": [
        {"type": "header", "text": plain("PIN Verify settings")},
        {
            "type": "section",
            "block_id": "policy",
            "text": {"type": "mrkdwn", "text": "*Policy* for the whole workspace"},
            "accessory": {
                "type": "overflow",
                "action_id": "policy_menu",
                "options": [option("Reset to defaults", "reset"), option("Export", "export")],
            },
        },
        {
            "type": "actions",
            "block_id": "home_actions",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "code_length",
                    "placeholder": plain("Code length"),
                    "options": [option("6 digits", "6"), option("8 digits", "8")],
                },
                {
                    "type": "users_select",
                    "action_id": "admin",
                    "placeholder": plain("Pick an admin"),
                },
                {
                    "type": "button",
                    "action_id": "wipe",
                    "text": plain("Erase audit log"),
                    "style": "danger",
                    "confirm": {
                        "title": plain("Erase everything?"),
                        "text": {"type": "mrkdwn", "text": "This *cannot* be undone."},
                        "confirm": plain("Erase"),
                        "deny": plain("Keep it"),
                        "style": "danger",
                    },
                },
            ],
        },
    ],
}

MODAL = {
    "type": "modal",
    "callback_id": "templates",
    "title": plain("Edit PIN templates"),
    "submit": plain("Save"),
    "close": plain("Cancel"),
    "blocks": [
        {
            "type": "input",
            "block_id": "sms",
            "label": plain("SMS text"),
            "hint": plain("Must contain {{ code }}"),
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        },
        {
            "type": "input",
            "block_id": "length",
            "label": plain("Code length"),
            "element": {
                "type": "static_select",
                "action_id": "digits",
                "options": [option("6 digits", "6"), option("8 digits", "8")],
            },
        },
        {
            "type": "input",
            "block_id": "channel",
            "optional": True,
            "label": plain("Supervisors' channel"),
            "element": {"type": "conversations_select", "action_id": "pick"},
        },
        {
            "type": "input",
            "block_id": "flags",
            "optional": True,
            "label": plain("Options"),
            "element": {
                "type": "checkboxes",
                "action_id": "on",
                "options": [option("Require a ticket", "ticket"), option("Allow edits", "edits")],
            },
        },
    ],
}


async def test_messages_render_mrkdwn_safely(database_url: str) -> None:
    async with running_sandbox(database_url) as (_runtime, sandbox), chromium_page() as page:
        as_app(sandbox, "chat.postMessage", channel=SANDBOX_USER, text=HOSTILE)
        await page.goto(sandbox.url)
        message = page.locator("article.message").last
        await expect(message).to_contain_text("second line")
        await expect(message.locator("strong", has_text="bold")).to_have_count(1)
        await expect(message.locator("em", has_text="italic")).to_have_count(1)
        await expect(message.locator("s", has_text="gone")).to_have_count(1)
        await expect(message.locator("code", has_text="code")).to_have_count(1)
        link = message.locator("a")
        await expect(link).to_have_count(1)  # the javascript: one is text
        await expect(link).to_have_attribute("href", "https://example.com/docs")
        await expect(message).to_contain_text("not a link")
        await expect(message).to_contain_text("@Sam Supervisor")
        await expect(message).to_contain_text("<img src=x onerror=window.__xss=1>")
        await expect(message.locator("img")).to_have_count(0)
        await expect(message.locator("br")).to_have_count(1)
        assert await page.evaluate("window.__xss") is None


async def test_home_tab_menus_confirm_dialogs_and_modals(database_url: str) -> None:
    async with running_sandbox(database_url) as (_runtime, sandbox), chromium_page() as page:
        sandbox.home_enabled = True
        driver = sandbox.driver
        await page.goto(sandbox.url)
        await page.get_by_role("tab", name="Home").click()
        home = page.locator(".home")
        # The app publishes its own Home on app_home_opened; replace it with every element kind.
        await expect(home).to_contain_text("Edit PIN templates")
        as_app(sandbox, "views.publish", user_id=SANDBOX_USER, view=HOME)
        await expect(home).to_contain_text("PIN Verify settings")
        base = len(driver.sent_payloads)

        def sent() -> int:
            return len(driver.sent_payloads) - base

        def last_action() -> dict[str, Any]:
            return dict(driver.sent_payloads[-1]["actions"][0])

        await home.get_by_role("combobox").nth(1).select_option("8")
        await driver.wait_for(lambda: sent() == 1)
        assert last_action()["selected_option"]["value"] == "8"
        state = driver.sent_payloads[-1]["view"]["state"]["values"]
        assert state["home_actions"]["code_length"]["selected_option"]["value"] == "8"

        await home.get_by_role("combobox").nth(2).select_option(label="Sam Supervisor")
        await driver.wait_for(lambda: sent() == 2)
        assert last_action()["selected_user"] == "U0SANDBOX02"

        await home.get_by_label("More actions").select_option("export")
        await driver.wait_for(lambda: sent() == 3)
        assert last_action()["type"] == "overflow"
        assert last_action()["selected_option"]["value"] == "export"

        await home.get_by_role("button", name="Erase audit log").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_contain_text("This cannot be undone.")
        await dialog.get_by_role("button", name="Keep it").click()
        await expect(dialog).to_have_count(0)
        assert sent() == 3  # cancelled: nothing sent
        await home.get_by_role("button", name="Erase audit log").click()
        await page.get_by_role("dialog").get_by_role("button", name="Erase").click()
        await driver.wait_for(lambda: sent() == 4)
        assert (last_action()["action_id"], last_action()["style"]) == ("wipe", "danger")

        # The app opens a modal (as it would from a button's trigger_id).
        trigger = sandbox.emulator.issue_trigger(SANDBOX_USER)
        as_app(sandbox, "views.open", trigger_id=trigger, view=MODAL)
        modal = page.get_by_role("dialog", name="Edit PIN templates")
        await expect(modal).to_contain_text("Must contain {{ code }}")
        submitted = len(driver.sent_payloads)
        await modal.get_by_role("button", name="Save").click()
        # As Slack's client: empty required inputs are flagged and nothing is sent.
        await expect(modal.locator(".bk-required")).to_have_count(2)
        assert len(driver.sent_payloads) == submitted
        await modal.get_by_label("SMS text").fill("Code: {{ code }}\nfrom {{ organisation }}")
        await modal.get_by_label("Code length").select_option("6")
        await modal.get_by_label("Supervisors' channel").select_option(SUPERVISORS_CHANNEL)
        await modal.get_by_label("Allow edits").check()
        await expect(modal.locator(".bk-required")).to_have_count(0)
        await page.screenshot(path=str(ARTIFACTS / "sandbox-modal.png"))
        await modal.get_by_role("button", name="Save").click()
        await driver.wait_for(lambda: driver.sent_payloads[-1]["type"] == "view_submission")
        values = driver.sent_payloads[-1]["view"]["state"]["values"]
        assert values["sms"]["text"]["value"] == "Code: {{ code }}\nfrom {{ organisation }}"
        assert values["length"]["digits"]["selected_option"]["value"] == "6"
        assert values["channel"]["pick"]["selected_conversation"] == SUPERVISORS_CHANNEL
        assert [o["value"] for o in values["flags"]["on"]["selected_options"]] == ["edits"]

        # No listener for it in today's app: Slack keeps the modal open and says so.
        await expect(page.locator("#problems")).to_contain_text("view_submission")
        await modal.get_by_role("button", name="Cancel").click()
        await expect(page.get_by_role("dialog")).to_have_count(0)
        assert sandbox.emulator.open_views(SANDBOX_USER) == []


async def test_typing_survives_updates_elsewhere_on_the_page(database_url: str) -> None:
    blocks = [
        {
            "type": "input",
            "block_id": "entry",
            "label": plain("Code"),
            "element": {"type": "plain_text_input", "action_id": "code"},
        },
        {
            "type": "actions",
            "block_id": "go",
            "elements": [{"type": "button", "action_id": "check", "text": plain("Check")}],
        },
    ]
    async with running_sandbox(database_url) as (_runtime, sandbox), chromium_page() as page:
        as_app(sandbox, "chat.postMessage", channel=SANDBOX_USER, text="card", blocks=blocks)
        await page.goto(sandbox.url)
        box = page.get_by_label("Code", exact=True)
        await box.press_sequentially("12")
        as_app(sandbox, "chat.postMessage", channel=SUPERVISORS_CHANNEL, text="meanwhile")
        badge = page.locator(f"[data-conversation={SUPERVISORS_CHANNEL}] .badge")
        await expect(badge).to_have_text("1")
        await page.keyboard.type("34")  # still focused: no click in between
        await expect(box).to_have_value("1234")
        await page.get_by_role("button", name="Check").click()
        driver = sandbox.driver
        await driver.wait_for(lambda: driver.sent_payloads[-1:])
        assert driver.sent_payloads[-1]["state"]["values"]["entry"]["code"]["value"] == "1234"
