"""Delivering what supervisors are told, idempotently, through a Slack port the edge
implements (`SupervisorChannel`, in commands/posts).

A post is made once even when a relay dies mid-delivery (kill -9 after Slack accepted it):
- the live message's ts is stored the moment it is posted, and every later delivery of the
  row updates that message (chat.update) instead of posting;
- a delivery that is not the row's first try (an earlier one may have reached Slack without
  recording its ts) first looks for the message by its marker (Slack message metadata
  carrying the row's key, read back with conversations.history / conversations.replies) and
  adopts it if found.
Replies wait (without counting as failures) until their parent message exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.outbox import (
    DeliveryPostponed,
    LiveReport,
    OutboxAttempt,
    OutboxDraft,
    PolicyAnnouncement,
    SupervisorAlert,
)
from bot.supervision.live import live_key
from bot.workspace import Policy, load_policy
from storage import repositories as repo
from storage.db import Database

SETTINGS_THREAD = "settings"
# How far back a marker lookup reads: the row's own age plus this margin.
LOOKUP_MARGIN = timedelta(minutes=5)
PARENT_WAIT_SECONDS = 2.0


class MessageGone(Exception):
    """The message to update no longer exists (someone deleted it)."""


class SupervisorChannel(Protocol):
    """The Slack calls supervision needs; each raises `DeliveryDeferred` on Slack trouble."""

    async def post_live(self, report: LiveReport, *, marker: str) -> str:
        """Post the live message (with `marker` in its metadata); returns its ts."""
        ...

    async def update_live(self, report: LiveReport, *, channel: str, ts: str) -> None:
        """Raises MessageGone when the message was deleted."""
        ...

    async def post_alert(
        self, alert: SupervisorAlert, *, channel: str, thread_ts: str | None, mention: str | None,
        marker: str,
    ) -> str: ...  # fmt: skip

    async def post_thread_parent(self, *, channel: str, purpose: str, marker: str) -> str: ...

    async def post_announcement(
        self, announcement: PolicyAnnouncement, *, channel: str, thread_ts: str,
        mention: str | None, marker: str,
    ) -> str: ...  # fmt: skip

    async def find_marked(
        self, *, channel: str, marker: str, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        """The ts of the app's message carrying `marker` in `channel` (or in the thread)."""
        ...


@dataclass(frozen=True)
class PostingTools:
    db: Database
    clock: Clock
    slack: SupervisorChannel
    defaults: Policy


class _Handler:
    """The parts every supervision handler shares."""

    def __init__(self, tools: PostingTools) -> None:
        self._db = tools.db
        self._clock = tools.clock
        self._slack = tools.slack
        self._defaults = tools.defaults

    async def settled(self, attempt: OutboxAttempt, *, error: str | None) -> None:
        return None

    def escalate(self, attempt: OutboxAttempt, *, error: str) -> list[OutboxDraft]:
        return []

    async def _policy(self, team_id: str | None) -> Policy | None:
        if team_id is None:
            return None
        async with self._db.transaction() as session:
            return await load_policy(session=session, team_id=team_id, defaults=self._defaults)

    async def _mention(self, team_id: str | None) -> str | None:
        policy = await self._policy(team_id)
        return policy.supervisor_usergroup if policy else None

    async def _find(
        self, attempt: OutboxAttempt, *, channel: str, marker: str, since: datetime,
        thread_ts: str | None = None,
    ) -> str | None:  # fmt: skip
        """Only a retry looks: on a first try nothing can have reached Slack yet."""
        if attempt.first:
            return None
        return await self._slack.find_marked(
            channel=channel, marker=marker, since=since - LOOKUP_MARGIN, thread_ts=thread_ts
        )


