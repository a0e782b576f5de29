"""Workspace policy: the settings an admin can override per workspace.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("require_ticket", sa.Boolean()),
    ("code_in_ticket_note", sa.String(length=8)),
    ("allow_destination_edits", sa.Boolean()),
    ("require_edit_reason", sa.Boolean()),
    ("show_code_to_agent", sa.Boolean()),
    ("agent_usergroup", sa.String(length=32)),
    ("sms_provider", sa.String(length=32)),
    ("email_provider", sa.String(length=32)),
    ("sms_allowed_countries", sa.String(length=200)),
)


def upgrade() -> None:
    with op.batch_alter_table("workspace_policies") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspace_policies") as batch:
        for name, _type in reversed(_COLUMNS):
            batch.drop_column(name)
