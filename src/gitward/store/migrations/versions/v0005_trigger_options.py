"""A trigger queued for another replica may carry a person's sync options (prune,
force): keep them with it, so the owner syncs as asked.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_triggers") as batch:
        batch.add_column(sa.Column("options", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("app_triggers") as batch:
        batch.drop_column("options")