class LiveMessageHandler(_Handler):
    """Posts a verification's live message once, then keeps it current with chat.update."""

    async def deliver(self, attempt: OutboxAttempt) -> None:
        report = LiveReport.from_row(attempt.payload)
        async with self._db.transaction() as session:
            known = await repo.get_supervisor_message(
                session=session, verification_id=report.verification_id
            )
        if known is not None:
            try:
                await self._slack.update_live(report, channel=known.channel, ts=known.ts)
                return
            except MessageGone:
                pass  # deleted by someone: post it again below (and record the new ts)
        marker = live_key(report.verification_id)
        found = None
        if known is None:
            found = await self._find(
                attempt, channel=report.channel, marker=marker, since=report.opened_at
            )
        if found is not None:
            await self._record(report, report.channel, found, replace=False)
            await self._slack.update_live(report, channel=report.channel, ts=found)
            return
        ts = await self._slack.post_live(report, marker=marker)
        await self._record(report, report.channel, ts, replace=known is not None)

    async def _record(self, report: LiveReport, channel: str, ts: str, *, replace: bool) -> None:
        async with self._db.transaction() as session:
            if replace:
                await repo.forget_supervisor_message(
                    session=session, verification_id=report.verification_id
                )
            await repo.record_supervisor_message(
                session=session,
                verification_id=report.verification_id,
                team_id=report.team_id,
                channel=channel,
                ts=ts,
                at=self._clock.now(),
            )


class AlertHandler(_Handler):
    """A risk event as a reply in the live message's thread (mentioning the supervisors'
    user group, so it notifies); top-level only when the verification has no live message."""

    async def deliver(self, attempt: OutboxAttempt) -> None:
        alert = SupervisorAlert.from_row(attempt.payload)
        async with self._db.transaction() as session:
            parent = await repo.get_supervisor_message(
                session=session, verification_id=alert.verification_id
            )
            live_row = await repo.get_outbox_message(
                session=session, dedupe_key=live_key(alert.verification_id)
            )
            verification = await repo.get_verification(
                session=session, verification_id=alert.verification_id
            )
        if parent is None and live_row is not None:
            raise DeliveryPostponed("waiting for the live message", seconds=PARENT_WAIT_SECONDS)
        channel = parent.channel if parent else alert.channel
        thread_ts = parent.ts if parent else None
        since = verification.created_at if verification else self._clock.now() - timedelta(days=1)
        found = await self._find(
            attempt, channel=channel, marker=attempt.dedupe_key, since=since, thread_ts=thread_ts
        )
        if found is not None:
            return
        await self._slack.post_alert(
            alert,
            channel=channel,
            thread_ts=thread_ts,
            mention=await self._mention(verification.team_id if verification else None),
            marker=attempt.dedupe_key,
        )


class AnnouncementHandler(_Handler):
    """Settings and template changes as replies in the channel's standing settings thread,
    so they never sit between verifications. The thread's first message is posted (and its
    ts kept) the first time; the reply then waits for the channel's next slot."""

    async def deliver(self, attempt: OutboxAttempt) -> None:
        announcement = PolicyAnnouncement.from_row(attempt.payload)
        channel = announcement.channel
        async with self._db.transaction() as session:
            thread = await repo.get_channel_thread(
                session=session, channel=channel, purpose=SETTINGS_THREAD
            )
        since = self._clock.now() - timedelta(days=1)
        if thread is None:
            marker = f"thread:{SETTINGS_THREAD}"
            ts = await self._find(attempt, channel=channel, marker=marker, since=since)
            if ts is None:
                ts = await self._slack.post_thread_parent(
                    channel=channel, purpose=SETTINGS_THREAD, marker=marker
                )
            async with self._db.transaction() as session:
                await repo.record_channel_thread(
                    session=session,
                    channel=channel,
                    purpose=SETTINGS_THREAD,
                    ts=ts,
                    at=self._clock.now(),
                )
            # One message per slot: the reply goes in the channel's next one.
            raise DeliveryPostponed("thread started; the reply follows", seconds=0)
        found = await self._find(
            attempt, channel=channel, marker=attempt.dedupe_key, since=since, thread_ts=thread.ts
        )
        if found is not None:
            return
        await self._slack.post_announcement(
            announcement,
            channel=channel,
            thread_ts=thread.ts,
            mention=await self._mention(announcement.team_id),
            marker=attempt.dedupe_key,
        )
