"""Proving the audit trail: verify each workspace's hash chain, and purge old events behind
a signed checkpoint so that what remains still verifies.

`verify_trail` walks every workspace's events in chain order (streamed, flat memory) and
names the first bad one: an event changed after it was written (its hash no longer matches),
a link broken by a deleted, inserted or reordered event (its `prev_hash` is not the hash of
the event before, or its number is not the next), an event written outside the app (no
chain), or a tail cut off (the chain head is further on). The chain starts at the genesis
hash, or at the latest purge checkpoint, whose HMAC signature (a key derived from
PINVERIFY_SECRET_KEY) must hold: only the app can say "these were purged on purpose".

`purge_trail` deletes, per workspace, every event up to the last one older than the cutoff,
in one transaction that inserts a purge permit (the only way past the append-only trigger,
and only for those events), deletes, removes the permit, writes the signed checkpoint and
appends an `audit_purged` event to the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from bot.audit.kinds import AuditKind
from storage import repositories as repo
from storage.audit_chain import GENESIS_HASH, canonical_time, hash_of
from storage.db import Database
from storage.models import AuditCheckpoint, AuditEvent


def checkpoint_key(secret_key: bytes) -> bytes:
    """A key of its own for checkpoints, derived from the app's secret key."""
    return hmac.new(secret_key, b"pinverify audit checkpoint v1", hashlib.sha256).digest()


def checkpoint_signature(key: bytes, checkpoint: AuditCheckpoint) -> str:
    body = json.dumps(
        [
            checkpoint.team_id,
            checkpoint.through_seq,
            checkpoint.through_hash,
            checkpoint.purged_count,
            canonical_time(checkpoint.purged_before),
            canonical_time(checkpoint.created_at),
        ],
        separators=(",", ":"),
    )
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TrailVerdict:
    team_id: str
    checked: int  # events read
    head_seq: int
    problem: str | None = None  # None: the chain holds
    first_bad_seq: int | None = None
    first_bad_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        if self.ok:
            return f"{self.team_id}: OK, {self.checked} events, chain head #{self.head_seq}"
        return f"{self.team_id}: BROKEN at {self.problem}"


async def verify_trail(db: Database, *, secret_key: bytes | None) -> list[TrailVerdict]:
    async with db.transaction() as session:
        teams = await repo.audit_team_ids(session=session)
    return [await _verify_team(db, team_id, secret_key) for team_id in teams]


def _describe(event: AuditEvent) -> str:
    return f"event #{event.seq} (id {event.id}, {event.kind}, {canonical_time(event.created_at)})"


async def _verify_team(db: Database, team_id: str, secret_key: bytes | None) -> TrailVerdict:
    async with db.transaction() as session:
        # The head first: an event and the head that counts it are committed together, so
        # every event up to this head must be found below.
        head = await repo.get_audit_head(session=session, team_id=team_id)
        checkpoint = await repo.latest_audit_checkpoint(session=session, team_id=team_id)
        head_seq = head.seq if head else 0
        expected, prev = 1, GENESIS_HASH
        if checkpoint is not None:
            if secret_key is not None and not hmac.compare_digest(
                checkpoint.signature, checkpoint_signature(checkpoint_key(secret_key), checkpoint)
            ):
                return TrailVerdict(
                    team_id,
                    0,
                    head_seq,
                    f"the purge checkpoint through #{checkpoint.through_seq} has a bad "
                    "signature (forged or altered)",
                )
            expected, prev = checkpoint.through_seq + 1, checkpoint.through_hash
        checked = 0
        async for event in repo.stream_audit_chain(session=session, team_id=team_id):
            checked += 1
            problem = _problem(event, expected, prev)
            if problem is not None:
                return TrailVerdict(
                    team_id, checked, head_seq, problem, first_bad_seq=event.seq,
                    first_bad_id=event.id,
                )  # fmt: skip
            assert event.hash is not None
            expected, prev = expected + 1, event.hash
        last = expected - 1
        if last < head_seq:
            return TrailVerdict(
                team_id,
                checked,
                head_seq,
                f"the end: events #{last + 1}–#{head_seq} are missing (cut off)",
                first_bad_seq=last + 1,
            )
        if head is not None and last == head_seq and head.hash != prev:
            return TrailVerdict(
                team_id, checked, head_seq, f"event #{last}: does not match the chain head",
                first_bad_seq=last,
            )  # fmt: skip
    if last > head_seq:
        # Events after the head we read: appended meanwhile (the head has moved on since),
        # or written past the app's back (no head counts them).
        async with db.transaction() as session:
            now_head = await repo.get_audit_head(session=session, team_id=team_id)
        if now_head is None or now_head.seq < last:
            known = now_head.seq if now_head else 0
            return TrailVerdict(
                team_id,
                checked,
                known,
                f"event #{known + 1}: beyond the chain head (not written by the app)",
                first_bad_seq=known + 1,
            )
        head_seq = now_head.seq
    return TrailVerdict(team_id, checked, head_seq)


def _problem(event: AuditEvent, expected: int, prev: str) -> str | None:
    if event.seq is None or event.hash is None or event.prev_hash is None:
        return f"event id {event.id} ({event.kind}): not in the chain (written outside the app)"
    if event.seq < expected:
        return f"{_describe(event)}: out of order (expected #{expected})"
    if event.seq > expected:
        return f"{_describe(event)}: events #{expected}–#{event.seq - 1} before it are missing"
    if hash_of(event, event.prev_hash) != event.hash:
        return f"{_describe(event)}: changed after it was written (its hash does not match)"
    if event.prev_hash != prev:
        return (
            f"{_describe(event)}: does not follow the event before it (inserted, or moved "
            "from elsewhere in the chain)"
        )
    return None


@dataclass(frozen=True)
class PurgeResult:
    team_id: str
    purged: int
    through_seq: int


async def purge_trail(
    db: Database, *, secret_key: bytes, before: datetime, now: datetime
) -> list[PurgeResult]:
    """Delete each workspace's events older than `before` behind a signed checkpoint."""
    async with db.transaction() as session:
        teams = await repo.audit_team_ids(session=session)
    results = []
    key = checkpoint_key(secret_key)
    for team_id in teams:
        async with db.transaction() as session:
            last = await repo.last_event_before(session=session, team_id=team_id, before=before)
            if last is None or last.seq is None or last.hash is None:
                continue
            purged = await repo.delete_audit_prefix(
                session=session, team_id=team_id, through_seq=last.seq
            )
            checkpoint = AuditCheckpoint(
                team_id=team_id,
                through_seq=last.seq,
                through_hash=last.hash,
                purged_count=purged,
                purged_before=before,
                created_at=now,
                signature="",
            )
            checkpoint.signature = checkpoint_signature(key, checkpoint)
            repo.add_audit_checkpoint(session=session, checkpoint=checkpoint)
            repo.append_audit_event(
                session=session,
                team_id=team_id,
                kind=AuditKind.AUDIT_PURGED,
                at=now,
                detail={
                    "through_seq": last.seq,
                    "purged": purged,
                    "before": canonical_time(before),
                },
            )
        results.append(PurgeResult(team_id, purged, last.seq))
    return results
