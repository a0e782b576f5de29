"""The card's ticket blocks, the Create ticket modal and the failing-note notice."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.verification import VerificationSnapshot
from commands.blocks import CardButton, escape
from commands.ids import ActionId, BlockId, ButtonLabel, CallbackId


def ticket_blocks(snapshot: VerificationSnapshot) -> list[Block]:
    """The tagged ticket and its note status; Tag ticket / Create ticket while open."""
    blocks: list[Block] = []
    ticket = snapshot.ticket
    if ticket is not None:
        number = f"#{escape(ticket.number)}"
        url = (ticket.url or "").replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
        shown = f"<{url}|{number}>" if url.startswith(("https://", "http://")) else number
        line = f"🎫 *Ticket* {shown}: {escape(ticket.summary) or 'no summary'}"
        if ticket.note_status:
            line += f"\nTicket note: {escape(ticket.note_status)}"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line[:3000])]))
    elif snapshot.require_ticket and not snapshot.closed:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="🎫 *A ticket is required* before sending a code: tag the caller's "
                        "ticket by number or create one."
                    )
                ]
            )
        )
    if snapshot.tickets_enabled and not snapshot.closed:
        tagged = ticket.number if ticket else ""
        blocks.append(
            InputBlock(
                block_id=f"{BlockId.TICKET_ENTRY_PREFIX}:{snapshot.next_seq}:{tagged}"[:255],
                label=PlainTextObject(text="Ticket number"),
                element=PlainTextInputElement(
                    action_id=ActionId.TICKET_INPUT,
                    placeholder=PlainTextObject(text="e.g. 12345"),
                    max_length=40,
                ),
                optional=True,
            )
        )
        value = CardButton(snapshot.id, snapshot.next_seq).encode()
        blocks.append(
            ActionsBlock(
                block_id=f"{BlockId.TICKET_ACTIONS}:{snapshot.next_seq}",
                elements=[
                    ButtonElement(
                        text=PlainTextObject(text=ButtonLabel.TAG_TICKET),
                        action_id=ActionId.TAG_TICKET,
                        value=value,
                    ),
                    ButtonElement(
                        text=PlainTextObject(text=ButtonLabel.CREATE_TICKET),
                        action_id=ActionId.CREATE_TICKET,
                        value=value,
                    ),
                ],
            )
        )
    return blocks


def create_ticket_modal(snapshot: VerificationSnapshot, *, psa_label: str) -> View:
    """Create ticket: one summary input; the verification id rides in private_metadata."""
    return View(
        type="modal",
        callback_id=CallbackId.CREATE_TICKET,
        private_metadata=snapshot.id,
        title=PlainTextObject(text="Create ticket"),
        submit=PlainTextObject(text="Create"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"A new ticket in {escape(psa_label)} for "
                    f"*{escape(snapshot.contact_name)}* "
                    f"({escape(snapshot.company) or 'no company'}), tagged on this verification."
                )
            ),
            InputBlock(
                block_id=BlockId.TICKET_SUMMARY,
                label=PlainTextObject(text="Summary"),
                element=PlainTextInputElement(
                    action_id=ActionId.TICKET_SUMMARY_INPUT,
                    placeholder=PlainTextObject(text="e.g. Password reset request"),
                    max_length=200,
                ),
            ),
        ],
    )
