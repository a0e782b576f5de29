"""Delivery status on code sends, from the providers' status callbacks.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("delivery_status", sa.String(length=16)),
    ("delivery_error_code", sa.String(length=32)),
    ("delivery_error", sa.Text()),
    ("delivery_updated_at", UtcDateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("code_sends") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.create_index(
            "ix_code_sends_provider_message", ["provider", "provider_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("code_sends") as batch:
        batch.drop_index("ix_code_sends_provider_message")
        for name, _type in reversed(_COLUMNS):
            batch.drop_column(name)
