"""Every kind of outbox row: what must leave the building, and who delivers it."""

from __future__ import annotations

from enum import StrEnum


class OutboxKind(StrEnum):
    TICKET_NOTE = "ticket_note"  # a note on the PSA ticket (bot/tickets/notes.py)
    # Written before migration 0006 only (a closed verification, one post); still delivered.
    SUPERVISOR_POST = "supervisor_post"
    # The live message of one verification in the supervisors' channel: one coalesced row
    # per verification, posted at the first send and updated in place (bot/supervision).
    SUPERVISOR_LIVE = "supervisor_live"
    SUPERVISOR_ALERT = "supervisor_alert"  # a risk event, as a reply in the live thread
    SUPERVISOR_DIGEST = "supervisor_digest"  # the daily or weekly figures, with a chart
    NOTE_FAILING = "note_failing"  # "this ticket note keeps failing", to the agent's DM
    POLICY_ANNOUNCEMENT = "policy_announcement"  # settings or templates changed by an admin


class AlertKind(StrEnum):
    """The risk events supervisors hear about, each a reply in the verification's thread."""

    LOCKOUT = "lockout"
    DESTINATION_NOT_ON_RECORD = "destination_not_on_record"
    COMPLETED_WITHOUT_CODE = "completed_without_code"
    DELIVERY_FAILED = "delivery_failed"
    NOTE_FAILING = "note_failing"
    REPEATED_FAILURES = "repeated_failures"
    VOIDED = "voided"


def channel_pace_key(channel: str) -> str:
    """Rows posting to one Slack channel share its pace (about one message a second)."""
    return f"slack:{channel}"
