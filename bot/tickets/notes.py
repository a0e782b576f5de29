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
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.channels import Channel
from bot.masking import mask_destination
from bot.outbox.kinds import OutboxKind
from bot.outbox.relay import DeliveryDeferred, OutboxAttempt, OutboxDraft
from bot.tickets.note_text import CloseNoteFacts, SendNoteFacts, close_note, send_note
from bot.verification.destinations import destination_edited
from bot.verification.snapshots import TicketSnapshot, VerificationSnapshot
from bot.verification.states import VerificationState
from bot.workspace.policy import Policy
from providers.crm import ContactDirectory, CrmError, CrmRateLimited
from storage import repositories as repo
from storage.db import Database
from storage.models import CodeSend, Verification

log = logging.getLogger(__name__)

# With full-jitter backoff from 2 s this is roughly a minute of failures: long enough to ride
# out a blip, short enough that the agent hears while the call is fresh in their mind.
ALERT_AFTER_ATTEMPTS = 5


def send_note_key(verification_id: str, seq: int) -> str:
    return f"{OutboxKind.TICKET_NOTE}:{verification_id}:sent:{seq}"


def close_note_key(verification_id: str) -> str:
    return f"{OutboxKind.TICKET_NOTE}:{verification_id}:closed"


def agent_label(verification: Verification) -> str:
    return verification.agent_name or verification.agent_user_id


def enqueue_send_note(
    *,
    session: AsyncSession,
    verification: Verification,
    send: CodeSend,
    code: str,
    policy: Policy,
    at: datetime,
) -> bool:
    """Add the "PIN sent" note for a send that went out; False when no ticket is tagged."""
    if verification.ticket_ref is None:
        return False
    text = send_note(
        SendNoteFacts(
            method=Channel(send.channel).label,
            masked_destination=mask_destination(send.channel, send.destination),
            agent=agent_label(verification),
            code=code if policy.code_in_ticket_note == "include" else None,
            seq=send.seq,
            sent_at=at,
            verification_ref=verification.id[:8],
            destination_edited=destination_edited(verification, send.channel),
            edit_reason=verification.edit_reason,
        )
    )
    _add(session, verification, send_note_key(verification.id, send.seq), text, policy, at)
    return True


def enqueue_close_note(
    *,
    session: AsyncSession,
    verification: Verification,
    snapshot: VerificationSnapshot,
    policy: Policy,
    at: datetime,
) -> bool:
    """Add the closing note (outcome, check, attempts, method, times); False without a ticket."""
    if verification.ticket_ref is None or snapshot.closed_at is None:
        return False
    send = snapshot.latest_send
    text = close_note(
        CloseNoteFacts(
            outcome=str(snapshot.outcome),
            check=snapshot.check_summary,
            verified=snapshot.state == VerificationState.VERIFIED,
            failed_checks=snapshot.failed_checks,
            max_attempts=snapshot.max_attempts,
            codes_sent=verification.sends_count,
            agent=agent_label(verification),
            method=send.channel.label if send else None,
            masked_destination=send.masked_destination if send else None,
            destination_edited=destination_edited(verification, send.channel if send else None),
            edit_reason=verification.edit_reason,
            opened_at=snapshot.created_at,
            code_sent_at=send.sent_at if send else None,
            verified_at=snapshot.verified_at,
            closed_at=snapshot.closed_at,
            verification_ref=verification.id[:8],
        )
    )
    _add(session, verification, close_note_key(verification.id), text, policy, at)
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
        payload={
            "ticket_ref": verification.ticket_ref,
            "ticket_number": verification.ticket_number,
            "text": text,  # may hold the code (policy "include"): never log a payload
            "agent_user_id": verification.agent_user_id,
            "contact_name": verification.contact_name,
            "supervisor_channel": policy.supervisor_channel,
        },
        at=at,
    )


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
        payload = attempt.payload
        try:
            receipt = await self._contacts.add_note(
                ticket_ref=str(payload["ticket_ref"]),
                text=str(payload["text"]),
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
        if error is None and "text" in attempt.payload:
            # Delivered: the PSA has the text; the database keeps no copy of a code.
            async with self._db.transaction() as session:
                await repo.scrub_outbox_payload(
                    session=session,
                    message_id=attempt.message_id,
                    payload={k: v for k, v in attempt.payload.items() if k != "text"},
                )
        if self._on_settled is not None and attempt.verification_id is not None:
            await self._on_settled(attempt.verification_id)

    def escalate(self, attempt: OutboxAttempt, *, error: str) -> list[OutboxDraft]:
        if attempt.attempts + 1 != self._alert_after:
            return []
        payload = attempt.payload
        facts: dict[str, Any] = {
            "contact_name": payload.get("contact_name", ""),
            "ticket_number": payload.get("ticket_number", ""),
            "failures": self._alert_after,
            "error": error,
            "verification_id": attempt.verification_id,
        }
        drafts = [
            OutboxDraft(
                kind=OutboxKind.NOTE_FAILING,
                dedupe_key=f"{OutboxKind.NOTE_FAILING}:agent:{attempt.dedupe_key}",
                payload={**facts, "channel": payload["agent_user_id"], "audience": "agent"},
                verification_id=attempt.verification_id,
            )
        ]
        if payload.get("supervisor_channel"):
            drafts.append(
                OutboxDraft(
                    kind=OutboxKind.NOTE_FAILING,
                    dedupe_key=f"{OutboxKind.NOTE_FAILING}:supervisors:{attempt.dedupe_key}",
                    payload={
                        **facts,
                        "channel": payload["supervisor_channel"],
                        "audience": "supervisors",
                        "agent_user_id": payload["agent_user_id"],
                    },
                    verification_id=attempt.verification_id,
                )
            )
        return drafts
