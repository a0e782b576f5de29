"""The supervisors' App Home figures, checked against hand counts of seeded verifications;
who sees them; the daily digest with its chart; an admin's audit download from Home."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from slack_emulator import SlackEmulator, StoredView, message_text
from tests.support import queries
from tests.support.bot import AGENT, OTHER_AGENT, SUPERVISORS, BotFactory, RunningBot, new_emulator
from tests.support.supervision import Plan, contact, drive

SUPERVISOR = "U0SUPER001"
ADMIN = "U0ADMIN001"
GROUP = "S0SUPERVS1"
ENV = {
    "PINVERIFY_SUPERVISOR_USERGROUP": GROUP,
    "PINVERIFY_SHOW_CODE_TO_AGENT": "true",
    "PINVERIFY_DIGEST": "daily",
}
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # a Monday, noon UTC
DAY = 86_400.0

# (days before NOW, agent, plan, seconds to answer), in time order.
SEEDED: list[tuple[float, str, Plan, float]] = [
    (40, AGENT, "verified", 10),  # outside every window
    (10, AGENT, "verified", 20),
    (10, AGENT, "verified", 40),
    (10, OTHER_AGENT, "wrong_then_incomplete", 5),
    (3, OTHER_AGENT, "completed_unverified", 5),
    (3, AGENT, "locked", 5),
    (1, AGENT, "verified", 60),  # yesterday: the daily digest's day
    (0.125, AGENT, "verified", 90),  # today, 09:00
    (0.125, OTHER_AGENT, "open", 5),
]


@pytest.fixture
def emulator() -> SlackEmulator:
    emulator = new_emulator()
    emulator.add_user(ADMIN, "ada", real_name="Ada Admin", is_admin=True)
    emulator.add_usergroup(GROUP, "supervisors", [SUPERVISOR])
    return emulator


async def seed(bot: RunningBot, clock: ManualClock) -> None:
    for number, (days_before, agent, plan, answer_after) in enumerate(SEEDED):
        target = NOW.timestamp() - days_before * DAY
        clock.advance(seconds=target - clock.now().timestamp())
        await drive(
            bot.runtime.deps,
            team_id=bot.emulator.team.id,
            agent=agent,
            who=contact(number),
            plan=plan,
            clock=clock,
            answer_after=answer_after,
        )
    clock.advance(seconds=NOW.timestamp() - clock.now().timestamp())


async def home_of(bot: RunningBot, user: str) -> StoredView:
    before = bot.emulator.home_view(user)
    await bot.driver.open_home(user)
    return await bot.driver.wait_for(
        lambda: (
            view
            if (view := bot.emulator.home_view(user)) is not None and view is not before
            else None
        )
    )


def row(label: str, counts: tuple[int, ...], median: str) -> str:
    names = ("Verif.", "✔ code", "no code", "Incompl.", "Locked", "Edited")
    cells = " · ".join(f"{name} {value}" for name, value in zip(names, counts, strict=True))
    return f"• *{label}*: {cells} · Median {median}"


async def test_supervisor_figures_match_a_hand_count(running_bot: BotFactory) -> None:
    clock = ManualClock(start=datetime(2026, 5, 6, 12, 0, tzinfo=UTC))
    async with running_bot(env=ENV, clock=clock) as bot:
        await seed(bot, clock)
        home = message_text(await home_of(bot, SUPERVISOR))
        # By hand: 30 days holds 8 (not the one 40 days back); 7 days holds the last 5;
        # today the 2 opened at 09:00. Medians of open → verified: 20/40/60/90 s → 50 s.
        assert row("today", (2, 1, 0, 0, 0, 0), "90 s") in home
        assert row("7 days", (5, 2, 1, 1, 1, 0), "75 s") in home
        assert row("30 days", (8, 4, 1, 2, 1, 0), "50 s") in home
        # Per agent for 7 days: alice has the lockout and two verified; carol one without a
        # code and one still open.
        assert row(f"<@{AGENT}>", (3, 2, 0, 1, 1, 0), "75 s") in home
        assert row(f"<@{OTHER_AGENT}>", (2, 0, 1, 0, 0, 0), "–") in home
        assert "Open now: 1" in home and "Caller 8" in home
        # The window can be switched to 30 days.
        view = bot.emulator.home_view(SUPERVISOR)
        assert view is not None
        await bot.driver.select(SUPERVISOR, view, "Window", "30 days")
        switched = await bot.driver.wait_for(
            lambda: (
                v
                if (v := bot.emulator.home_view(SUPERVISOR)) is not None
                and "Per agent (30 days)" in message_text(v)
                else None
            )
        )
        assert row(f"<@{AGENT}>", (5, 4, 0, 1, 1, 0), "50 s") in message_text(switched)

        # An agent sees none of it; an admin does.
        assert "Supervisors" not in message_text(await home_of(bot, AGENT))
        assert "Open now: 1" in message_text(await home_of(bot, ADMIN))


async def test_daily_digest_posts_figures_and_a_chart_once(running_bot: BotFactory) -> None:
    clock = ManualClock(start=datetime(2026, 5, 6, 12, 0, tzinfo=UTC))
    async with running_bot(env=ENV, clock=clock) as bot:
        await seed(bot, clock)
        assert len(await bot.runtime.digests.tick()) == 1
        assert await bot.runtime.digests.tick() == []  # once per period, whoever ticks
        # Behind the seeded verifications' live messages, at the channel's pace.
        shared = await bot.driver.wait_for(
            lambda: [m for m in bot.emulator.messages(SUPERVISORS) if m.files], timeout=30
        )
        (message,) = shared
        assert "daily digest* for 2026-06-14" in message.text
        assert "1 verifications: 1 completed with a verified code" in message.text
        assert f"<@{AGENT}>" in message.text and "median 60 s" in message.text
        (chart,) = [f for f in bot.emulator.files.values() if f.completed]
        assert chart.content is not None and chart.content.startswith(b"\x89PNG")
        assert chart.filename.endswith("2026-06-14.png")


async def test_admins_download_the_audit_log_from_home(running_bot: BotFactory) -> None:
    async with running_bot(env=ENV) as bot:
        card = await bot.open_card("+1 513 555 7611")
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent")
        home = await home_of(bot, ADMIN)
        await bot.driver.click(ADMIN, home, "Download audit log")
        (shared,) = await bot.driver.wait_for(
            lambda: [m for m in bot.emulator.dm_messages(ADMIN) if m.files]
        )
        assert "The audit log of the last 30 days" in shared.text
        (upload,) = [f for f in bot.emulator.files.values() if f.completed]
        assert upload.content is not None
        rows = list(csv.DictReader(io.StringIO(upload.content.decode())))
        kinds = [r["kind"] for r in rows]
        assert "verification_opened" in kinds and "code_sent" in kinds
        assert all(r["hash"] and r["prev_hash"] for r in rows)
        async with bot.runtime.db.transaction() as session:
            events = await queries.list_audit_events(session=session)
        (exported,) = [e for e in events if e.kind == "audit_exported"]
        assert exported.actor_user_id == ADMIN and exported.detail["events"] == len(rows)
