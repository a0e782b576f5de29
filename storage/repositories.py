"""Keyword-only queries; callers own the transaction (`Database.transaction()`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    AuditEvent,
    CodeSend,
    ConsoleMessage,
    Contact,
    MessageTemplateSet,
    OutboxMessage,
    Verification,
    WorkspacePolicy,
)

# --- contacts -------------------------------------------------------------------------------


async def find_contacts_by_phone(
    *, session: AsyncSession, phone_e164: str, limit: int
) -> Sequence[Contact]:
    query = select(Contact).where(col(Contact.phone_e164) == phone_e164)
    return (await session.scalars(query.order_by(col(Contact.name)).limit(limit))).all()


async def find_contacts_by_email(
    *, session: AsyncSession, email: str, limit: int
) -> Sequence[Contact]:
    query = select(Contact).where(func.lower(col(Contact.email)) == email.lower())
    return (await session.scalars(query.order_by(col(Contact.name)).limit(limit))).all()


async def find_contacts_by_name(
    *, session: AsyncSession, words: Sequence[str], limit: int
) -> Sequence[Contact]:
    """Contacts whose name contains every word, case-insensitively (portable LIKE)."""
    query = select(Contact)
    for word in words:
        pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(col(Contact.name)).like(pattern + "%", escape="\\"))
    return (await session.scalars(query.order_by(col(Contact.name)).limit(limit))).all()


async def get_contact(*, session: AsyncSession, contact_id: int) -> Contact | None:
    return await session.get(Contact, contact_id)


async def get_contact_by_external_id(*, session: AsyncSession, external_id: str) -> Contact | None:
    query = select(Contact).where(col(Contact.external_id) == external_id)
    return (await session.scalars(query)).first()


async def count_contacts(*, session: AsyncSession) -> int:
    return int((await session.scalar(select(func.count()).select_from(Contact))) or 0)


# --- policy -------------------------------------------------------------------------------


async def get_workspace_policy(*, session: AsyncSession, team_id: str) -> WorkspacePolicy | None:
    return await session.get(WorkspacePolicy, team_id)


# --- verifications --------------------------------------------------------------------------


async def get_verification(
    *, session: AsyncSession, verification_id: str, for_update: bool = False
) -> Verification | None:
    query = select(Verification).where(col(Verification.id) == verification_id)
    if for_update:
        # PostgreSQL serialises concurrent clicks on one card here; SQLite's BEGIN IMMEDIATE
        # already holds the write lock, and SQLAlchemy drops FOR UPDATE for it.
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def find_open_verification(
    *, session: AsyncSession, agent_user_id: str, contact_ref: str
) -> Verification | None:
    query = select(Verification).where(
        col(Verification.agent_user_id) == agent_user_id,
        col(Verification.contact_ref) == contact_ref,
        col(Verification.outcome).is_(None),
    )
    return (await session.scalars(query.with_for_update())).first()


async def count_wrong_check(
    *,
    session: AsyncSession,
    verification_id: str,
    last_check: str,
    checkable_state: str,
    locked_state: str,
) -> tuple[int, str] | None:
    """Count one wrong entry and lock at the limit, in one statement; None if nothing counted.

    Executes the lockout rule of `bot.verification.states` (a wrong entry counts only in
    `checkable_state`; the one that reaches max_attempts moves it to `locked_state`). One
    conditional UPDATE keeps the counter exact with any number of concurrent checkers, on
    SQLite and PostgreSQL alike: the WHERE clause refuses to count past the limit.
    """
    failed = col(Verification.failed_checks)
    limit = col(Verification.max_attempts)
    statement = (
        update(Verification)
        .where(
            col(Verification.id) == verification_id,
            col(Verification.state) == checkable_state,
            col(Verification.outcome).is_(None),
            failed < limit,
        )
        .values(
            failed_checks=failed + 1,
            state=case((failed + 1 >= limit, locked_state), else_=col(Verification.state)),
            last_check=last_check,
        )
        .returning(col(Verification.failed_checks), col(Verification.state))
    )
    row = (await session.execute(statement)).first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def mark_verified(
    *,
    session: AsyncSession,
    verification_id: str,
    at: datetime,
    checkable_state: str,
    verified_state: str,
    last_check: str,
) -> bool:
    statement = (
        update(Verification)
        .where(
            col(Verification.id) == verification_id,
            col(Verification.state) == checkable_state,
            col(Verification.outcome).is_(None),
        )
        .values(state=verified_state, verified_at=at, last_check=last_check)
        .returning(col(Verification.id))
    )
    return (await session.execute(statement)).first() is not None


async def close_verification(
    *, session: AsyncSession, verification_id: str, outcome: str, at: datetime
) -> bool:
    statement = (
        update(Verification)
        .where(col(Verification.id) == verification_id, col(Verification.outcome).is_(None))
        .values(outcome=outcome, closed_at=at)
        .returning(col(Verification.id))
    )
    return (await session.execute(statement)).first() is not None


async def recent_failures_for_contact(
    *, session: AsyncSession, contact_ref: str, since: datetime
) -> int:
    query = select(func.coalesce(func.sum(col(Verification.failed_checks)), 0)).where(
        col(Verification.contact_ref) == contact_ref, col(Verification.created_at) >= since
    )
    return int((await session.scalar(query)) or 0)


async def recent_verifications_for_agent(
    *, session: AsyncSession, team_id: str, agent_user_id: str, limit: int
) -> Sequence[Verification]:
    """The agent's latest verifications in this workspace (filtered before the LIMIT)."""
    query = (
        select(Verification)
        .where(
            col(Verification.team_id) == team_id,
            col(Verification.agent_user_id) == agent_user_id,
        )
        .order_by(col(Verification.created_at).desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


# --- code sends -----------------------------------------------------------------------------


async def count_recent_sends(
    *,
    session: AsyncSession,
    since: datetime,
    destination: str | None = None,
    agent_user_id: str | None = None,
    team_id: str | None = None,
) -> int:
    """Send attempts since `since` in one scope (a destination, agent or team), failed ones
    included: pumping through numbers that fail is still pumping."""
    query = (
        select(func.count())
        .select_from(CodeSend)
        .join(Verification, col(Verification.id) == col(CodeSend.verification_id))
        .where(col(CodeSend.created_at) >= since)
    )
    if destination is not None:
        query = query.where(col(CodeSend.destination) == destination)
    if agent_user_id is not None:
        query = query.where(col(Verification.agent_user_id) == agent_user_id)
    if team_id is not None:
        query = query.where(col(Verification.team_id) == team_id)
    return int((await session.scalar(query)) or 0)


async def get_code_send(
    *, session: AsyncSession, verification_id: str, seq: int
) -> CodeSend | None:
    query = select(CodeSend).where(
        col(CodeSend.verification_id) == verification_id, col(CodeSend.seq) == seq
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def latest_code_send(*, session: AsyncSession, verification_id: str) -> CodeSend | None:
    query = (
        select(CodeSend)
        .where(col(CodeSend.verification_id) == verification_id)
        .order_by(col(CodeSend.seq).desc())
        .limit(1)
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def live_code_send(*, session: AsyncSession, verification_id: str) -> CodeSend | None:
    """The one code that can still be checked: the newest one delivered and not yet spent."""
    query = (
        select(CodeSend)
        .where(col(CodeSend.verification_id) == verification_id, col(CodeSend.status) == "sent")
        .order_by(col(CodeSend.seq).desc())
        .limit(1)
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def void_code_sends(
    *, session: AsyncSession, verification_id: str, below_seq: int | None = None, status: str
) -> int:
    """Retire every live code of a verification (older than `below_seq` when given)."""
    conditions: list[Any] = [
        col(CodeSend.verification_id) == verification_id,
        or_(col(CodeSend.status) == "sent", col(CodeSend.status) == "sending"),
    ]
    if below_seq is not None:
        conditions.append(col(CodeSend.seq) < below_seq)
    statement = update(CodeSend).where(*conditions).values(status=status, code_hash=None)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


# --- audit --------------------------------------------------------------------------------


def append_audit_event(
    *,
    session: AsyncSession,
    team_id: str,
    kind: str,
    at: datetime,
    verification_id: str | None = None,
    actor_user_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        team_id=team_id,
        verification_id=verification_id,
        actor_user_id=actor_user_id,
        kind=kind,
        detail=detail or {},
        created_at=at,
    )
    session.add(event)
    return event


# --- outbox -------------------------------------------------------------------------------


def add_outbox_message(
    *,
    session: AsyncSession,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    at: datetime,
    verification_id: str | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind,
        dedupe_key=dedupe_key,
        payload=payload,
        verification_id=verification_id,
        next_attempt_at=at,
        created_at=at,
    )
    session.add(message)
    return message


async def claim_outbox_messages(
    *, session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> Sequence[OutboxMessage]:
    """Lease due messages to this relay; other replicas skip rows locked or leased here."""
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.next_attempt_at) <= now,
            or_(
                col(OutboxMessage.claimed_until).is_(None),
                col(OutboxMessage.claimed_until) < now,
            ),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = (await session.scalars(query)).all()
    for message in messages:
        if message.claimed_until is not None:
            # The last claim ended without an outcome (a crash, a shutdown, a delivery that
            # outlived its lease): that try may have reached the target, so it counts, and
            # the next one must look for its own earlier write (a ticket note, say).
            message.attempts += 1
            message.last_error = "interrupted: the previous try recorded no outcome"
        message.claimed_until = now + lease
    return messages


async def mark_outbox_delivered(*, session: AsyncSession, message_id: int, at: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status="delivered", delivered_at=at, claimed_until=None, last_error=None)
    )


async def schedule_outbox_retry(
    *, session: AsyncSession, message_id: int, at: datetime, error: str
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(
            attempts=col(OutboxMessage.attempts) + 1,
            next_attempt_at=at,
            claimed_until=None,
            last_error=error[:2000],
        )
    )


# --- console provider -------------------------------------------------------------------------


async def add_console_message(
    *,
    session: AsyncSession,
    channel: str,
    recipient: str,
    subject: str | None,
    body: str,
    at: datetime,
) -> ConsoleMessage:
    message = ConsoleMessage(
        channel=channel, recipient=recipient, subject=subject, body=body, created_at=at
    )
    session.add(message)
    await session.flush()
    return message


# --- tickets and ticket notes (issue 3) -------------------------------------------------------


async def list_verification_outbox(
    *, session: AsyncSession, verification_id: str, kind: str
) -> Sequence[OutboxMessage]:
    """One verification's outbox rows of one kind, oldest first (the card's note status)."""
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.verification_id) == verification_id,
            col(OutboxMessage.kind) == kind,
        )
        .order_by(col(OutboxMessage.id))
    )
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def scrub_outbox_payload(
    *, session: AsyncSession, message_id: int, payload: dict[str, Any]
) -> None:
    """Replace a delivered row's payload (a ticket note's text may hold a code)."""
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == "delivered")
        .values(payload=payload)
    )


