"""High availability: which replica owns each app, and triggers queued for the owner.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "app_owner",
        sa.Column("app", sa.String(253), primary_key=True),
        sa.Column("replica", sa.Text(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("lease_expires_at", _WHEN, nullable=False),
        sa.Column("claimed_at", _WHEN, nullable=False),
    )
    op.create_table(
        "app_triggers",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("app", sa.String(253), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("queued_at", _WHEN, nullable=False),
        sa.Index("ix_app_triggers_app", "app"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("app_triggers")
    op.drop_table("app_owner")
