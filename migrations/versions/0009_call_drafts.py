"""Call drafts with an identity: one call saved once, undone from server-side state.

`draft_id` makes saving a logged call idempotent (a unique key: the second attempt of the
same draft inserts nothing); `previous_due` is what undo restores, so the undo button
carries only the interaction id. The outcome's details (a meeting's time and place, a
refusal's reason, an order's amount) are columns of the interaction. On SQLite the table
is rebuilt with AUTOINCREMENT, so the id of an undone call is never handed out again.

Revision ID: 0009
Revises: 0011
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("draft_id", "previous_due", "meeting_at", "meeting_place", "refusal_reason")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "interactions",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True} if sqlite else {},
    ) as batch_op:
        batch_op.add_column(sa.Column("draft_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("previous_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("meeting_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("meeting_place", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("refusal_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("order_amount", sa.Numeric(16, 2), nullable=True))
        batch_op.create_unique_constraint("uq_interactions_draft_id", ["draft_id"])


def downgrade() -> None:
    with op.batch_alter_table("interactions") as batch_op:
        batch_op.drop_constraint("uq_interactions_draft_id", type_="unique")
        batch_op.drop_column("order_amount")
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
