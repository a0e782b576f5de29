"""Posting the supervisors' digest: the figures as text and the chart as a PNG, one file
share in the supervisors' channel (files.uploadV2). On a retry the channel's recent history is
searched for the file first, so a crash after the upload does not post it twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import DigestRow, SupervisorDigest
from commands.blocks import escape
from commands.posts.digest_chart import digest_chart_png
from commands.posts.slack_channel import call_slack


class SlackDigestPoster:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post_digest(self, digest: SupervisorDigest, *, filename: str, retry: bool) -> None:
        if retry and await self._already_posted(digest, filename):
            return
        # Drawing is CPU work: off the event loop, so acks stay fast.
        png = await asyncio.to_thread(digest_chart_png, digest)
        await call_slack(
            "digest",
            lambda: self._client.files_upload_v2(
                channel=digest.channel,
                content=png,
                filename=filename,
                title=f"PIN Verify {digest.period} digest",
                initial_comment=digest_text(digest),
                alt_txt="Verifications per day, stacked by outcome, with lockouts",
            ),
        )

    async def _already_posted(self, digest: SupervisorDigest, filename: str) -> bool:
        since = digest.ends - timedelta(minutes=5)
        page = await call_slack(
            "digest lookup",
            lambda: self._client.conversations_history(
                channel=digest.channel, oldest=f"{since.timestamp():.6f}", limit=200
            ),
        )
        for message in page.get("messages") or []:
            for file in message.get("files") or []:
                if file.get("name") == filename:
                    return True
        return False


def digest_text(digest: SupervisorDigest) -> str:
    span = (
        digest.starts.date().isoformat()
        if digest.period == "daily"
        else f"{digest.starts.date().isoformat()} to {(digest.ends - timedelta(days=1)).date()}"
    )
    lines = [f"📊 *PIN Verify {digest.period} digest* for {span}", _line(digest.totals)]
    if digest.by_agent:
        lines.append("*By agent*")
        lines += [f"• <@{row.label}>: {_line(row)}" for row in digest.by_agent]
    if digest.by_company:
        lines.append("*By client company*")
        lines += [f"• {escape(row.label)}: {_line(row)}" for row in digest.by_company]
    return "\n".join(lines)[:3900]


def _line(row: DigestRow) -> str:
    median = (
        f"median {round(row.median_seconds_to_verify)} s to verify"
        if row.median_seconds_to_verify is not None
        else "none verified"
    )
    return (
        f"{row.verifications} verifications: {row.completed_verified} completed with a "
        f"verified code, {row.completed_unverified} without, {row.incomplete} incomplete; "
        f"{row.lockouts} lockouts, {row.destination_edits} destination edits; {median}"
    )
