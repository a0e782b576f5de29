"""The contact's recent history on the card, where the agent decides: a clear warning when
the contact is locked out or failed recently, then the last 30 days in one line each."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.verification import ContactHistory, VerificationSnapshot
from commands.blocks import slack_time


def history_blocks(snapshot: VerificationSnapshot) -> list[Block]:
    history = snapshot.history
    if history is None or history.empty:
        return []
    blocks: list[Block] = []
    warning = locked_out_text(history) if history.locked_out else None
    if warning is None and (history.lockouts or history.failed_checks):
        warning = (
            "⚠️ *This caller failed verification recently*: "
            f"{_count(history.lockouts, 'lockout')} and "
            f"{_count(history.failed_checks, 'wrong code')} in the last 30 days. Be sure "
            "before you verify; a supervisor sees this too."
        )
    if warning:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=warning)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=summary_text(history))]))
    return blocks


def locked_out_text(history: ContactHistory) -> str:
    return (
        f"🔒 *This contact is locked out*: {history.failures_24h} wrong codes in the last "
        f"24 hours (limit {history.failure_cap}). No code can be sent to them now; ask a "
        "supervisor."
    )


def summary_text(history: ContactHistory) -> str:
    parts = [
        f"Last 30 days: {_count(history.lockouts, 'lockout')}",
        _count(history.failed_checks, "wrong code"),
        _count(history.destination_edits, "edited destination"),
    ]
    last = history.last_verified
    if last is None:
        parts.append("no successful verification")
    else:
        method = f" by {last.method}" if last.method else ""
        parts.append(f"last verified {slack_time(last.at)} by <@{last.agent_user_id}>{method}")
    return " · ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
