"""Every table the app keeps, in one module (SQLModel's advice against circular imports)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Index,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """A model's Core table (for dialect-specific INSERT … ON CONFLICT)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite has no time zones, so values are stored as naive UTC there and made aware again on
    the way out; PostgreSQL keeps `timestamptz`. Naive input is refused: it is always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class WorkspacePolicy(SQLModel, table=True):
    """Per-workspace overrides of the environment defaults; NULL means "use the default"."""

    __tablename__ = "workspace_policies"

    team_id: str = Field(primary_key=True, max_length=32)
    code_length: int | None = None
    code_ttl_seconds: int | None = None
    max_attempts: int | None = None
    supervisor_channel: str | None = Field(default=None, max_length=32)
    require_ticket: bool | None = None
    code_in_ticket_note: str | None = Field(default=None, max_length=8)  # include | omit
    allow_destination_edits: bool | None = None
    require_edit_reason: bool | None = None
    show_code_to_agent: bool | None = None
    agent_usergroup: str | None = Field(default=None, max_length=32)
    sms_provider: str | None = Field(default=None, max_length=32)
    email_provider: str | None = Field(default=None, max_length=32)
    sms_allowed_countries: str | None = Field(default=None, max_length=200)  # "US,CA"
    supervisor_usergroup: str | None = Field(default=None, max_length=32)
    digest: str | None = Field(default=None, max_length=8)  # off | daily | weekly
    updated_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Contact(SQLModel, table=True):
    """A person in the built-in directory, imported from CSV."""

    __tablename__ = "contacts"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=128, unique=True)
    name: str = Field(max_length=200, index=True)
    email: str | None = Field(default=None, max_length=320, index=True)
    phone_e164: str | None = Field(default=None, max_length=16, index=True)
    company: str = Field(default="", max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Verification(SQLModel, table=True):
    """One agent proving one caller is one contact: the card's whole life."""

    __tablename__ = "verifications"
    # One open verification per agent and contact: a double click on a pick list or a
    # repeated /verify reopens the same card instead of starting a second code sequence.
    __table_args__ = (
        Index(
            "uq_verifications_open",
            "agent_user_id",
            "contact_ref",
            unique=True,
            sqlite_where=text("outcome IS NULL"),
            postgresql_where=text("outcome IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32, index=True)
    agent_user_id: str = Field(max_length=32, index=True)
    agent_name: str = Field(default="", max_length=200)
    contact_ref: str = Field(max_length=128, index=True)
    contact_name: str = Field(max_length=200)
    company: str = Field(default="", max_length=200)
    phone_e164: str | None = Field(default=None, max_length=16)
    email: str | None = Field(default=None, max_length=320)
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    # awaiting_send -> code_sent -> verified | locked; `outcome` set means closed.
    state: str = Field(default="awaiting_send", max_length=16)
    last_check: str | None = Field(default=None, max_length=16)
    failed_checks: int = 0
    max_attempts: int
    sends_count: int = 0
    outcome: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(sa_type=UtcDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The contact as the PSA described them when the card opened (issue 3).
    company_ref: str | None = Field(default=None, max_length=128)
    contact_active: bool = True
    # The PSA ticket this verification is recorded on; notes go there through the outbox.
    ticket_ref: str | None = Field(default=None, max_length=64)
    ticket_number: str | None = Field(default=None, max_length=64)
    ticket_summary: str | None = Field(default=None, max_length=255)
    ticket_url: str | None = Field(default=None, max_length=500)
    ticket_tagged_by: str | None = Field(default=None, max_length=32)
    ticket_tagged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # An agent replaced the destination on record (policy permitting): flagged everywhere.
    phone_edited: bool = False
    email_edited: bool = False
    edit_reason: str | None = Field(default=None, sa_type=Text)
    destination_edited_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class CodeSend(SQLModel, table=True):
    """One code sent (or tried) for a verification; (verification, seq) is the idempotency key."""

    __tablename__ = "code_sends"
    __table_args__ = (
        UniqueConstraint("verification_id", "seq", name="uq_code_sends_key"),
        # Delivery-status webhooks find their send by the vendor's message id.
        Index("ix_code_sends_provider_message", "provider", "provider_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    verification_id: str = Field(foreign_key="verifications.id", max_length=32, index=True)
    seq: int
    channel: str = Field(max_length=8)
    code_length: int
    destination: str = Field(max_length=320)
    # HMAC of the code; NULL once the code is used, voided or failed to send.
    code_hash: str | None = Field(default=None, max_length=64)
    # sending -> sent | failed; sent -> voided | used
    status: str = Field(default="sending", max_length=16)
    provider: str = Field(max_length=32)
    provider_message_id: str | None = Field(default=None, max_length=128)
    error_reason: str | None = Field(default=None, max_length=32)
    error_message: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    # What the provider says happened to the message after it accepted it (bot/delivery_status):
    # unconfirmed (no answer; may have gone out) | queued | sent | delivered | undelivered |
    # failed. Only ever moves forward, so an out-of-order callback cannot undo "delivered".
    delivery_status: str | None = Field(default=None, max_length=16)
    delivery_error_code: str | None = Field(default=None, max_length=32)
    delivery_error: str | None = Field(default=None, sa_type=Text)
    delivery_updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AuditEvent(SQLModel, table=True):
    """Append-only record of every step; the migration forbids UPDATE, and DELETE except by a
    retention purge (storage/audit_chain.py). Each workspace's events form a hash chain:
    `seq` counts them, `prev_hash` is the hash of event seq-1, `hash` covers this one."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("team_id", "seq", name="uq_audit_events_chain"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    verification_id: str | None = Field(default=None, max_length=32, index=True)
    actor_user_id: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=48)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)
    seq: int | None = Field(default=None)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditChainHead(SQLModel, table=True):
    """The last link of each workspace's audit chain: locked to append, read to verify."""

    __tablename__ = "audit_chain_heads"

    team_id: str = Field(primary_key=True, max_length=32)
    seq: int = 0
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement that events up to `through_seq` (ending in `through_hash`) were
    purged on purpose: what remains still verifies from here."""

    __tablename__ = "audit_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    through_seq: int
    through_hash: str = Field(max_length=64)
    purged_count: int
    purged_before: datetime = Field(sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    signature: str = Field(max_length=64)


class AuditPurgePermit(SQLModel, table=True):
    """Exists only inside a purge transaction: the append-only trigger lets DELETE through
    for events at or below `through_seq` of this workspace, and nothing else."""

    __tablename__ = "audit_purge_permits"

    team_id: str = Field(primary_key=True, max_length=32)
    through_seq: int


class OutboxMessage(SQLModel, table=True):
    """Something that must reach the outside world, written with the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    dedupe_key: str = Field(max_length=200, unique=True)
    verification_id: str | None = Field(default=None, max_length=32, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # pending -> delivered (a coalesced row goes back to pending when its payload changes)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Who holds the lease: an outcome is recorded only by the claim that still holds it.
    claim_token: str | None = Field(default=None, max_length=32)
    # Bumped each time a coalesced row's payload is replaced; delivered only if unchanged.
    revision: int = 0
    # Rows sharing a pace key (a Slack channel) are delivered at most one per interval.
    pace_key: str | None = Field(default=None, max_length=64, index=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ConsoleMessage(SQLModel, table=True):
    """What the console providers "sent", kept so a developer can read the code."""

    __tablename__ = "console_messages"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=8)
    recipient: str = Field(max_length=320)
    subject: str | None = Field(default=None, max_length=998)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)


class MessageTemplateSet(SQLModel, table=True):
    """A workspace's own SMS and email templates; no row means the shipped defaults."""

    __tablename__ = "message_templates"

    team_id: str = Field(primary_key=True, max_length=32)
    sms: str = Field(sa_type=Text)
    email_subject: str = Field(sa_type=Text)
    email_body: str = Field(sa_type=Text)
    email_html: str | None = Field(default=None, sa_type=Text)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class SlackPacing(SQLModel, table=True):
    """When the next message may go to a pace key (a Slack channel), shared by replicas."""

    __tablename__ = "slack_pacing"

    key: str = Field(primary_key=True, max_length=64)
    next_at: datetime = Field(sa_type=UtcDateTime)


class SupervisorMessage(SQLModel, table=True):
    """The live message a verification has in the supervisors' channel, once posted."""

    __tablename__ = "supervisor_messages"

    verification_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    posted_at: datetime = Field(sa_type=UtcDateTime)


class ChannelThread(SQLModel, table=True):
    """A standing thread the app keeps in a channel (e.g. settings announcements)."""

    __tablename__ = "channel_threads"

    channel: str = Field(primary_key=True, max_length=32)
    purpose: str = Field(primary_key=True, max_length=32)
    ts: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UtcDateTime)
