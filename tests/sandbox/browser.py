"""Debian's Chromium for the sandbox's browser tests (Playwright cannot download one here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The app answers in milliseconds; the margin is for a loaded CI machine running two workers.
expect.set_options(timeout=15_000)


@asynccontextmanager
async def chromium_page() -> AsyncIterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install -y "
            "chromium` (`make test` and .ci/run do it for you)"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield await browser.new_page(viewport={"width": 1440, "height": 900})
        finally:
            await browser.close()
