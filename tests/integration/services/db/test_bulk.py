"""The fast paths read and write exactly what SQLAlchemy reads and writes (both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from services.db import bulk
from services.db.models import Client, ClientSegment, Interaction, SegmentationRun, Transaction
from services.segment_state import store_states
from services.uow import UnitOfWorkFactory

AMOUNTS = ["0.01", "-0.01", "19700.63", "-26526.80", "9999999999.99", "-0.50", "1234.45"]
# PostgreSQL keeps NUMERIC(16, 2) exactly up to its last cent; SQLite keeps it as a float
LARGEST = Decimal("99999999999999.99")
MOMENTS = [
    datetime(2026, 3, 1, 20, 59, 59, 999_999, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC),
    datetime(2099, 1, 1, tzinfo=UTC),
]
DAYS = [date(2026, 3, 2), date(1999, 12, 31), date(1969, 7, 20), None]


async def _seed(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        client = Client(name="ООО Точность", name_normalized="ооо точность")
        uow.session.add(client)
        await uow.flush()
        for index, amount in enumerate(AMOUNTS):
            uow.session.add(
                Transaction(client_id=client.id, date=date(2026, 1, 1 + index), amount=amount)
            )
        for moment, day in zip(MOMENTS, DAYS, strict=True):
            uow.session.add(
                Interaction(
                    client_id=client.id, occurred_at=moment, outcome="reached", next_contact_on=day
                )
            )
        await uow.commit()
        return client.id


async def test_numbers_dates_and_moments_arrive_exactly(uow_factory: UnitOfWorkFactory) -> None:
    await _seed(uow_factory)
    async with uow_factory() as uow:
        connection = await uow.session.connection()
        sales = await bulk.read_arrays(
            connection,
            select(
                bulk.cents(Transaction.amount).label("cents"), Transaction.date.label("day")
            ).order_by(Transaction.id),
            {"cents": "i8", "day": "date"},
        )
        calls = await bulk.read_arrays(
            connection,
            select(
                Interaction.occurred_at.label("at"), Interaction.next_contact_on.label("planned")
            ).order_by(Interaction.id),
            {"at": "timestamp", "planned": "date?"},
        )
    assert sales["cents"].tolist() == [int(Decimal(a) * 100) for a in AMOUNTS]
    assert sales["day"].tolist() == [
        (date(2026, 1, 1 + i) - date(1970, 1, 1)).days for i in range(len(AMOUNTS))
    ]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert calls["at"].tolist() == [(m - epoch) // pd.Timedelta(microseconds=1) for m in MOMENTS]
    assert calls["planned"].tolist() == [
        bulk.NULL_DAY if d is None else (d - date(1970, 1, 1)).days for d in DAYS
    ]


async def test_a_null_in_a_number_column_is_a_clear_error(uow_factory: UnitOfWorkFactory) -> None:
    await _seed(uow_factory)
    async with uow_factory() as uow:
        connection = await uow.session.connection()
        with pytest.raises(ValueError, match="NULL"):
            await bulk.read_arrays(
                connection,
                select(Interaction.next_contact_on.label("planned")),
                {"planned": "date"},
            )
        with pytest.raises(ValueError, match="do not match"):
            await bulk.read_arrays(connection, select(Interaction.id), {"other": "i8"})


async def test_money_is_written_to_the_cent(uow_factory: UnitOfWorkFactory, db_url: str) -> None:
    client_id = await _seed(uow_factory)
    amounts = [Decimal("9999999999.99"), Decimal("-0.01"), Decimal("19700.63")]
    if db_url.startswith("postgresql"):
        amounts.append(LARGEST)
    async with uow_factory() as uow:
        for amount in amounts:
            run = SegmentationRun(as_of=date(2026, 3, 2))
            uow.session.add(run)
            await uow.flush()
            states = pd.DataFrame(
                {
                    "client_id": [client_id],
                    "status": ["active"],
                    "cadence_days": [30],
                    "revenue": [amount],
                    "revenue_at_risk": [np.nan],
                    "cross_sell": [["Чай", 'кавычки "и" запятые, тоже']],
                }
            )
            await store_states(uow.session, run, states)
            await uow.flush()
            row = await uow.session.get(ClientSegment, client_id, populate_existing=True)
            assert row is not None
            assert (row.revenue, row.revenue_at_risk) == (amount, Decimal("0.00"))
            assert row.cross_sell == ["Чай", 'кавычки "и" запятые, тоже']
        await uow.commit()
