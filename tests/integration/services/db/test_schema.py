from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from services.db.engine import make_engine, make_session_factory
from services.db.models import Client, Delivery, Transaction, User
from services.db.schema import SchemaNotReady, downgrade, ensure_schema, head_revision, upgrade
from services.uow import UnitOfWorkFactory

EXPECTED_TABLES = {
    "users",
    "clients",
    "client_phones",
    "transactions",
    "interactions",
    "segmentation_runs",
    "client_segments",
    "segment_history",
    "app_settings",
    "invites",
    "deliveries",
    "import_batches",
    "fsm_states",
}


async def _tables(engine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_to_head_and_downgrade_to_base(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        with pytest.raises(SchemaNotReady, match="crmbot migrate"):
            await ensure_schema(engine)
        await upgrade(engine)
        await ensure_schema(engine)
        assert await _tables(engine) >= EXPECTED_TABLES
        await downgrade(engine, "base")
        assert (await _tables(engine)) - {"alembic_version"} == set()
        await upgrade(engine)
        assert await _tables(engine) >= EXPECTED_TABLES
    finally:
        await engine.dispose()


async def test_head_revision_is_recorded(engine) -> None:
    async with engine.connect() as connection:
        version = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    assert version == head_revision()


async def test_money_is_exact_and_times_are_aware(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        client = Client(name="ООО Ромашка", name_normalized="ооо ромашка")
        uow.session.add(client)
        await uow.flush()
        uow.session.add(
            Transaction(client_id=client.id, date=date(2026, 1, 5), amount=Decimal("12345.51"))
        )
        await uow.commit()
    async with uow_factory() as uow:
        stored = (await uow.session.execute(select(Transaction))).scalar_one()
        client = (await uow.session.execute(select(Client))).scalar_one()
    assert stored.amount == Decimal("12345.51")
    assert client.created_at.tzinfo is not None
    assert client.created_at.utcoffset().total_seconds() == 0


async def test_uncommitted_work_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        uow.session.add(User(display_name="Анна", role="manager", telegram_id=1))
        await uow.flush()
    async with uow_factory() as uow:
        assert (await uow.session.execute(select(User))).first() is None


async def test_foreign_keys_are_enforced(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        uow.session.add(Transaction(client_id=999, date=date(2026, 1, 1), amount=Decimal(1)))
        with pytest.raises(IntegrityError):
            await uow.flush()


async def test_delivery_key_is_unique(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user = User(display_name="Анна", role="manager", telegram_id=1)
        uow.session.add(user)
        await uow.flush()
        day = date(2026, 11, 24)
        uow.session.add(Delivery(recipient_id=user.id, kind="morning", local_date=day))
        await uow.flush()
        uow.session.add(Delivery(recipient_id=user.id, kind="morning", local_date=day))
        with pytest.raises(IntegrityError):
            await uow.flush()


async def test_sqlite_pragmas(tmp_path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert (journal, foreign_keys) == ("wal", 1)
        assert busy >= 1000
    finally:
        await engine.dispose()


def test_aware_datetime_required() -> None:
    with pytest.raises(ValueError, match="naive"):
        from services.db.types import UTCDateTime

        UTCDateTime().process_bind_param(datetime(2026, 1, 1), make_session_factory)  # type: ignore[arg-type]
    assert datetime(2026, 1, 1, tzinfo=UTC)
