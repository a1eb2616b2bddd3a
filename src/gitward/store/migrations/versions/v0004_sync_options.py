"""A manual sync may carry a person's options (prune, force, some objects only): keep
them with the sync's history row.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("syncs") as batch:
        batch.add_column(sa.Column("options", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("syncs") as batch:
        batch.drop_column("options")
