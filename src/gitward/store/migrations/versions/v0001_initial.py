"""The first schema: application status and controls, sync history, audit log.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    _app_tables()
    _sync_tables()
    _audit_table()


def downgrade() -> None:
    for table in ("audit_log", "sync_actions", "syncs", "app_controls", "app_status"):
        op.drop_table(table)


def _app_tables() -> None:
    op.create_table(
        "app_status",
        sa.Column("app", sa.String(253), primary_key=True),
        sa.Column("sync_state", sa.String(32), nullable=False),
        sa.Column("health_status", sa.String(32), nullable=False),
        sa.Column("health_message", sa.Text(), nullable=False),
        sa.Column("live_sha", sa.String(64)),
        sa.Column("wanted_repo_url", sa.Text()),
        sa.Column("wanted_requested", sa.Text()),
        sa.Column("wanted_sha", sa.String(64)),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_table(
        "app_controls",
        sa.Column(
            "app",
            sa.String(253),
            sa.ForeignKey("app_status.app", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("pin_sha", sa.String(64)),
        sa.Column("pin_by", sa.Text()),
        sa.Column("pin_at", _WHEN),
        sa.Column("pin_reason", sa.Text(), nullable=False),
    )


def _sync_tables() -> None:
    op.create_table(
        "syncs",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("app", sa.String(253), nullable=False),
        sa.Column("repo_url", sa.Text(), nullable=False),
        sa.Column("requested", sa.Text(), nullable=False),
        sa.Column("sha", sa.String(64)),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("finished_at", _WHEN),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("diff_summary", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_syncs_app_id", "syncs", ["app", "id"])
    op.create_index("ix_syncs_result_owner", "syncs", ["result", "owner"])
    op.create_table(
        "sync_actions",
        sa.Column("sync_id", _ID, sa.ForeignKey("syncs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("api_group", sa.String(253), nullable=False),
        sa.Column("kind", sa.String(253), nullable=False),
        sa.Column("namespace", sa.String(253), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
    )


def _audit_table() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(253), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("app", sa.String(253)),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_app_id", "audit_log", ["app", "id"])
