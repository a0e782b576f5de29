"""The audit trail's hash chain: built by ordinary use, verified, and every kind of
tampering named at its first bad event (edit, delete, insert, reorder, a cut-off tail, a
forged checkpoint); purge behind a signed checkpoint keeps the rest verifiable; export
streams CSV and JSON Lines. On SQLite and PostgreSQL (PINVERIFY_TEST_DATABASE_URL).

Tampering is done the way an intruder with database rights would: with the append-only
trigger dropped first (the trigger guards against the app; the chain catches the rest).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlmodel import col

from bot.audit import TrailVerdict, export_trail, purge_trail, verify_trail
from storage import repositories as repo
from storage.audit_chain import drop_trigger_sql, event_hash
from storage.db import Database
from storage.models import AuditCheckpoint, AuditEvent
from tests.support.service import ServiceKit, make_kit

KEY = b"k" * 40


@pytest.fixture
def kit(db: Database) -> ServiceKit:
    return make_kit(db)


async def write_events(kit: ServiceKit, count: int, team: str = "T1") -> None:
    for number in range(count):
        async with kit.db.transaction() as session:
            repo.append_audit_event(
                session=session,
                team_id=team,
                kind="test_event",
                at=kit.clock.now(),
                actor_user_id="U1",
                detail={"n": number, "text": "é ☎"},
            )
        kit.clock.advance(minutes=1)


async def events(db: Database, team: str = "T1") -> Sequence[AuditEvent]:
    async with db.transaction() as session:
        from sqlalchemy import select

        query = (
            select(AuditEvent).where(col(AuditEvent.team_id) == team).order_by(col(AuditEvent.seq))
        )
        return (await session.scalars(query)).all()


async def tamper(db: Database, *statements: Executable) -> None:
    async with db.transaction() as session:
        for sql in drop_trigger_sql(db.engine.dialect.name):
            await session.execute(text(sql))
        for statement in statements:
            await session.execute(statement)


async def verdict(db: Database, team: str = "T1") -> TrailVerdict:
    (found,) = [v for v in await verify_trail(db, secret_key=KEY) if v.team_id == team]
    return found


async def test_ordinary_use_builds_one_chain_per_workspace(kit: ServiceKit) -> None:
    await write_events(kit, 5)
    await write_events(kit, 3, team="T2")
    rows = await events(kit.db)
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert rows[1].prev_hash == rows[0].hash and rows[0].prev_hash == "0" * 64
    verdicts = await verify_trail(kit.db, secret_key=KEY)
    assert [(v.team_id, v.ok, v.checked, v.head_seq) for v in verdicts] == [
        ("T1", True, 5, 5),
        ("T2", True, 3, 3),
    ]


async def test_a_rolled_back_transaction_leaves_no_event_and_no_gap(kit: ServiceKit) -> None:
    await write_events(kit, 1)
    with pytest.raises(RuntimeError):
        async with kit.db.transaction() as session:
            repo.append_audit_event(session=session, team_id="T1", kind="x", at=kit.clock.now())
            raise RuntimeError("boom")
    await write_events(kit, 1)
    assert [row.seq for row in await events(kit.db)] == [1, 2]
    assert (await verdict(kit.db)).ok


async def test_the_app_itself_cannot_update_or_delete(kit: ServiceKit) -> None:
    await write_events(kit, 2)
    for statement in (update(AuditEvent).values(kind="x"), delete(AuditEvent)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with kit.db.transaction() as session:
                await session.execute(statement)


async def test_an_edited_event_is_named(kit: ServiceKit) -> None:
    await write_events(kit, 5)
    await tamper(
        kit.db,
        update(AuditEvent).where(col(AuditEvent.seq) == 3).values(detail={"n": 99}),
    )
    found = await verdict(kit.db)
    assert not found.ok and found.first_bad_seq == 3
    assert "event #3" in str(found.problem) and "changed" in str(found.problem)


async def test_a_deleted_event_is_named(kit: ServiceKit) -> None:
    await write_events(kit, 5)
    await tamper(kit.db, delete(AuditEvent).where(col(AuditEvent.seq) == 2))
    found = await verdict(kit.db)
    assert not found.ok and found.first_bad_seq == 3
    assert "#2–#1" not in str(found.problem) and "missing" in str(found.problem)


async def test_a_cut_off_tail_is_named(kit: ServiceKit) -> None:
    await write_events(kit, 5)
    await tamper(kit.db, delete(AuditEvent).where(col(AuditEvent.seq) >= 4))
    found = await verdict(kit.db)
    assert not found.ok and found.first_bad_seq == 4 and "cut off" in str(found.problem)


async def test_an_inserted_event_is_named(kit: ServiceKit) -> None:
    await write_events(kit, 4)
    rows = await events(kit.db)
    # In the middle: later events moved up one, a forged one in #3's place, hashed right.
    forged = event_hash(
        rows[1].hash or "", team_id="T1", seq=3, kind="test_event", verification_id=None,
        actor_user_id="U9", created_at=rows[1].created_at, detail={"forged": True},
    )  # fmt: skip
    await tamper(
        kit.db,
        update(AuditEvent).where(col(AuditEvent.seq) >= 3).values(seq=col(AuditEvent.seq) + 10),
        text(
            "INSERT INTO audit_events (team_id, kind, detail, created_at, seq, prev_hash, hash, "
            "actor_user_id) VALUES ('T1', 'test_event', '{\"forged\": true}', :at, 3, :prev, "
            ":hash, 'U9')"
        ).bindparams(at=rows[1].created_at, prev=rows[1].hash, hash=forged),
        update(AuditEvent).where(col(AuditEvent.seq) >= 13).values(seq=col(AuditEvent.seq) - 9),
    )
    found = await verdict(kit.db)
    assert not found.ok and found.first_bad_seq == 4, found
    # At the end, past the app's back (the head does not count it).
    kit2 = make_kit(kit.db)
    await write_events(kit2, 2, team="T3")
    last = (await events(kit.db, "T3"))[-1]
    appended = event_hash(
        last.hash or "", team_id="T3", seq=3, kind="x", verification_id=None,
        actor_user_id=None, created_at=last.created_at, detail={},
    )  # fmt: skip
    await tamper(
        kit.db,
        text(
            "INSERT INTO audit_events (team_id, kind, detail, created_at, seq, prev_hash, hash) "
            "VALUES ('T3', 'x', '{}', :at, 3, :prev, :hash)"
        ).bindparams(at=last.created_at, prev=last.hash, hash=appended),
    )
    tail = await verdict(kit.db, "T3")
    assert not tail.ok and tail.first_bad_seq == 3 and "beyond the chain head" in str(tail.problem)


async def test_reordered_events_are_named(kit: ServiceKit) -> None:
    await write_events(kit, 5)
    await tamper(
        kit.db,
        update(AuditEvent).where(col(AuditEvent.seq) == 2).values(seq=-2),
        update(AuditEvent).where(col(AuditEvent.seq) == 3).values(seq=2),
        update(AuditEvent).where(col(AuditEvent.seq) == -2).values(seq=3),
    )
    found = await verdict(kit.db)
    assert not found.ok and found.first_bad_seq == 2


async def test_purge_keeps_the_rest_verifiable_and_a_forged_checkpoint_is_caught(
    kit: ServiceKit,
) -> None:
    await write_events(kit, 6)  # one a minute
    cutoff = (await events(kit.db))[3].created_at  # events #1-#3 are older
    results = await purge_trail(kit.db, secret_key=KEY, before=cutoff, now=kit.clock.now())
    assert [(r.team_id, r.purged, r.through_seq) for r in results] == [("T1", 3, 3)]
    remaining = await events(kit.db)
    assert [row.seq for row in remaining] == [4, 5, 6, 7]  # #7: the purge's own event
    assert remaining[-1].kind == "audit_purged"
    found = await verdict(kit.db)
    assert found.ok and found.checked == 4 and found.head_seq == 7
    # Without the app's key a checkpoint cannot be made to cover a deletion.
    await tamper(
        kit.db,
        update(AuditCheckpoint).values(through_seq=4, purged_count=4),
        delete(AuditEvent).where(col(AuditEvent.seq) == 4),
    )
    forged = await verdict(kit.db)
    assert not forged.ok and "bad signature" in str(forged.problem)


async def test_purge_deletes_nothing_newer_than_the_cutoff(kit: ServiceKit) -> None:
    await write_events(kit, 3)
    results = await purge_trail(
        kit.db, secret_key=KEY, before=kit.clock.now() - timedelta(days=90), now=kit.clock.now()
    )
    assert results == [] and len(await events(kit.db)) == 3


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_export_writes_the_chain_in_order(kit: ServiceKit, fmt: str) -> None:
    await write_events(kit, 4)
    rows = await events(kit.db)
    out = io.StringIO()
    ticks: list[int] = []
    written = await export_trail(
        kit.db,
        out,
        fmt="csv" if fmt == "csv" else "jsonl",
        since=rows[1].created_at,
        until=rows[3].created_at,
        progress=ticks.append,
    )
    assert written == 2 and ticks == [2]
    if fmt == "csv":
        records = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert [r["seq"] for r in records] == ["2", "3"]
        assert json.loads(records[0]["detail"]) == {"n": 1, "text": "é ☎"}
    else:
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [line["seq"] for line in lines] == [2, 3]
        assert lines[1]["prev_hash"] == lines[0]["hash"]
