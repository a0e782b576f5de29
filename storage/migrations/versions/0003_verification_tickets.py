"""Tickets on verifications: the tagged PSA ticket, the contact's company and active flag.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("company_ref", sa.String(length=128), nullable=True),
        sa.Column("contact_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("ticket_ref", sa.String(length=64), nullable=True),
        sa.Column("ticket_number", sa.String(length=64), nullable=True),
        sa.Column("ticket_summary", sa.String(length=255), nullable=True),
        sa.Column("ticket_url", sa.String(length=500), nullable=True),
        sa.Column("ticket_tagged_by", sa.String(length=32), nullable=True),
        sa.Column("ticket_tagged_at", storage.models.UtcDateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("verifications") as batch:
        for column in _columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("verifications") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
