"""Every kind of outbox row: what must leave the building, and who delivers it."""

from __future__ import annotations

from enum import StrEnum


class OutboxKind(StrEnum):
    TICKET_NOTE = "ticket_note"  # a note on the PSA ticket (bot/tickets/notes.py)
    SUPERVISOR_POST = "supervisor_post"  # a closed verification, to the supervisors
    NOTE_FAILING = "note_failing"  # "this ticket note keeps failing", to agent and supervisors
    POLICY_ANNOUNCEMENT = "policy_announcement"  # settings or templates changed by an admin
