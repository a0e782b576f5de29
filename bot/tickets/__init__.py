"""PSA tickets on a verification: find, tag, create; the require-ticket rule; the notes written
through the outbox and their text."""

from __future__ import annotations

from bot.tickets.note_text import DESTINATION_NOT_ON_RECORD, CloseNoteFacts, SendNoteFacts
from bot.tickets.notes import (
    TicketNoteHandler,
    TicketSnapshot,
    enqueue_close_note,
    enqueue_send_note,
    ticket_snapshot,
)
from bot.tickets.service import MAX_SUMMARY, TicketService, require_ticket

__all__ = [
    "DESTINATION_NOT_ON_RECORD",
    "MAX_SUMMARY",
    "CloseNoteFacts",
    "SendNoteFacts",
    "TicketNoteHandler",
    "TicketService",
    "TicketSnapshot",
    "enqueue_close_note",
    "enqueue_send_note",
    "require_ticket",
    "ticket_snapshot",
]