# --- delivery status (providers' callbacks) ---------------------------------------------------


async def find_code_send_by_provider_message(
    *,
    session: AsyncSession,
    provider: str,
    message_id: str | None = None,
    verification_id: str | None = None,
    seq: int | None = None,
) -> CodeSend | None:
    """The send a provider's report is about: by the id its receipt gave, or else by our own
    idempotency key (verification, seq) that the vendor echoes back (a Vonage SMS in several
    parts has one id per part; SendGrid's `dropped` has none). Locked for update."""
    base = select(CodeSend).where(col(CodeSend.provider) == provider)
    queries = []
    if message_id:
        queries.append(base.where(col(CodeSend.provider_message_id) == message_id))
    if verification_id is not None and seq is not None:
        queries.append(
            base.where(col(CodeSend.verification_id) == verification_id, col(CodeSend.seq) == seq)
        )
    for query in queries:
        found = await session.scalars(
            query.limit(1).with_for_update().execution_options(populate_existing=True)
        )
        send = found.first()
        if send is not None:
            return send
    return None


# --- sandbox (issue 6) ------------------------------------------------------------------------


async def latest_console_messages(*, session: AsyncSession, limit: int) -> Sequence[ConsoleMessage]:
    """What the console providers "sent", newest first (the sandbox's phone and inbox)."""
    query = select(ConsoleMessage).order_by(col(ConsoleMessage.id).desc()).limit(limit)
    return (await session.scalars(query)).all()


