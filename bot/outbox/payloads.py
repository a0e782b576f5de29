"""What each kind of outbox row carries: one typed model per `OutboxKind`.

The domain writes a model (`to_row()`), the deliverer reads it back (`from_row()`); rows are
JSON in the database, so a model is the only place the shape of a kind is written down.
Values are plain (never Slack markup, never an unmasked destination): the edge decides how
to show them. A ticket note's text may hold the code, so no payload is ever logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

from bot.outbox.kinds import OutboxKind


class OutboxPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_row(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_row(cls, payload: Mapping[str, Any]) -> Self:
        return cls.model_validate(dict(payload))


class SupervisorReport(OutboxPayload):
    """A closed verification, as the supervisors' post shows it: masked, no code."""

    channel: str
    verification_id: str
    contact_name: str
    company: str
    agent_user_id: str
    method: Literal["sms", "email"] | None  # None: no code was sent
    masked_destination: str | None
    check: str  # e.g. "code verified", "locked after 5 wrong codes"
    verified: bool
    failed_checks: int
    outcome: Literal["completed", "incomplete"]
    opened_at: datetime
    code_sent_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    destination_edited: bool = False
    edit_reason: str | None = None


class TicketNote(OutboxPayload):
    """A note for the PSA ticket. `text` is erased once the PSA has it (it may hold the code)."""

    ticket_ref: str
    ticket_number: str | None
    text: str | None = None  # absent once delivered
    agent_user_id: str
    contact_name: str
    supervisor_channel: str | None


class NoteFailing(OutboxPayload):
    """ "This ticket note keeps failing", to the agent's DM or the supervisors' channel."""

    channel: str
    audience: Literal["agent", "supervisors"]
    contact_name: str
    ticket_number: str | None
    failures: int
    error: str
    verification_id: str | None
    agent_user_id: str | None = None  # named in the supervisors' copy


class SettingChangeLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    setting: str  # the label admins read, e.g. "Code length"
    old: str  # plain words, e.g. "6 digits"
    new: str
    # A Slack channel ID when the value is a channel (the edge shows it as a link).
    old_channel: str | None = None
    new_channel: str | None = None


class PolicyAnnouncement(OutboxPayload):
    """An admin changed settings or templates: who, and each old → new."""

    channel: str
    actor_user_id: str
    changes: tuple[SettingChangeLine, ...]
    subject: Literal["settings", "templates"] = "settings"


PAYLOADS: dict[OutboxKind, type[OutboxPayload]] = {
    OutboxKind.SUPERVISOR_POST: SupervisorReport,
    OutboxKind.TICKET_NOTE: TicketNote,
    OutboxKind.NOTE_FAILING: NoteFailing,
    OutboxKind.POLICY_ANNOUNCEMENT: PolicyAnnouncement,
}
