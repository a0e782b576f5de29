"""Per-workspace message templates; destination edits recorded on verifications.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("sms", sa.Text(), nullable=False),
        sa.Column("email_subject", sa.Text(), nullable=False),
        sa.Column("email_body", sa.Text(), nullable=False),
        sa.Column("email_html", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )
    with op.batch_alter_table("verifications") as batch:
        batch.add_column(
            sa.Column("phone_edited", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("email_edited", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("edit_reason", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "destination_edited_at", storage.models.UtcDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("verifications") as batch:
        for name in ("destination_edited_at", "edit_reason", "email_edited", "phone_edited"):
            batch.drop_column(name)
    op.drop_table("message_templates")
