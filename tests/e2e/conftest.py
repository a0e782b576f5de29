"""The app under test, on this test's own database and the module's fake Slack.

- `bot`: the app with the default set-up, for tests that need nothing else.
- `running_bot(env=..., clock=..., contacts_csv=..., public=...)`: start it with variations
  (`async with running_bot(...) as bot:`); a second `async with` on the same database and
  emulator is a restart.
- `emulator`: the fake Slack both use; a module overrides it to add admins or user groups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager

import pytest

from bot.clock import ManualClock
from slack_emulator import SlackEmulator
from tests.support import bot as support
from tests.support.bot import CONTACTS_CSV, BotFactory, RunningBot, new_emulator


@pytest.fixture
def emulator() -> SlackEmulator:
    return new_emulator()


@pytest.fixture
def running_bot(database_url: str, emulator: SlackEmulator) -> BotFactory:
    def start(
        *,
        env: Mapping[str, str] | None = None,
        clock: ManualClock | None = None,
        contacts_csv: str = CONTACTS_CSV,
        public: bool = False,
    ) -> AbstractAsyncContextManager[RunningBot]:
        return support.running_bot(
            database_url,
            env=env,
            clock=clock,
            emulator=emulator,
            contacts_csv=contacts_csv,
            public=public,
        )

    return start


@pytest.fixture
async def bot(running_bot: BotFactory) -> AsyncIterator[RunningBot]:
    async with running_bot() as running:
        yield running
