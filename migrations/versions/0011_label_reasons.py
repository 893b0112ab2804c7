"""Labels that explain themselves: each client's value and the figures behind its labels.

`client_segments` keeps what the recompute's analysis said about the client beyond
its labels: the expected 12-month value and the value at risk (the ranking of
`/risk`), and the figures that explain the segment, the status, the churn risk and
the next contact, so the bot reads them instead of recomputing. `model_checks`
keeps the monthly backtest the head's digest reports.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(16, 2)

_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[object]], ...] = (
    ("value_12m", MONEY),
    ("value_at_risk", MONEY),
    ("revenue_share", sa.Float()),
    ("revenue_rank", sa.Integer()),
    ("ranked_clients", sa.Integer()),
    ("active_months", sa.Integer()),
    ("window_months", sa.Integer()),
    ("days_since_last_purchase", sa.Integer()),
    ("repeat_purchases", sa.Integer()),
    ("history_days", sa.Integer()),
    ("last_touch", sa.Date()),
    ("last_contact", sa.Date()),
    ("cadence_source", sa.String(length=10)),
    ("next_due_source", sa.String(length=8)),
    ("next_due_set_by", sa.Integer()),
    ("cross_sell_from", sa.String(length=200)),
    ("cross_sell_lift", sa.Float()),
)


def upgrade() -> None:
    with op.batch_alter_table("client_segments") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "model_checks",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("calibration_end", sa.Date(), nullable=False),
        sa.Column("holdout_end", sa.Date(), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("predicted_total", sa.Float(), nullable=False),
        sa.Column("actual_total", sa.Integer(), nullable=False),
        sa.Column("mae", sa.Float(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_model_checks")),
    )


def downgrade() -> None:
    op.drop_table("model_checks")
    with op.batch_alter_table("client_segments") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
