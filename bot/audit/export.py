"""Exporting the audit trail as CSV or JSON Lines, streamed: events are read a batch at a
time and written as they come, so memory stays flat however many there are."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from typing import Literal, TextIO

from storage import repositories as repo
from storage.audit_chain import canonical_time
from storage.db import Database
from storage.models import AuditEvent

ExportFormat = Literal["csv", "jsonl"]
COLUMNS = (
    "team_id",
    "seq",
    "id",
    "created_at",
    "kind",
    "actor_user_id",
    "verification_id",
    "detail",
    "prev_hash",
    "hash",
)


def _record(event: AuditEvent) -> dict[str, object]:
    return {
        "team_id": event.team_id,
        "seq": event.seq,
        "id": event.id,
        "created_at": canonical_time(event.created_at),
        "kind": event.kind,
        "actor_user_id": event.actor_user_id,
        "verification_id": event.verification_id,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


async def count_for_export(
    db: Database, *, since: datetime | None, until: datetime | None, team_id: str | None = None
) -> int:
    async with db.transaction() as session:
        return await repo.count_audit_events(
            session=session, since=since, until=until, team_id=team_id
        )


async def export_trail(
    db: Database,
    out: TextIO,
    *,
    fmt: ExportFormat,
    since: datetime | None = None,
    until: datetime | None = None,
    team_id: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the events in [since, until) to `out` in chain order; returns how many.
    `progress(n)` is told every n events written (for a progress bar)."""
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(COLUMNS)
    written = pending = 0
    async with db.transaction() as session:
        async for event in repo.stream_audit_chain(
            session=session, team_id=team_id, since=since, until=until
        ):
            record = _record(event)
            if writer is not None:
                record["detail"] = json.dumps(record["detail"], sort_keys=True, ensure_ascii=False)
                writer.writerow([record[column] for column in COLUMNS])
            else:
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
            written += 1
            pending += 1
            if progress is not None and pending >= 1000:
                progress(pending)
                pending = 0
    if progress is not None and pending:
        progress(pending)
    return written