# --- message templates and destination edits (issue 5) ----------------------------------------


async def get_message_templates(
    *, session: AsyncSession, team_id: str
) -> MessageTemplateSet | None:
    return await session.get(MessageTemplateSet, team_id)


async def delete_message_templates(*, session: AsyncSession, team_id: str) -> bool:
    row = await session.get(MessageTemplateSet, team_id)
    if row is None:
        return False
    await session.delete(row)
    return True


async def count_recent_audit_events(
    *, session: AsyncSession, team_id: str, kind: str, actor_user_id: str, since: datetime
) -> int:
    query = (
        select(func.count())
        .select_from(AuditEvent)
        .where(
            col(AuditEvent.team_id) == team_id,
            col(AuditEvent.kind) == kind,
            col(AuditEvent.actor_user_id) == actor_user_id,
            col(AuditEvent.created_at) >= since,
        )
    )
    return int((await session.scalar(query)) or 0)


# --- workspace settings (issue 5, settings modal) ---------------------------------------------


async def save_workspace_policy(
    *,
    session: AsyncSession,
    team_id: str,
    values: Mapping[str, Any],
    updated_by: str,
    at: datetime,
) -> WorkspacePolicy:
    """Set these WorkspacePolicy columns for the workspace (creating its row); others unchanged."""
    row = await session.get(WorkspacePolicy, team_id, with_for_update=True)
    if row is None:
        row = WorkspacePolicy(team_id=team_id, updated_at=at)
        session.add(row)
    for name, value in values.items():
        if name not in WorkspacePolicy.model_fields or name in ("team_id", "updated_at"):
            raise ValueError(f"not a workspace policy setting: {name}")
        setattr(row, name, value)
    row.updated_by = updated_by
    row.updated_at = at
    await session.flush()
    return row
