"""Supervision: the live message and standing threads, paced and coalesced outbox rows with
lease tokens, the hash-chained audit trail (heads, signed checkpoints, purge permits), and
the supervisor group and digest settings.

Existing audit events are chained in id order per workspace; the append-only trigger is
recreated so that DELETE is allowed only under a purge permit (storage/audit_chain.py).

Revision ID: 0006_i13
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models
from storage.audit_chain import (
    GENESIS_HASH,
    append_only_trigger_sql,
    drop_trigger_sql,
    event_hash,
)

revision = "0006_i13"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = storage.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("workspace_policies") as batch:
        batch.add_column(sa.Column("supervisor_usergroup", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("digest", sa.String(length=8), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("pace_key", sa.String(length=64), nullable=True))
        batch.create_index("ix_outbox_pace_key", ["pace_key"])
    op.create_table(
        "slack_pacing",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("next_at", UTC_DATETIME, nullable=False),
    )
    op.create_table(
        "supervisor_messages",
        sa.Column("verification_id", sa.String(length=32), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("posted_at", UTC_DATETIME, nullable=False),
    )
    op.create_table(
        "channel_threads",
        sa.Column("channel", sa.String(length=32), primary_key=True),
        sa.Column("purpose", sa.String(length=32), primary_key=True),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    op.create_table(
        "audit_chain_heads",
        sa.Column("team_id", sa.String(length=32), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False, index=True),
        sa.Column("through_seq", sa.Integer(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("purged_count", sa.Integer(), nullable=False),
        sa.Column("purged_before", UTC_DATETIME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
    )
    op.create_table(
        "audit_purge_permits",
        sa.Column("team_id", sa.String(length=32), primary_key=True),
        sa.Column("through_seq", sa.Integer(), nullable=False),
    )
    for statement in drop_trigger_sql(dialect):
        op.execute(statement)
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_audit_events_chain", ["team_id", "seq"])
    _chain_existing_events()
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for statement in append_only_trigger_sql(dialect):
        op.execute(statement)


def _chain_existing_events() -> None:
    bind = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer()),
        sa.column("team_id", sa.String()),
        sa.column("verification_id", sa.String()),
        sa.column("actor_user_id", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("detail", sa.JSON()),
        sa.column("created_at", UTC_DATETIME),
        sa.column("seq", sa.Integer()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    heads: dict[str, tuple[int, str]] = {}
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        seq, prev = heads.get(row["team_id"], (0, GENESIS_HASH))
        seq += 1
        digest = event_hash(
            prev,
            team_id=row["team_id"],
            seq=seq,
            kind=row["kind"],
            verification_id=row["verification_id"],
            actor_user_id=row["actor_user_id"],
            created_at=row["created_at"],
            detail=row["detail"] or {},
        )
        bind.execute(
            sa.update(events)
            .where(events.c.id == row["id"])
            .values(seq=seq, prev_hash=prev, hash=digest)
        )
        heads[row["team_id"]] = (seq, digest)
    head_table = sa.table(
        "audit_chain_heads",
        sa.column("team_id", sa.String()),
        sa.column("seq", sa.Integer()),
        sa.column("hash", sa.String()),
    )
    for team_id, (seq, digest) in heads.items():
        bind.execute(sa.insert(head_table).values(team_id=team_id, seq=seq, hash=digest))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_trigger_sql(dialect):
        op.execute(statement)
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint("uq_audit_events_chain", type_="unique")
        for name in ("hash", "prev_hash", "seq"):
            batch.drop_column(name)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
    for table in (
        "audit_purge_permits",
        "audit_checkpoints",
        "audit_chain_heads",
        "channel_threads",
        "supervisor_messages",
        "slack_pacing",
    ):
        op.drop_table(table)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_pace_key")
        for name in ("pace_key", "revision", "claim_token"):
            batch.drop_column(name)
    with op.batch_alter_table("workspace_policies") as batch:
        batch.drop_column("digest")
        batch.drop_column("supervisor_usergroup")
