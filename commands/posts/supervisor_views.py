"""The supervisors' channel post for a closed verification: masked, no code, ever."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.verification.snapshots import DESTINATION_NOT_ON_RECORD
from commands.blocks import escape, slack_time


def supervisor_post(report: Mapping[str, object]) -> list[Block]:
    """One closed verification as the supervisors see it: masked, no code, ever."""
    outcome = str(report["outcome"]).capitalize()
    verified = bool(report["verified"])
    if outcome == "Completed" and verified:
        headline = "✅ *Completed* (code verified)"
    elif outcome == "Completed":
        headline = "⚠️ *Completed without a verified code*"
    else:
        headline = "❌ *Incomplete*"
    contact = escape(str(report["contact_name"]))
    company = escape(str(report["company"] or "no company"))
    method = report["method"]
    method_text = (
        f"{'SMS' if method == 'sms' else 'Email'} to {report['masked_destination']}"
        if method
        else "no code sent"
    )
    times = [
        f"{label} {slack_time(datetime.fromisoformat(str(report[key])))}"
        for label, key in (
            ("opened", "opened_at"),
            ("code sent", "code_sent_at"),
            ("verified", "verified_at"),
            ("closed", "closed_at"),
        )
        if report.get(key)
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{headline}: {contact} ({company})")),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Agent*\n<@{report['agent_user_id']}>"),
                MarkdownTextObject(text=f"*Method*\n{method_text}"),
                MarkdownTextObject(text=f"*Check*\n{report['check']}"),
                MarkdownTextObject(text=f"*Outcome*\n{outcome}"),
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=" · ".join(times) + f" · ref `{str(report['verification_id'])[:8]}`"
                )
            ]
        ),
    ]
    if report.get("destination_edited"):
        reason = escape(str(report.get("edit_reason") or "none given"))
        blocks.insert(
            1,
            SectionBlock(
                text=MarkdownTextObject(text=f"*{DESTINATION_NOT_ON_RECORD}*. Reason: {reason}")
            ),
        )
    return blocks


def supervisor_fallback_text(report: Mapping[str, object]) -> str:
    name = escape(str(report["contact_name"]))
    return f"Verification {report['outcome']}: {name} ({report['check']})"
