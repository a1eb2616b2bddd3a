"""A rollback pin may be released by the next commit: remember the head it was made at.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_controls") as batch:
        batch.add_column(sa.Column("pin_release_after", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("app_controls") as batch:
        batch.drop_column("pin_release_after")
