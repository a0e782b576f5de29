"""How audit events are chained as they are stored: per workspace, each event carries the
hash of the one before, and the chain's head is locked only for the moment of commit.

`append_audit_event` does not add the event to the session: it waits in `session.info`
until the transaction commits. Then, after everything else is flushed (so the head is the
last lock any transaction takes, and two transactions can never wait on each other through
it), the workspace's head row is locked, the events get their `seq`, `prev_hash` and `hash`
in the order they were appended, and the head moves on. A rolled-back transaction leaves no
event and no gap.

The hash is SHA-256 over the previous hash and a canonical JSON of the event (sorted keys,
UTC ISO-8601 time, no whitespace), so anyone holding an export can recompute it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import AuditChainHead, AuditEvent, table_of

GENESIS_HASH = "0" * 64
PENDING_KEY = "pinverify_audit_pending"


def canonical_time(moment: datetime) -> str:
    """One spelling of an instant, whatever the database gave back."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    prev_hash: str,
    *,
    team_id: str,
    seq: int,
    kind: str,
    verification_id: str | None,
    actor_user_id: str | None,
    created_at: datetime,
    detail: Mapping[str, Any],
) -> str:
    body = json.dumps(
        {
            "team_id": team_id,
            "seq": seq,
            "kind": kind,
            "verification_id": verification_id,
            "actor_user_id": actor_user_id,
            "created_at": canonical_time(created_at),
            "detail": detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def hash_of(row: AuditEvent, prev_hash: str) -> str:
    assert row.seq is not None
    return event_hash(
        prev_hash,
        team_id=row.team_id,
        seq=row.seq,
        kind=row.kind,
        verification_id=row.verification_id,
        actor_user_id=row.actor_user_id,
        created_at=row.created_at,
        detail=row.detail,
    )


def queue_event(session: Session, audit_event: AuditEvent) -> None:
    """Hold `audit_event` until this session commits (see the module docstring)."""
    session.info.setdefault(PENDING_KEY, []).append(audit_event)


def _lock_head(session: Session, team_id: str) -> tuple[int, str]:
    table = table_of(AuditChainHead)
    values = {"team_id": team_id, "seq": 0, "hash": GENESIS_HASH}
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["team_id"]))
    row = session.execute(
        select(col(AuditChainHead.seq), col(AuditChainHead.hash))
        .where(col(AuditChainHead.team_id) == team_id)
        .with_for_update()
    ).one()
    return int(row[0]), str(row[1])


@event.listens_for(Session, "before_commit")
def _seal_pending_events(session: Session) -> None:
    pending: list[AuditEvent] = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    # Everything else first: the head row must be the last lock this transaction takes.
    session.flush()
    by_team: dict[str, list[AuditEvent]] = {}
    for queued in pending:
        by_team.setdefault(queued.team_id, []).append(queued)
    for team_id in sorted(by_team):
        seq, last_hash = _lock_head(session, team_id)
        for queued in by_team[team_id]:
            seq += 1
            queued.seq = seq
            queued.prev_hash = last_hash
            queued.hash = last_hash = hash_of(queued, last_hash)
            session.add(queued)
        session.execute(
            update(AuditChainHead)
            .where(col(AuditChainHead.team_id) == team_id)
            .values(seq=seq, hash=last_hash)
        )


@event.listens_for(Session, "after_rollback")
def _drop_pending_events(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def append_only_trigger_sql(dialect: str) -> list[str]:
    """The statements that make audit_events append-only, a purge permit excepted."""
    if dialect == "postgresql":
        return [
            """
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND EXISTS (
                    SELECT 1 FROM audit_purge_permits p
                    WHERE p.team_id = OLD.team_id AND OLD.seq <= p.through_seq
                ) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """,
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
        ]
    return [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permits p "
        "WHERE p.team_id = OLD.team_id AND OLD.seq <= p.through_seq) "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    ]


def drop_trigger_sql(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return ["DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events"]
    return [
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
    ]
