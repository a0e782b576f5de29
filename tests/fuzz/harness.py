"""Running one fuzz example against the live app: post it, wait until the app has finished
everything the request started, and say whether it was refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

import httpx

from slack_emulator import message_text
from tests.support.bot import AGENT, RunningBot
from tests.support.hostile import dump_tables

# Work a request leaves running after its answer: Bolt's listener task, our ephemeral
# refusals and post-answer card redraws.
_AFTER_ANSWER = ("run_ack_function_asynchronously", "tell_ephemeral", "_redraw_all")
REFUSAL_WORDS = "PIN Verify could not read"


async def app_idle(timeout: float = 10.0) -> None:
    """Wait until no task a request started is still running (the loop is the app's)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        busy = [
            task
            for task in asyncio.all_tasks()
            if not task.done()
            and any(name in task.get_coro().__qualname__ for name in _AFTER_ANSWER)  # type: ignore[union-attr]
        ]
        if not busy:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"still running: {busy}")
        await asyncio.sleep(0.005)


@dataclass
class Outcome:
    response: httpx.Response
    refused: bool
    changed: bool


async def observe(bot: RunningBot, request: Awaitable[httpx.Response]) -> Outcome:
    """Post (`request` is the awaitable posting it), wait for quiet, compare tables."""
    await app_idle()  # whatever set the example up (opening a card) has finished
    shown = len(bot.driver.ephemeral_messages(AGENT))
    before = await dump_tables(bot.runtime.db)
    response = await request
    await app_idle()
    after = await dump_tables(bot.runtime.db)
    replies = [message_text(m) for m in bot.driver.ephemeral_messages(AGENT)[shown:]]
    refused = response.status_code in (400, 401, 413) or any(REFUSAL_WORDS in r for r in replies)
    # The edge's refusals only: a domain refusal (a wrong code, edits turned off) is audited
    # by design, so it may add a row.
    if response.status_code == 200 and REFUSAL_WORDS in response.text:
        refused = True
    return Outcome(response, refused, before != after)
