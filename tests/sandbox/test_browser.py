"""The README's walkthrough in a real browser: Debian's Chromium, headless, via Playwright."""

from __future__ import annotations

import sys

from playwright.async_api import expect

from bot.runtime.sandbox.workspace import SUPERVISORS_CHANNEL
from tests.sandbox.browser import ARTIFACTS, chromium_page
from tests.support.sandbox import running_sandbox


async def test_walkthrough_verifies_and_completes_in_chromium(database_url: str) -> None:
    async with running_sandbox(database_url) as (_runtime, sandbox), chromium_page() as page:
        await page.goto(sandbox.url)
        message_box = page.get_by_label("Message", exact=True)
        await message_box.fill("/verify Jane Doe")
        await message_box.press("Enter")

        card = page.locator("article.message", has_text="Verify caller: Jane Doe")
        await expect(card).to_contain_text("Globex")
        await card.get_by_role("button", name="Send SMS").click()
        await expect(card).to_contain_text("Code #1 sent by SMS to +1 ••• ••• 0100")

        sms = page.get_by_label("Phone and inbox").locator(".phone-message.sms").first
        await expect(sms).to_contain_text("to +15135550100")
        code = await sms.locator(".phone-code").inner_text()
        assert code.isdigit() and len(code) == 6

        await card.get_by_label("Code the caller reads back").fill(code)
        await card.get_by_role("button", name="Check code").click()
        await expect(card).to_contain_text("Code verified")
        await card.get_by_role("button", name="Completed").click()
        await expect(card).to_contain_text("Closed as Completed")
        await expect(card).to_contain_text("code verified")
        await expect(card.get_by_role("button")).to_have_count(0)
        await page.screenshot(path=str(ARTIFACTS / "sandbox-card.png"))

        channel = page.locator(f"[data-conversation={SUPERVISORS_CHANNEL}]")
        await expect(channel.locator(".badge")).to_have_text("1")
        await channel.click()
        post = page.locator("#messages article.message")
        await expect(post).to_have_count(1)
        await expect(post).to_contain_text("Completed (code verified): Jane Doe (Globex)")
        await expect(post).to_contain_text("SMS to +1 ••• ••• 0100")
        assert code not in await post.inner_text()
        final = ARTIFACTS / "sandbox-final.png"
        await page.screenshot(path=str(final))
    sys.stdout.write(f"screenshots: {ARTIFACTS / 'sandbox-card.png'}, {final}\n")
