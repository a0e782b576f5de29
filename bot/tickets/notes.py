"""Ticket notes through the outbox: written with the change they record, delivered by the relay.

A note row is added in the same transaction as the send or the close it describes, so a crash
or a PSA outage can delay a note but never lose it. Delivery passes the row's dedupe key to the
adapter, which embeds it in the note and, on a retry, looks for it first: a timeout after the
PSA stored the note does not write it twice. A note still failing after ALERT_AFTER_ATTEMPTS
tries is reported to the agent and the supervisors' channel once; the relay keeps trying.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import (
    AlertKind,
    DeliveryDeferred,
    NoteFailing,
    OutboxAttempt,
    OutboxDraft,
    OutboxKind,
    SupervisorAlert,
    TicketNote,
    channel_pace_key,
)
from bot.tickets.note_text import CloseNoteFacts, SendNoteFacts, close_note, send_note
from bot.workspace import Policy
from providers.crm import ContactDirectory, CrmError, CrmRateLimited
from storage import repositories as repo
from storage.db import Database
from storage.models import Verification

log = logging.getLogger(__name__)

# With full-jitter backoff from 2 s this is roughly a minute of failures: long enough to ride
# out a blip, short enough that the agent hears while the call is fresh in their mind.
ALERT_AFTER_ATTEMPTS = 5


def send_note_key(verification_id: str, seq: int) -> str:
    return f"{OutboxKind.TICKET_NOTE}:{verification_id}:sent:{seq}"


def close_note_key(verification_id: str) -> str:
    return f"{OutboxKind.TICKET_NOTE}:{verification_id}:closed"


def enqueue_send_note(
    *,
    session: AsyncSession,
    verification: Verification,
    facts: SendNoteFacts,
    policy: Policy,
    at: datetime,
) -> bool:
    """Add the "PIN sent" note for a send that went out; False when no ticket is tagged."""
    if verification.ticket_ref is None:
        return False
    key = send_note_key(verification.id, facts.seq)
    _add(session, verification, key, send_note(facts), policy, at)
    return True


def enqueue_close_note(
    *,
    session: AsyncSession,
    verification: Verification,
    facts: CloseNoteFacts,
    policy: Policy,
    at: datetime,
) -> bool:
    """Add the closing note (outcome, check, attempts, method, times); False without a ticket."""
    if verification.ticket_ref is None:
        return False
    _add(session, verification, close_note_key(verification.id), close_note(facts), policy, at)
    return True


def _add(
    session: AsyncSession,
    verification: Verification,
    key: str,
    text: str,
    policy: Policy,
    at: datetime,
) -> None:
    assert verification.ticket_ref is not None
    repo.add_outbox_message(
        session=session,
        kind=OutboxKind.TICKET_NOTE,
        dedupe_key=key,
        verification_id=verification.id,
        payload=TicketNote(
            ticket_ref=verification.ticket_ref,
            ticket_number=verification.ticket_number,
            text=text,  # may hold the code (policy "include"): never log a payload
            agent_user_id=verification.agent_user_id,
            contact_name=verification.contact_name,
            supervisor_channel=policy.supervisor_channel,
        ).to_row(),
        at=at,
    )


@dataclass(frozen=True)
class TicketSnapshot:
    """The PSA ticket a verification is recorded on, and how its notes are doing."""

    number: str
    summary: str
    url: str | None
    note_status: str | None  # None (no note yet) | pending | written | failing: <reason>


async def ticket_snapshot(
    *, session: AsyncSession, verification: Verification
) -> TicketSnapshot | None:
    if verification.ticket_number is None:
        return None
    rows = await repo.list_verification_outbox(
        session=session, verification_id=verification.id, kind=OutboxKind.TICKET_NOTE
    )
    return TicketSnapshot(
        number=verification.ticket_number,
        summary=verification.ticket_summary or "",
        url=verification.ticket_url,
        note_status=note_status([(row.status, row.last_error) for row in rows]),
    )


def note_status(rows: list[tuple[str, str | None]]) -> str | None:
    """One line for all of a verification's notes: the worst state wins."""
    if not rows:
        return None
    failing = [error for status, error in rows if status == "pending" and error]
    if failing:
        return f"failing: {failing[-1]}"
    if any(status == "pending" for status, _ in rows):
        return "pending"
    return "written"


