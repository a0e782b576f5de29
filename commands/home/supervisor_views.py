"""The supervisors' part of App Home: the figures for today / 7 / 30 days, per agent and per
client company for the chosen window, and the verifications open right now."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.outbox import DigestRow
from bot.supervision import WINDOWS, SupervisorFigures
from commands.blocks import escape, slack_time
from commands.ids import ActionId, BlockId

COLUMNS = ("Verif.", "✔ code", "no code", "Incompl.", "Locked", "Edited", "Median")
ROWS_SHOWN = 10


def supervisor_blocks(figures: SupervisorFigures) -> list[Block]:
    options = [Option(text=PlainTextObject(text=w.capitalize()), value=w) for w in WINDOWS]
    chosen = next(o for o in options if o.value == figures.window)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Supervisors")),
        SectionBlock(
            text=MarkdownTextObject(
                text="*All verifications*\n" + _table([figures.totals[w] for w in WINDOWS])
            )
        ),
        ActionsBlock(
            block_id=BlockId.FIGURES,
            elements=[
                StaticSelectElement(
                    action_id=ActionId.FIGURES_WINDOW,
                    options=options,
                    initial_option=chosen,
                    placeholder=PlainTextObject(text="Window"),
                )
            ],
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Per agent ({figures.window})*\n"
                + _table(figures.by_agent[:ROWS_SHOWN], mention=True)
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Per client company ({figures.window})*\n"
                + _table(figures.by_company[:ROWS_SHOWN])
            )
        ),
        SectionBlock(text=MarkdownTextObject(text=_open_text(figures))),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Counted by the day a verification was opened. ✔ code: completed "
                    "with a verified code; no code: completed without one; Median: open to "
                    "verified."
                )
            ]
        ),
        DividerBlock(),
    ]
    return blocks


def _table(rows: list[DigestRow], *, mention: bool = False) -> str:
    if not rows:
        return "_None yet._"
    lines = []
    for row in rows:
        label = f"<@{row.label}>" if mention else escape(row.label or "(no company)")
        median = (
            f"{round(row.median_seconds_to_verify)} s"
            if row.median_seconds_to_verify is not None
            else "–"
        )
        numbers = (
            row.verifications,
            row.completed_verified,
            row.completed_unverified,
            row.incomplete,
            row.lockouts,
            row.destination_edits,
        )
        cells = " · ".join(f"{name} {value}" for name, value in zip(COLUMNS, numbers, strict=False))
        lines.append(f"• *{label}*: {cells} · Median {median}")
    return "\n".join(lines)[:2900]


def _open_text(figures: SupervisorFigures) -> str:
    head = f"*Open now: {figures.open_count}*"
    if not figures.open_now:
        return head
    lines = [
        f"• <@{item.agent_user_id}> — {escape(item.contact_name)} "
        f"({escape(item.company or 'no company')}), {item.state.replace('_', ' ')}"
        f"{f', {item.failed_checks} wrong' if item.failed_checks else ''} · opened "
        f"{slack_time(item.created_at)}"
        for item in figures.open_now
    ]
    return (head + "\n" + "\n".join(lines))[:2900]
