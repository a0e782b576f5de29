"""What crosses the Slack boundary: signatures, outages, restarts, health."""

from __future__ import annotations

import asyncio
import time
from typing import TypedDict
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from slack_emulator import SlackEmulator, message_text
from storage.models import AuditEvent, Verification
from tests.support import queries
from tests.support.bot import AGENT, SUPERVISORS, BotFactory, RunningBot

COMMAND = urlencode(
    {
        "token": "legacy",
        "team_id": "T0EMULATOR",
        "team_domain": "emulator",
        "channel_id": "C0GENERAL",
        "channel_name": "general",
        "user_id": AGENT,
        "user_name": "alice",
        "command": "/verify",
        "text": "+15135557611",
        "api_app_id": "A0EMULATOR",
        "response_url": "http://127.0.0.1:9/unused",
        "trigger_id": "1.2.3",
    }
)


async def count_rows(bot: RunningBot) -> tuple[int, int]:
    async with bot.runtime.db.transaction() as session:
        verifications = await session.scalar(select(func.count()).select_from(Verification))
        events = await session.scalar(select(func.count()).select_from(AuditEvent))
    return int(verifications or 0), int(events or 0)


class Forgery(TypedDict, total=False):
    secret: str
    timestamp: int  # an offset from now, taken when the request is made


FORGERIES: list[Forgery] = [
    {"secret": "not-the-signing-secret"},
    {"timestamp": -301},
    {"timestamp": +301},
]


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_forged_or_stale_requests_get_401_and_change_nothing(
    bot: RunningBot, forgery: Forgery
) -> None:
    offset = forgery.get("timestamp")
    headers = bot.driver.signed_headers(
        COMMAND,
        secret=forgery.get("secret"),
        timestamp=None if offset is None else int(time.time()) + offset,
    )
    headers["content-type"] = "application/x-www-form-urlencoded"
    response = await bot.driver.client.post(bot.driver.events_url, content=COMMAND, headers=headers)
    assert response.status_code == 401
    assert await count_rows(bot) == (0, 0)
    assert [c.method for c in bot.emulator.calls if c.method != "auth.test"] == []


async def test_a_tampered_body_with_a_valid_old_signature_is_refused(bot: RunningBot) -> None:
    headers = bot.driver.signed_headers(COMMAND)
    headers["content-type"] = "application/x-www-form-urlencoded"
    tampered = COMMAND.replace("5557611", "5550199")
    response = await bot.driver.client.post(
        bot.driver.events_url, content=tampered, headers=headers
    )
    assert response.status_code == 401
    assert await count_rows(bot) == (0, 0)


async def test_missing_signature_headers_get_401(bot: RunningBot) -> None:
    response = await bot.driver.client.post(
        bot.driver.events_url,
        content=COMMAND,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401


async def test_healthz(bot: RunningBot) -> None:
    response = await bot.driver.client.get(f"{bot.url}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_supervisors_post_survives_a_slack_outage_and_a_restart(
    running_bot: BotFactory, emulator: SlackEmulator
) -> None:
    clock = ManualClock()
    async with running_bot(clock=clock) as bot:
        card = await bot.open_card("+15135557611")
        # The supervisors' channel is down from the start (the agent's card is not: it is
        # updated with chat.update, which stays up).
        emulator.fail_next(
            "chat.postMessage", error="service_unavailable", channel=SUPERVISORS, times=1000
        )
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent")
        await bot.driver.click(AGENT, card, "Incomplete")
        await bot.wait_text(card, "Closed as Incomplete")

        async def last_error() -> str | None:
            async with bot.runtime.db.transaction() as session:
                (row,) = await queries.list_outbox_messages(session=session)
            assert row.status == "pending"
            return row.last_error

        for _ in range(250):
            if await last_error():
                break
            await asyncio.sleep(0.02)
        assert "service_unavailable" in str(await last_error())
        assert bot.supervisor_posts() == []
    # The app stopped with the post undelivered. Slack comes back, the app restarts.
    emulator.faults.clear()
    clock.advance(minutes=15)
    async with running_bot(clock=clock) as bot:
        post = await bot.live_message("Incomplete")
        assert "Jane Doe" in message_text(post) and len(bot.supervisor_posts()) == 1

        async def delivered() -> bool:
            # The row is marked in the transaction after the post: wait for it, not race it.
            async with bot.runtime.db.transaction() as session:
                (row,) = await queries.list_outbox_messages(session=session)
            assert row.attempts >= 1
            return row.status == "delivered"

        for _ in range(250):
            if await delivered():
                break
            await asyncio.sleep(0.02)
        assert await delivered()


async def test_without_slack_credentials_events_answer_503_and_health_works(
    database_url: str,
) -> None:
    from bot.runtime import open_runtime
    from bot.settings import load_settings
    from tests.support.asgi import running_server

    settings = load_settings({"DATABASE_URL": database_url})
    async with (
        open_runtime(settings) as runtime,
        running_server(runtime.server) as url,
        httpx.AsyncClient() as client,
    ):
        assert runtime.slack_app is None
        events = await client.post(f"{url}/slack/events", content=COMMAND)
        assert events.status_code == 503
        assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in events.json()["error"]
        health = await client.get(f"{url}/healthz")
        assert health.status_code == 200


async def test_healthz_is_503_when_the_database_is_gone(tmp_path: object) -> None:
    from bot.runtime import open_runtime
    from bot.settings import load_settings
    from tests.support.asgi import running_server

    settings = load_settings({"DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:9/none"})
    async with (
        open_runtime(settings, migrate=False) as runtime,
        running_server(runtime.server) as url,
        httpx.AsyncClient() as client,
    ):
        health = await client.get(f"{url}/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "unavailable", "database": "unreachable"}