class TicketNoteHandler:
    """The relay's deliverer for ticket notes (an `OutboxHandler`)."""

    def __init__(
        self,
        contacts: ContactDirectory,
        *,
        db: Database,
        on_settled: Callable[[str], Awaitable[None]] | None = None,
        alert_after: int = ALERT_AFTER_ATTEMPTS,
    ) -> None:
        self._contacts = contacts
        self._db = db
        self._on_settled = on_settled
        self._alert_after = alert_after

    async def deliver(self, attempt: OutboxAttempt) -> None:
        note = TicketNote.from_row(attempt.payload)
        if note.text is None:
            # Delivered before (the text is erased once the PSA has it): nothing left to write.
            return
        try:
            receipt = await self._contacts.add_note(
                ticket_ref=note.ticket_ref,
                text=note.text,
                key=attempt.dedupe_key,
                first_attempt=attempt.first,
            )
        except CrmRateLimited as exc:
            raise DeliveryDeferred(exc.message, retry_after=exc.retry_after) from exc
        except CrmError as exc:
            # Every PSA error is retried, permanent-looking ones included: an admin can fix
            # credentials or permissions, and a note must never be dropped.
            raise DeliveryDeferred(exc.message) from exc
        log.info(
            "ticket note written",
            extra={"outbox_id": attempt.message_id, "already_present": receipt.already_present},
        )

    async def settled(self, attempt: OutboxAttempt, *, error: str | None) -> None:
        note = TicketNote.from_row(attempt.payload)
        if error is None and note.text is not None:
            # Delivered: the PSA has the text; the database keeps no copy of a code.
            async with self._db.transaction() as session:
                await repo.scrub_outbox_payload(
                    session=session,
                    message_id=attempt.message_id,
                    payload=note.model_dump(mode="json", exclude={"text"}),
                )
        if self._on_settled is not None and attempt.verification_id is not None:
            await self._on_settled(attempt.verification_id)

    def escalate(self, attempt: OutboxAttempt, *, error: str) -> list[OutboxDraft]:
        if attempt.attempts + 1 != self._alert_after:
            return []
        note = TicketNote.from_row(attempt.payload)
        notice = NoteFailing(
            channel=note.agent_user_id,
            audience="agent",
            contact_name=note.contact_name,
            ticket_number=note.ticket_number,
            failures=self._alert_after,
            error=error,
            verification_id=attempt.verification_id,
        )
        drafts = [
            OutboxDraft(
                kind=OutboxKind.NOTE_FAILING,
                dedupe_key=f"{OutboxKind.NOTE_FAILING}:agent:{attempt.dedupe_key}",
                payload=notice.to_row(),
                verification_id=attempt.verification_id,
            )
        ]
        if note.supervisor_channel and attempt.verification_id is not None:
            # The supervisors hear it in the verification's live thread.
            alert = SupervisorAlert(
                channel=note.supervisor_channel,
                verification_id=attempt.verification_id,
                alert=AlertKind.NOTE_FAILING,
                contact_name=note.contact_name,
                agent_user_id=note.agent_user_id,
                reason=f"ticket #{note.ticket_number or '?'} failed {self._alert_after} "
                f"times: {error}",
            )
            drafts.append(
                OutboxDraft(
                    kind=OutboxKind.SUPERVISOR_ALERT,
                    dedupe_key=f"{OutboxKind.SUPERVISOR_ALERT}:{attempt.verification_id}:"
                    f"{AlertKind.NOTE_FAILING}:{attempt.dedupe_key}",
                    payload=alert.to_row(),
                    verification_id=attempt.verification_id,
                    pace_key=channel_pace_key(note.supervisor_channel),
                )
            )
        return drafts
