"""The real app on a real socket, talking to the Slack emulator: what end-to-end tests drive."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.clock import ManualClock
from bot.contacts.directory import import_contacts, parse_contact_csv
from bot.runtime import Runtime, open_runtime
from bot.runtime.manifest import BOT_SCOPES
from bot.settings import load_settings
from slack_emulator import Message, SlackDriver, SlackEmulator, message_text
from tests.support import queries
from tests.support.asgi import free_port, running_server

SIGNING_SECRET = "e2e-signing-secret"
SECRET_KEY = "e2e-secret-key-0123456789abcdefghijkl"
AGENT = "U0AGENT001"
OTHER_AGENT = "U0AGENT002"
SUPERVISORS = "C0SUPERVIS"
CODE = re.compile(r"\b(\d{6,10})\b")

CONTACTS_CSV = """name,email,phone,company,external_id
Jane Doe,jane.doe@globex.example,+1 513 555 7611,Globex,c-1
John Smith,john.smith@initech.example,+1 513 555 0199,Initech,c-2
Joan Smith,joan.smith@umbrella.example,+1 513 555 0142,Umbrella,c-3
Email Only,email.only@globex.example,,Globex,c-4
"""


@dataclass
class RunningBot:
    emulator: SlackEmulator
    driver: SlackDriver
    runtime: Runtime
    clock: ManualClock
    url: str
    # How long each send retry would have waited (tests never sleep for real).
    retry_sleeps: list[float]

    async def verify(self, text: str, *, user: str = AGENT) -> httpx.Response:
        return await self.driver.slash_command(user, "/verify", text)

    async def open_card(self, text: str, *, user: str = AGENT) -> Message:
        before = len(self.emulator.dm_messages(user))
        response = await self.verify(text, user=user)
        assert response.status_code == 200

        def new_card() -> Message | None:
            new = self.emulator.dm_messages(user)[before:]
            return new[-1] if new else None

        return await self.driver.wait_for(new_card)

    async def ephemeral_replies(self, count: int, *, user: str = AGENT) -> list[Message]:
        """Wait until `user` has been sent exactly `count` ephemeral messages; return them."""

        def replies() -> list[Message] | None:
            sent = self.driver.ephemeral_messages(user)
            return sent if len(sent) == count else None

        return await self.driver.wait_for(replies)

    async def wait_text(self, message: Message, fragment: str, timeout: float = 5.0) -> str:
        """Wait until the (live, updated in place) message shows `fragment`."""
        return await self.driver.wait_for(
            lambda: message_text(message) if fragment in message_text(message) else None, timeout
        )

    async def console_codes(self) -> list[str]:
        async with self.runtime.db.transaction() as session:
            bodies = [m.body for m in await queries.list_console_messages(session=session)]
        return [match.group(1) for body in bodies if (match := CODE.search(body))]

    def supervisor_posts(self) -> list[Message]:
        """Top-level messages in the supervisors' channel (one live message per
        verification, and the settings thread's first message)."""
        return [
            m
            for m in self.emulator.messages(SUPERVISORS)
            if m.thread_ts is None or m.thread_ts == m.ts
        ]

    def thread_replies(self, parent: Message, channel: str = SUPERVISORS) -> list[Message]:
        return [
            m
            for m in self.emulator.messages(channel)
            if m.thread_ts == parent.ts and m.ts != parent.ts
        ]

    async def live_message(self, fragment: str, timeout: float = 5.0) -> Message:
        """The supervisors' live message, once it shows `fragment`."""

        def showing() -> Message | None:
            for post in self.supervisor_posts():
                if fragment in message_text(post):
                    return post
            return None

        return await self.driver.wait_for(showing, timeout)

    async def settings_reply(self, fragment: str, timeout: float = 5.0) -> Message:
        """A settings announcement: a reply in the channel's standing settings thread."""
        parent = await self.live_message("PIN Verify settings changes", timeout)
        return await self.thread_reply(parent, fragment, timeout)

    async def thread_reply(self, parent: Message, fragment: str, timeout: float = 5.0) -> Message:
        def found() -> Message | None:
            for reply in self.thread_replies(parent):
                if fragment in message_text(reply):
                    return reply
            return None

        return await self.driver.wait_for(found, timeout)


class BotFactory(Protocol):
    """`running_bot` with the test's database already chosen (the e2e `running_bot` fixture)."""

    def __call__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        clock: ManualClock | None = None,
        contacts_csv: str = CONTACTS_CSV,
        public: bool = False,
    ) -> AbstractAsyncContextManager[RunningBot]: ...


def new_emulator() -> SlackEmulator:
    emulator = SlackEmulator(scopes=tuple(BOT_SCOPES))
    emulator.add_user(AGENT, "alice", real_name="Alice Agent", email="alice@msp.example")
    emulator.add_user(OTHER_AGENT, "carol", real_name="Carol Agent", email="carol@msp.example")
    emulator.add_user("U0SUPER001", "sam", real_name="Sam Supervisor", email="sam@msp.example")
    emulator.add_channel(
        SUPERVISORS, "supervisors", is_private=True, members=["U0SUPER001"], bot_is_member=True
    )
    return emulator


@asynccontextmanager
async def running_bot(
    database_url: str,
    *,
    env: Mapping[str, str] | None = None,
    clock: ManualClock | None = None,
    emulator: SlackEmulator | None = None,
    contacts_csv: str = CONTACTS_CSV,
    public: bool = False,
) -> AsyncIterator[RunningBot]:
    """`public`: the app learns its own URL as PINVERIFY_PUBLIC_URL, so providers can post
    signed delivery reports to it."""
    emulator = emulator or new_emulator()
    clock = clock or ManualClock()
    retry_sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        retry_sleeps.append(seconds)
        clock.advance(seconds=seconds)

    port = free_port() if public else 0
    public_env = {"PINVERIFY_PUBLIC_URL": f"http://127.0.0.1:{port}"} if public else {}
    async with running_server(emulator.asgi_app()) as slack_url:
        emulator.base_url = slack_url
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": emulator.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": emulator.api_url,
                "DATABASE_URL": database_url,
                "PINVERIFY_SECRET_KEY": SECRET_KEY,
                "PINVERIFY_SUPERVISOR_CHANNEL": SUPERVISORS,
                "PINVERIFY_OUTBOX_POLL_SECONDS": "0.05",
                # The emulator only enforces Slack's pace when a test asks it to.
                "PINVERIFY_SLACK_CHANNEL_INTERVAL": "0.5",
                "PINVERIFY_ORG_NAME": "Acme IT",
                **public_env,
                **(env or {}),
            }
        )
        async with (
            open_runtime(settings, clock=clock, sleep=sleep) as runtime,
            running_server(runtime.server, port=port) as app_url,
            httpx.AsyncClient(timeout=10) as http,
        ):
            rows, problems = parse_contact_csv(contacts_csv, region="US")
            assert not problems, problems
            await import_contacts(rows, db=runtime.db, clock=clock)
            driver = SlackDriver(f"{app_url}/slack/events", SIGNING_SECRET, emulator, http)
            yield RunningBot(
                emulator=emulator,
                driver=driver,
                runtime=runtime,
                clock=clock,
                url=app_url,
                retry_sleeps=retry_sleeps,
            )
            assert emulator.invalid_payloads == [], emulator.invalid_payloads
            assert driver.interaction_errors == [], driver.interaction_errors
