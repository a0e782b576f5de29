"""Pure Block Kit builders for App Home: recent verifications, and the policy for admins."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.supervision import SupervisorFigures
from bot.verification import VerificationState
from bot.workspace import (
    RECENT_LIMIT,
    SETTING_LABELS,
    Policy,
    RecentVerification,
    Role,
    SettingsChoices,
    describe_value,
)
from commands.blocks import escape, slack_time
from commands.home.supervisor_views import supervisor_blocks
from commands.ids import ActionId, ButtonLabel

# --- App Home ----------------------------------------------------------------------------------


def home_view(
    *,
    role: Role,
    recent: Sequence[RecentVerification],
    policy: Policy | None = None,
    warnings: Sequence[str] = (),
    notice: str | None = None,
    figures: SupervisorFigures | None = None,
) -> View:
    """Agents see their recent verifications; admins also see the policy and its warnings.

    `policy` is only used for admins: an agent's home never shows the rules' details."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="PIN Verify"))]
    if figures is not None:
        blocks.extend(supervisor_blocks(figures))
    if role is Role.ADMIN and policy is not None:
        blocks.extend(_admin_blocks(policy, warnings))
        blocks.append(DividerBlock())
    if role is Role.NONE:
        text = notice or (
            "You are not in the user group allowed to verify callers. Ask a PIN Verify admin "
            "to add you."
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=escape(text))))
        return View(type="home", blocks=blocks)
    blocks.extend(_recent_blocks(recent))
    return View(type="home", blocks=blocks)


def _recent_blocks(recent: Sequence[RecentVerification]) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="*Your recent verifications*")),
    ]
    if not recent:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="None yet. Run `/verify <phone | email | name>` on a call."
                    )
                ]
            )
        )
        return blocks
    lines = [
        f"• *{escape(item.contact_name)}* ({escape(item.company) or 'no company'}) — "
        f"{_outcome_text(item)} · {slack_time(item.created_at)}"
        for item in recent[:RECENT_LIMIT]
    ]
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000])))
    return blocks


def _outcome_text(item: RecentVerification) -> str:
    if item.outcome == "completed":
        return (
            "✅ Completed"
            if item.state == VerificationState.VERIFIED
            else "⚠️ Completed without a code"
        )
    if item.outcome == "incomplete":
        return "❌ Incomplete"
    return "⏳ Open"


def _admin_blocks(policy: Policy, warnings: Sequence[str]) -> list[Block]:
    no_choices = SettingsChoices(sms_providers=(), email_providers=(), usergroups=())
    fields = []
    for setting, label in SETTING_LABELS.items():
        value = getattr(policy, setting)
        if setting == "agent_usergroup" and value:
            # A user group mention in a view shows its @handle and notifies nobody.
            shown = f"<!subteam^{value}>"
        else:
            shown = describe_value(setting, value, no_choices)
        fields.append(MarkdownTextObject(text=f"*{label}*\n{shown}"))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="*Policy for this workspace*")),
        # A section holds at most 10 fields.
        *(SectionBlock(fields=fields[i : i + 10]) for i in range(0, len(fields), 10)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=PlainTextObject(text=ButtonLabel.EDIT_TEMPLATES),
                    action_id=ActionId.EDIT_TEMPLATES,
                ),
                ButtonElement(
                    text=PlainTextObject(text=ButtonLabel.SETTINGS),
                    action_id=ActionId.OPEN_SETTINGS,
                    style="primary",
                ),
                ButtonElement(
                    text=PlainTextObject(text=ButtonLabel.DOWNLOAD_AUDIT),
                    action_id=ActionId.DOWNLOAD_AUDIT,
                ),
            ]
        ),
    ]
    if warnings:
        text = "\n".join(f"⚠️ {warning}" for warning in warnings)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Warnings*\n{text}")))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="✅ No unsafe settings.")]))
    return blocks
