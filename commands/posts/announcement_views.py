"""Settings and template changes as the supervisors' channel shows them."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.outbox import PolicyAnnouncement, SettingChangeLine
from commands.blocks import escape


def settings_announcement(
    announcement: PolicyAnnouncement, *, mention: str | None = None
) -> list[Block]:
    """An admin's change as the supervisors see it: who, and each old → new.

    The payload holds plain words; everything is escaped here, so an admin's template text
    or a user group's name can never become a mention or a link in the channel. The only
    mention is the supervisors' user group (`mention`), so the change notifies them."""
    lines = [
        f"• *{escape(change.setting)}*: {_value(change.old, change.old_channel)} → "
        f"{_value(change.new, change.new_channel)}"
        for change in announcement.changes
    ]
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=(f"<!subteam^{mention}> " if mention else "")
                + f"⚙️ <@{announcement.actor_user_id}> changed PIN Verify settings:"
            )
        ),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000] or "(no details)")),
    ]


def settings_announcement_text(announcement: PolicyAnnouncement) -> str:
    count = len(announcement.changes)
    return f"PIN Verify settings changed ({count} setting{'s' if count != 1 else ''})"


def _value(words: str, channel: str | None) -> str:
    if channel:
        return f"<#{channel}>"  # a channel link notifies nobody
    # Backticks would open a code span in the middle of a quoted template.
    return escape(words).replace("`", "'")


__all__ = ["SettingChangeLine", "settings_announcement", "settings_announcement_text"]
