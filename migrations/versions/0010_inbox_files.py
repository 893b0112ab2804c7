"""The watched inbox's ledger, and sales deduplicated by a 64-bit hash unique per client.

`inbox_files`: each file's content picked up once, whichever process sees it.
`transactions.dedup_hash`: the import's dedup key as a hash of its text after the client
id (see `services.importing.service.key_hashes`), unique together with the client; the text
key stays, without its index, which made every bulk load pay for a 30-60 byte text btree.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("report_path", sa.String(length=1000), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_inbox_files_sha256")),
    )

    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedup_hash", sa.BigInteger(), nullable=True))
    _fill_hashes()
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_transactions_dedup_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_transactions_client_dedup_hash", ["client_id", "dedup_hash"]
        )


BATCH = 50_000


def _hashes(suffixes: list[str]) -> list[int]:
    # a frozen copy of services.importing.service.key_hashes, as of this revision
    values = np.asarray(suffixes, dtype=object)
    return pd.util.hash_array(values, categorize=False).view(np.int64).tolist()


def _fill_hashes() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, client_id, dedup_key FROM transactions"
                " WHERE dedup_key IS NOT NULL AND id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        suffixes = [str(key)[len(str(client_id)) :] for _, client_id, key in rows]
        bind.execute(
            sa.text("UPDATE transactions SET dedup_hash = :h WHERE id = :id"),
            [
                {"h": value, "id": row[0]}
                for row, value in zip(rows, _hashes(suffixes), strict=True)
            ],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_transactions_client_dedup_hash", type_="unique")
        batch_op.create_unique_constraint("uq_transactions_dedup_key", ["dedup_key"])
        batch_op.drop_column("dedup_hash")
    op.drop_table("inbox_files")
