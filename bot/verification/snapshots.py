"""What the verification service returns: snapshots for cards and reports, and outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.delivery import Channel
from bot.tickets import TicketSnapshot
from bot.verification.history import ContactHistory
from bot.verification.states import CheckResult, Outcome, SendStatus, VerificationState
from providers.errors import DeliveryError


@dataclass(frozen=True)
class SendSnapshot:
    seq: int
    channel: Channel
    masked_destination: str
    status: SendStatus
    provider: str
    created_at: datetime
    sent_at: datetime | None
    expires_at: datetime
    error_message: str | None
    # The provider's word on the message after it took it (bot/delivery/reports.py).
    delivery_status: str | None = None
    delivery_error: str | None = None

    @property
    def undelivered(self) -> bool:
        return self.delivery_status in ("undelivered", "failed")


@dataclass(frozen=True)
class VerificationSnapshot:
    """Everything a card or a report shows; no secrets, destinations masked."""

    id: str
    team_id: str
    agent_user_id: str
    agent_name: str
    contact_name: str
    company: str
    masked_phone: str | None
    masked_email: str | None
    state: VerificationState
    last_check: str | None
    failed_checks: int
    max_attempts: int
    sends_left: int
    next_seq: int
    outcome: Outcome | None
    created_at: datetime
    verified_at: datetime | None
    closed_at: datetime | None
    card_channel: str | None
    card_ts: str | None
    latest_send: SendSnapshot | None
    code_expired: bool
    contact_active: bool = True
    ticket: TicketSnapshot | None = None
    tickets_enabled: bool = False  # the PSA has tickets: offer Tag ticket / Create ticket
    require_ticket: bool = False
    # An agent replaced a destination on record (issue 5); the ticket note can use these too.
    destination_edited: bool = False
    edit_reason: str | None = None
    phone_edited: bool = False
    email_edited: bool = False
    edits_allowed: bool = False
    # The contact's recent history, while the verification is open (the card shows it).
    history: ContactHistory | None = None

    @property
    def attempts_left(self) -> int:
        return max(self.max_attempts - self.failed_checks, 0)

    @property
    def closed(self) -> bool:
        return self.outcome is not None

    @property
    def check_summary(self) -> str:
        if self.state == VerificationState.VERIFIED:
            return "code verified"
        if self.state == VerificationState.LOCKED:
            return f"locked after {self.failed_checks} wrong codes"
        if self.latest_send is None:
            return "no code sent"
        if self.latest_send.status == SendStatus.FAILED or self.latest_send.undelivered:
            return "code not delivered"
        if self.code_expired:
            return "code expired unchecked"
        if self.failed_checks:
            return f"not verified ({self.failed_checks} wrong)"
        return "code not checked"


@dataclass(frozen=True)
class CheckOutcome:
    result: CheckResult
    notice: str
    snapshot: VerificationSnapshot


@dataclass(frozen=True)
class SendOutcome:
    duplicate: bool
    snapshot: VerificationSnapshot
    error: DeliveryError | None = None
    # The code itself, only when the workspace shows codes to agents (Settings); for the
    # agent's own card in their DM, never stored, logged or posted anywhere else.
    code_for_agent: str | None = None


@dataclass(frozen=True)
class CloseOutcome:
    already_closed: bool
    snapshot: VerificationSnapshot
