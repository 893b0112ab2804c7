"""The dashboard's aggregates: figures precomputed when the segments are recomputed.

Also an index that counts each manager's calls of a period without reading the rows.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(16, 2)


def upgrade() -> None:
    op.create_table(
        "dashboard_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("segments_as_of", sa.Date(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_state")),
    )
    op.create_table(
        "dashboard_segments",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=2), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("revenue", MONEY, nullable=False),
        sa.Column("at_risk_clients", sa.Integer(), nullable=False),
        sa.Column("revenue_at_risk", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "segment", name=op.f("pk_dashboard_segments")),
    )
    op.create_table(
        "dashboard_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("new_clients", sa.Integer(), nullable=False),
        sa.Column("lost_clients", sa.Integer(), nullable=False),
        sa.Column("returned_clients", sa.Integer(), nullable=False),
        sa.Column("revenue_new", MONEY, nullable=False),
        sa.Column("revenue_existing", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("day", "owner_id", name=op.f("pk_dashboard_days")),
    )
    op.create_index(
        "ix_interactions_user_channel_occurred",
        "interactions",
        ["user_id", "channel", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_interactions_user_channel_occurred", table_name="interactions")
    op.drop_table("dashboard_days")
    op.drop_table("dashboard_segments")
    op.drop_table("dashboard_state")
