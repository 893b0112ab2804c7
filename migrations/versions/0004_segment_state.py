"""Segment state: one current row per client plus change-only history.

`segment_snapshots` (a row per client and run date) becomes `client_segments` (the
latest snapshot of each client) and `segment_history` (a client's tracked state on
the dates it changed). Upgrading converts every snapshot; downgrading expands the
history back to a row per client and run date (columns outside the tracked state
are only known for each client's latest date; older rows get their defaults).

Revision ID: 0004
Revises: 0007
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The churn risk bands of the card when this revision was written (P(alive) >= 0.8 low,
# >= 0.5 medium, below that high); the code's bands live in services.clients.
_RISK = (
    "CASE WHEN {p} IS NULL THEN NULL WHEN {p} >= 0.8 THEN 'low' "
    "WHEN {p} >= 0.5 THEN 'medium' ELSE 'high' END"
)
_TRACKED = (
    "abc",
    "xyz",
    "segment",
    "status",
    "risk",
    "at_risk",
    "reactivation",
    "cadence_days",
    "next_due",
)


def _state_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("abc", sa.String(length=1), nullable=True),
        sa.Column("xyz", sa.String(length=1), nullable=True),
        sa.Column("segment", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "client_segments",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        *_state_columns(),
        sa.Column("revenue", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("previous_revenue", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("deal_cycle_days", sa.Float(), nullable=True),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("churn_probability", sa.Float(), nullable=True),
        sa.Column("expected_purchases_90d", sa.Float(), nullable=True),
        sa.Column("cadence_days", sa.Integer(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("reactivation", sa.Boolean(), nullable=False),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("revenue_at_risk", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("upsell", sa.Boolean(), nullable=False),
        sa.Column("cross_sell", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_segments_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_segments")),
        # Every run rewrites every row: half-empty pages keep the updates HOT, so the
        # table neither grows nor needs VACUUM between runs.
        postgresql_with={"fillfactor": 50},
    )
    op.create_table(
        "segment_history",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        *_state_columns(),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("reactivation", sa.Boolean(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_segment_history_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "as_of", name=op.f("pk_segment_history")),
    )
    with op.batch_alter_table("segment_history", schema=None) as batch_op:
        batch_op.create_index("ix_segment_history_as_of", ["as_of"], unique=False)

    _convert_snapshots()

    with op.batch_alter_table("segment_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_snapshots_as_of_segment")
    op.drop_table("segment_snapshots")
    # Only now: on SQLite a batch alter may rebuild the table, and dropping the old
    # one would cascade to the snapshots that reference it.
    with op.batch_alter_table("segmentation_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("n_changed", sa.Integer(), nullable=False, server_default="0")
        )


def _convert_snapshots() -> None:
    """Latest snapshot per client -> client_segments; changes between snapshots -> history."""
    risk = _RISK.format(p="s.p_alive")
    op.execute(
        f"""
        INSERT INTO client_segments (
            client_id, run_id, as_of, abc, xyz, segment, status, risk, revenue,
            previous_revenue, deal_cycle_days, p_alive, churn_probability,
            expected_purchases_90d, cadence_days, next_due, reactivation, at_risk,
            revenue_at_risk, upsell, cross_sell
        )
        SELECT
            s.client_id, s.run_id, s.as_of, s.abc, s.xyz, s.segment, s.status, {risk},
            s.revenue,
            (SELECT p.revenue FROM segment_snapshots p
              WHERE p.client_id = s.client_id AND p.as_of < s.as_of
              ORDER BY p.as_of DESC LIMIT 1),
            s.deal_cycle_days, s.p_alive, s.churn_probability, s.expected_purchases_90d,
            s.cadence_days, s.next_due, s.reactivation, s.at_risk, s.revenue_at_risk,
            s.upsell, s.cross_sell
        FROM segment_snapshots s
        WHERE s.as_of = (SELECT max(m.as_of) FROM segment_snapshots m
                          WHERE m.client_id = s.client_id)
        """
    )
    distinct = "IS DISTINCT FROM" if op.get_bind().dialect.name == "postgresql" else "IS NOT"
    columns = ", ".join(_TRACKED)
    changed = " OR ".join(f"o.{c} {distinct} o.prev_{c}" for c in _TRACKED)
    previous = ", ".join(
        f"LAG({c}) OVER (PARTITION BY client_id ORDER BY as_of) AS prev_{c}" for c in _TRACKED
    )
    op.execute(
        f"""
        INSERT INTO segment_history (client_id, as_of, {columns})
        SELECT o.client_id, o.as_of, {", ".join(f"o.{c}" for c in _TRACKED)}
        FROM (
            SELECT t.*, ROW_NUMBER() OVER (PARTITION BY client_id ORDER BY as_of) AS n,
                   {previous}
            FROM (
                SELECT client_id, as_of, abc, xyz, segment, status,
                       {_RISK.format(p="p_alive")} AS risk,
                       at_risk, reactivation, cadence_days, next_due
                FROM segment_snapshots
            ) t
        ) o
        WHERE o.n = 1 OR {changed}
        """
    )


def downgrade() -> None:
    # First, while nothing references the runs (see the end of `upgrade`).
    with op.batch_alter_table("segmentation_runs", schema=None) as batch_op:
        batch_op.drop_column("n_changed")
    op.create_table(
        "segment_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("abc", sa.String(length=1), nullable=True),
        sa.Column("xyz", sa.String(length=1), nullable=True),
        sa.Column("segment", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("deal_cycle_days", sa.Float(), nullable=True),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("churn_probability", sa.Float(), nullable=True),
        sa.Column("expected_purchases_90d", sa.Float(), nullable=True),
        sa.Column("cadence_days", sa.Integer(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("reactivation", sa.Boolean(), nullable=False),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("revenue_at_risk", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("upsell", sa.Boolean(), nullable=False),
        sa.Column("cross_sell", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_segment_snapshots_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["segmentation_runs.id"],
            name=op.f("fk_segment_snapshots_run_id_segmentation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_snapshots")),
        sa.UniqueConstraint("client_id", "as_of", name="uq_segment_snapshots_client_as_of"),
    )
    with op.batch_alter_table("segment_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_segment_snapshots_as_of_segment", ["as_of", "segment"], unique=False
        )

    # Every run date x every client known by then; the latest date keeps all its columns.
    op.execute(
        """
        INSERT INTO segment_snapshots (
            run_id, client_id, as_of, abc, xyz, segment, status, revenue, deal_cycle_days,
            p_alive, churn_probability, expected_purchases_90d, cadence_days, next_due,
            reactivation, at_risk, revenue_at_risk, upsell, cross_sell
        )
        SELECT
            r.id, h.client_id, r.as_of, h.abc, h.xyz, h.segment, h.status,
            COALESCE(c.revenue, 0), c.deal_cycle_days, c.p_alive, c.churn_probability,
            c.expected_purchases_90d, h.cadence_days, COALESCE(h.next_due, r.as_of),
            h.reactivation, h.at_risk, COALESCE(c.revenue_at_risk, 0),
            COALESCE(c.upsell, FALSE),
            COALESCE(c.cross_sell, '[]')
        FROM (SELECT as_of, max(id) AS id FROM segmentation_runs GROUP BY as_of) r
        JOIN segment_history h
          ON h.as_of = (SELECT max(x.as_of) FROM segment_history x
                         WHERE x.client_id = h.client_id AND x.as_of <= r.as_of)
        LEFT JOIN client_segments c ON c.client_id = h.client_id AND c.as_of = r.as_of
        """
    )
    op.execute(
        """
        INSERT INTO segment_snapshots (
            run_id, client_id, as_of, abc, xyz, segment, status, revenue, deal_cycle_days,
            p_alive, churn_probability, expected_purchases_90d, cadence_days, next_due,
            reactivation, at_risk, revenue_at_risk, upsell, cross_sell
        )
        SELECT
            c.run_id, c.client_id, c.as_of, c.abc, c.xyz, c.segment, c.status, c.revenue,
            c.deal_cycle_days, c.p_alive, c.churn_probability, c.expected_purchases_90d,
            c.cadence_days, COALESCE(c.next_due, c.as_of), c.reactivation, c.at_risk,
            c.revenue_at_risk, c.upsell, c.cross_sell
        FROM client_segments c
        JOIN segmentation_runs r ON r.id = c.run_id
        WHERE NOT EXISTS (SELECT 1 FROM segment_snapshots s
                           WHERE s.client_id = c.client_id AND s.as_of = c.as_of)
        """
    )

    with op.batch_alter_table("segment_history", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_history_as_of")
    op.drop_table("segment_history")
    op.drop_table("client_segments")
