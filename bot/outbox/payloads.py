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

from bot.outbox.kinds import AlertKind, OutboxKind


class OutboxPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_row(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_row(cls, payload: Mapping[str, Any]) -> Self:
        return cls.model_validate(dict(payload))


class SupervisorReport(OutboxPayload):
    """A closed verification, as the supervisors' post showed it before the live message
    (rows written before migration 0006): masked, no code."""

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


class LiveReport(OutboxPayload):
    """A verification as its live message in the supervisors' channel shows it now: masked,
    never a code. The row is coalesced: each change replaces the payload."""

    channel: str
    team_id: str
    verification_id: str
    contact_name: str
    company: str
    agent_user_id: str
    stage: str  # bot.supervision.LiveStage
    method: Literal["sms", "email"] | None = None
    masked_destination: str | None = None
    delivery_note: str | None = None  # the provider's reason when undelivered / failed
    failed_checks: int = 0
    max_attempts: int = 0
    sends: int = 0
    max_sends: int = 0
    ticket_number: str | None = None
    ticket_url: str | None = None
    destination_edited: bool = False
    edit_reason: str | None = None
    check: str = ""
    verified: bool = False
    outcome: str | None = None  # completed | incomplete | voided, once closed
    voided_by: str | None = None
    opened_at: datetime
    code_sent_at: datetime | None = None
    verified_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.outcome is None


class SupervisorAlert(OutboxPayload):
    """A risk event, told as a reply in the verification's live thread (masked, no code).
    The supervisors' user group, if any, is looked up when it is delivered."""

    channel: str
    verification_id: str
    alert: AlertKind
    contact_name: str
    company: str = ""
    agent_user_id: str | None = None
    actor_user_id: str | None = None  # who did it, when not the agent (a void)
    failed_checks: int = 0
    max_attempts: int = 0
    masked_destination: str | None = None
    reason: str | None = None  # a provider's reason, an edit or void reason, a note's error
    contact_failures: int = 0  # repeated failures: wrong codes for the contact in 24 h
    contact_verifications: int = 0  # ... across this many verifications


class DigestRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str  # an agent's user id, a company name, or a day (YYYY-MM-DD)
    verifications: int = 0
    completed_verified: int = 0
    completed_unverified: int = 0
    incomplete: int = 0
    lockouts: int = 0
    destination_edits: int = 0
    median_seconds_to_verify: float | None = None


class SupervisorDigest(OutboxPayload):
    """The daily or weekly figures for the supervisors' channel, with what the chart draws."""

    channel: str
    team_id: str
    period: Literal["daily", "weekly"]
    starts: datetime
    ends: datetime
    totals: DigestRow
    by_day: tuple[DigestRow, ...]
    by_agent: tuple[DigestRow, ...]
    by_company: tuple[DigestRow, ...]


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
    team_id: str | None = None  # whose supervisors' group to mention (None: nobody)


PAYLOADS: dict[OutboxKind, type[OutboxPayload]] = {
    OutboxKind.SUPERVISOR_POST: SupervisorReport,
    OutboxKind.SUPERVISOR_LIVE: LiveReport,
    OutboxKind.SUPERVISOR_ALERT: SupervisorAlert,
    OutboxKind.SUPERVISOR_DIGEST: SupervisorDigest,
    OutboxKind.TICKET_NOTE: TicketNote,
    OutboxKind.NOTE_FAILING: NoteFailing,
    OutboxKind.POLICY_ANNOUNCEMENT: PolicyAnnouncement,
}
