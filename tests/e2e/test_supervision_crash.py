"""Crash safety of the supervisors' posts, with real processes: `pinverify serve` is killed
with SIGKILL after Slack accepted the live message but before the app heard back; after a
restart there is still exactly one message, brought to its final state. And a relay whose
lease ran out never records an outcome over the replica that took the row over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import timedelta

import pytest

from bot.clock import ManualClock, SystemClock
from bot.outbox import DeliveryDeferred, OutboxAttempt, OutboxRelay
from bot.runtime import open_runtime
from bot.settings import load_settings
from slack_emulator import SlackEmulator, message_text
from storage import repositories as repo
from storage.db import Database, make_engine
from tests.support import queries
from tests.support.asgi import running_server
from tests.support.bot import SECRET_KEY, SIGNING_SECRET, SUPERVISORS, new_emulator
from tests.support.supervision import contact, drive


def app_env(emulator: SlackEmulator, database_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": emulator.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": emulator.api_url,
        "DATABASE_URL": database_url,
        "PINVERIFY_SECRET_KEY": SECRET_KEY,
        "PINVERIFY_SUPERVISOR_CHANNEL": SUPERVISORS,
        "PINVERIFY_SHOW_CODE_TO_AGENT": "true",
        "PINVERIFY_OUTBOX_POLL_SECONDS": "0.1",
        "PINVERIFY_OUTBOX_LEASE_SECONDS": "2",
    }


@contextmanager
def serving(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.runtime.cli", "serve", "--port", "0", "--no-sandbox"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


async def wait_until(predicate: object, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_kill_9_mid_post_leaves_one_supervisors_message(database_url: str) -> None:
    emulator = new_emulator()
    release = emulator.stall_after("chat.postMessage", channel=SUPERVISORS)
    async with AsyncExitStack() as stack:
        emulator.base_url = await stack.enter_async_context(running_server(emulator.asgi_app()))
        env = app_env(emulator, database_url)
        settings = load_settings(env)
        # The verification happens here (no relay); the served process delivers its post.
        async with open_runtime(settings, run_relay=False) as runtime:
            done = await drive(
                runtime.deps, team_id="T0EMULATOR", agent="U0AGENT001", who=contact(1),
                plan="verified",
            )  # fmt: skip
        with serving(env) as first:
            await wait_until(lambda: emulator.stalled == 1)
            # Slack has the message; the app never gets the answer.
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        release.set()
        assert len(emulator.messages(SUPERVISORS)) == 1
        watcher = Database(make_engine(database_url))
        stack.push_async_callback(watcher.dispose)

        async def row_delivered() -> bool:
            async with watcher.transaction() as session:
                (row,) = await queries.list_outbox_messages(session=session)
            return row.status == "delivered"

        with serving(env):
            # After the lease (2 s) the restarted app takes the row over, finds the message
            # by its marker and brings it up to date instead of posting a second one.
            for _ in range(600):
                if await row_delivered():
                    break
                await asyncio.sleep(0.05)
        assert "Completed" in message_text(emulator.messages(SUPERVISORS)[0])
        assert emulator.calls_to("chat.update")
        (post,) = emulator.messages(SUPERVISORS)
        assert (post.metadata or {})["event_payload"][
            "key"
        ] == f"supervisor_live:{done.verification_id}"
        posts = [
            c for c in emulator.calls_to("chat.postMessage") if c.args["channel"] == SUPERVISORS
        ]
        assert len(posts) == 1
        assert emulator.calls_to("conversations.history")  # it looked before posting again
        async with watcher.transaction() as session:
            (row,) = await queries.list_outbox_messages(session=session)
        assert row.status == "delivered" and row.attempts == 1


class SlowFirstTry:
    """A deliverer whose first try outlives its lease (a stuck call), then returns or fails."""

    def __init__(self, *, fail: bool) -> None:
        self.fail = fail
        self.calls = 0
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()

    async def deliver(self, attempt: OutboxAttempt) -> None:
        self.calls += 1
        if self.calls == 1:
            self.started.set()
            await self.go_on.wait()
            if self.fail:
                raise DeliveryDeferred("the stuck call timed out")

    async def settled(self, attempt: OutboxAttempt, *, error: str | None) -> None:
        return None

    def escalate(self, attempt: OutboxAttempt, *, error: str) -> list[object]:
        return []


@pytest.mark.parametrize("outcome", ["delivered", "failed"])
async def test_a_relay_that_lost_its_lease_records_nothing(db: Database, outcome: str) -> None:
    clock = ManualClock()
    handler = SlowFirstTry(fail=outcome == "failed")

    def relay() -> OutboxRelay:
        return OutboxRelay(
            db=db,
            clock=clock,
            deliverers={"test": handler},  # type: ignore[dict-item]
            lease=timedelta(seconds=5),
            pace_clock=SystemClock(),
        )

    first, second = relay(), relay()
    async with db.transaction() as session:
        repo.add_outbox_message(
            session=session, kind="test", dedupe_key="k", payload={}, at=clock.now()
        )
    stuck = asyncio.create_task(first.run_once())
    await handler.started.wait()
    clock.advance(seconds=6)  # the first relay's lease runs out while it is stuck
    assert await second.run_once() == 1  # the second takes the row over and delivers it
    handler.go_on.set()
    assert await stuck == 0
    assert first.lost_leases == 1 and second.lost_leases == 0
    async with db.transaction() as session:
        (row,) = await queries.list_outbox_messages(session=session)
    # The second relay's outcome stands; the first recorded neither success nor a retry.
    assert row.status == "delivered" and row.attempts == 1 and row.last_error is None
