"""Settings and template changes as the supervisors' channel shows them."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import (
    Block,
    MarkdownTextObject,
    SectionBlock,
)


def settings_announcement(payload: Mapping[str, object]) -> list[Block]:
    """An admin's change as the supervisors see it: who, and each old → new.

    The payload's texts are mrkdwn already made safe by whoever wrote the outbox row
    (describe_value for settings, the template service for templates): escaping them again
    here would show `&amp;lt;` to supervisors."""
    changes = payload.get("changes")
    rows = changes if isinstance(changes, list) else []
    lines = [
        f"• *{row['setting']}*: {row['old']} → {row['new']}"
        for row in rows
        if isinstance(row, dict)
    ]
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"⚙️ <@{payload['actor_user_id']}> changed PIN Verify settings:"
            )
        ),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000] or "(no details)")),
    ]


def settings_announcement_text(payload: Mapping[str, object]) -> str:
    changes = payload.get("changes")
    count = len(changes) if isinstance(changes, list) else 0
    return f"PIN Verify settings changed ({count} setting{'s' if count != 1 else ''})"
