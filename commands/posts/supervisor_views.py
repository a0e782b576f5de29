"""The supervisors' channel post for a closed verification: masked, no code, ever."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.outbox import SupervisorReport
from bot.tickets import DESTINATION_NOT_ON_RECORD
from commands.blocks import escape, slack_time


def supervisor_post(report: SupervisorReport) -> list[Block]:
    """One closed verification as the supervisors see it: masked, no code, ever."""
    outcome = report.outcome.capitalize()
    verified = report.verified
    if outcome == "Completed" and verified:
        headline = "✅ *Completed* (code verified)"
    elif outcome == "Completed":
        headline = "⚠️ *Completed without a verified code*"
    else:
        headline = "❌ *Incomplete*"
    contact = escape(report.contact_name)
    company = escape(report.company or "no company")
    method = report.method
    method_text = (
        f"{'SMS' if method == 'sms' else 'Email'} to {escape(report.masked_destination or '')}"
        if method
        else "no code sent"
    )
    times = [
        f"{label} {slack_time(moment)}"
        for label, moment in (
            ("opened", report.opened_at),
            ("code sent", report.code_sent_at),
            ("verified", report.verified_at),
            ("closed", report.closed_at),
        )
        if moment is not None
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{headline}: {contact} ({company})")),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Agent*\n<@{report.agent_user_id}>"),
                MarkdownTextObject(text=f"*Method*\n{method_text}"),
                MarkdownTextObject(text=f"*Check*\n{escape(report.check)}"),
                MarkdownTextObject(text=f"*Outcome*\n{outcome}"),
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=" · ".join(times) + f" · ref `{report.verification_id[:8]}`"
                )
            ]
        ),
    ]
    if report.destination_edited:
        reason = escape(report.edit_reason or "none given")
        blocks.insert(
            1,
            SectionBlock(
                text=MarkdownTextObject(text=f"*{DESTINATION_NOT_ON_RECORD}*. Reason: {reason}")
            ),
        )
    return blocks


def supervisor_fallback_text(report: SupervisorReport) -> str:
    name = escape(report.contact_name)
    return f"Verification {report.outcome}: {name} ({escape(report.check)})"
