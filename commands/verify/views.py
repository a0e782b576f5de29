"""The `/verify` replies: the pick list when several contacts match, no match, card opened."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.contacts import ContactRecord
from bot.masking import mask_email, mask_phone
from bot.verification import ContactHistory
from commands.blocks import escape
from commands.card.history_views import locked_out_text
from commands.ids import ActionId, BlockId

MAX_PICKS = 10


def pick_list(query_text: str, contacts: Sequence[ContactRecord]) -> list[Block]:
    """Several contacts match: the agent picks the caller (inactive ones are shown, not offered)."""
    shown = contacts[:MAX_PICKS]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{len(shown)}{'+' if len(contacts) > MAX_PICKS else ''} contacts match "
                f"“{escape(query_text)}”. Pick the caller:"
            )
        )
    ]
    for index, contact in enumerate(shown):
        details = " · ".join(
            part
            for part in (
                mask_phone(contact.phone_e164) if contact.phone_e164 else "",
                mask_email(contact.email) if contact.email else "",
            )
            if part
        )
        line = f"*{escape(contact.name)}* — {escape(contact.company) or 'no company'}\n{details}"
        if not contact.active:
            blocks.append(
                SectionBlock(
                    block_id=f"{BlockId.PICK_PREFIX}:{index}",
                    text=MarkdownTextObject(text=line + "\n_Inactive: codes cannot be sent._"),
                )
            )
            continue
        blocks.append(
            SectionBlock(
                block_id=f"{BlockId.PICK_PREFIX}:{index}",
                text=MarkdownTextObject(text=line),
                accessory=ButtonElement(
                    text=PlainTextObject(text=f"Verify {contact.name}"[:75]),
                    action_id=ActionId.PICK_CONTACT,
                    value=contact.ref,
                ),
            )
        )
    if len(contacts) > MAX_PICKS:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text="More match: search by phone or email to narrow.")
                ]
            )
        )
    return blocks


def no_match_text(query_text: str) -> str:
    return (
        f"No contact matches “{escape(query_text)}”. Check the spelling, try the caller's phone "
        "number or email, or ask them for the email address on their account. Do not send a "
        "code to a number the caller gives you that is not on record."
    )


def card_opened_text(contact_name: str, history: ContactHistory | None = None) -> str:
    opened = (
        f"Opened the verification card for *{escape(contact_name)}* in your DM with PIN Verify."
    )
    if history is not None and history.locked_out:
        # Said where the agent typed /verify too: a locked-out caller must not get a fresh
        # start by being looked up again.
        return f"{opened}\n{locked_out_text(history)}"
    return opened
