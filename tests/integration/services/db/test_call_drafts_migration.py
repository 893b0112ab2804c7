"""Migration 0009 keeps every logged call, adds the draft key and the outcome's details, and
on SQLite rebuilds the table with AUTOINCREMENT: an undone call's id is never handed out again."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from services.db.engine import make_engine
from services.db.schema import downgrade, upgrade


async def test_calls_survive_and_ids_are_never_reused(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine, "0008")
        at = datetime(2026, 3, 2, 9, 0)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO clients (id, name, name_normalized, is_vip, tags, created_at) "
                    "VALUES (1, 'c', 'c', false, '[]', :at)"
                ),
                {"at": at},
            )
            for number in (1, 2, 3):
                await connection.execute(
                    text(
                        "INSERT INTO interactions (client_id, occurred_at, channel, outcome,"
                        " comment, created_at) VALUES (1, :at, 'call', 'reached', :c, :at)"
                    ),
                    {"at": at, "c": f"call {number}"},
                )
        await upgrade(engine)
        async with engine.begin() as connection:
            comments = (
                await connection.execute(text("SELECT comment FROM interactions ORDER BY id"))
            ).scalars()
            assert list(comments) == ["call 1", "call 2", "call 3"]
            await connection.execute(text("DELETE FROM interactions WHERE id = 3"))
            insert = text(
                "INSERT INTO interactions (client_id, occurred_at, channel, outcome, created_at,"
                " draft_id) VALUES (1, :at, 'call', 'reached', :at, 'draft-1')"
            )
            await connection.execute(insert, {"at": at})
            newest = await connection.scalar(text("SELECT max(id) FROM interactions"))
            assert newest == 4  # not 3 again
        with pytest.raises(IntegrityError):  # one draft, one call
            async with engine.begin() as connection:
                await connection.execute(insert, {"at": at})
        await downgrade(engine, "0008")
        await upgrade(engine)
    finally:
        await engine.dispose()
