"""Migration 0010 gives imported sales their dedup hash, so re-importing them adds nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

from services.db.engine import make_engine, make_session_factory
from services.db.models import Transaction
from services.db.schema import downgrade, upgrade
from services.importing import import_transactions
from services.normalize import normalize_name
from services.uow import UnitOfWorkFactory

SALES = "Контрагент;Дата;Сумма;Номер документа\nООО «Лютик»;10.02.2026;100,00;Д-1\n"


async def test_sales_imported_before_the_migration_are_not_imported_again(
    empty_db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine, "0008")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO clients (id, name, name_normalized, is_vip, tags, created_at)"
                    " VALUES (7, 'ООО «Лютик»', :normalized, false, '[]', '2025-01-01')"
                ),
                {"normalized": normalize_name("ООО «Лютик»")},
            )
            # what the import wrote under the old scheme: the text key, unique by itself
            await connection.execute(
                text(
                    "INSERT INTO transactions (client_id, date, amount, order_number, category,"
                    " currency, dedup_key) VALUES (7, '2026-02-10', 100, 'Д-1', NULL, 'RUB',"
                    " '7|Д-1|')"
                )
            )
        await upgrade(engine)
        path = tmp_path / "again.csv"
        path.write_text(SALES, encoding="utf-8")
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        report = await import_transactions(uow_factory(), path, today=date(2026, 3, 1))
        assert (report.status, report.rows_imported, report.rows_duplicate) == ("done", 0, 1)
        async with uow_factory() as uow:
            assert await uow.session.scalar(select(func.count()).select_from(Transaction)) == 1
        await downgrade(engine, "0008")
        await upgrade(engine)
    finally:
        await engine.dispose()
