from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from services.analytics.settings import SegmentationSettings
from services.db.models import (
    Client,
    ClientSegment,
    Interaction,
    SegmentHistory,
    Transaction,
    User,
)
from services.segmentation import recompute_segments
from services.settings_store import load_segmentation_settings, save_segmentation_settings
from services.uow import UnitOfWorkFactory


async def _seed(uow_factory: UnitOfWorkFactory) -> dict[str, int]:
    """Big regular buyer, small one-off buyer, a client who never bought."""
    async with uow_factory() as uow:
        manager = User(display_name="Анна", role="manager", telegram_id=2001)
        big = Client(name="ООО Большой", name_normalized="ооо большой", is_vip=True)
        small = Client(name="ИП Малый", name_normalized="ип малый")
        prospect = Client(name="АО Новый", name_normalized="ао новый")
        uow.session.add_all([manager, big, small, prospect])
        await uow.flush()
        for month in range(1, 13):
            uow.session.add(
                Transaction(
                    client_id=big.id,
                    date=date(2026, month, 10),
                    amount=Decimal("100000.00"),
                    category="Инструмент",
                )
            )
        uow.session.add(
            Transaction(
                client_id=small.id,
                date=date(2026, 3, 5),
                amount=Decimal("1000.00"),
                category="Крепёж",
            )
        )
        uow.session.add(
            Interaction(
                client_id=big.id,
                user_id=manager.id,
                occurred_at=datetime(2026, 12, 20, 9, 0, tzinfo=UTC),
                outcome="reached",
                next_contact_on=date(2027, 1, 15),
            )
        )
        await uow.commit()
        return {"big": big.id, "small": small.id, "prospect": prospect.id}


async def test_snapshot_is_stored_and_next_due_set(uow_factory: UnitOfWorkFactory) -> None:
    ids = await _seed(uow_factory)
    outcome = await recompute_segments(uow_factory(), date(2026, 12, 31))

    assert outcome.clients == 3
    assert outcome.previous_as_of is None
    async with uow_factory() as uow:
        snapshots = {
            s.client_id: s for s in (await uow.session.execute(select(ClientSegment))).scalars()
        }
        clients = {c.id: c for c in (await uow.session.execute(select(Client))).scalars()}
    big = snapshots[ids["big"]]
    assert (big.abc, big.xyz, big.segment, big.status) == ("A", "X", "AX", "active")
    assert big.revenue == Decimal("1200000.00")
    assert big.cadence_days == 7  # AX cadence, also the VIP cap
    # the manager-set next contact date overrides the cadence
    assert clients[ids["big"]].next_due_on == date(2027, 1, 15)
    small = snapshots[ids["small"]]
    assert (small.abc, small.xyz, small.segment) == ("C", "Z", "CZ")
    prospect = snapshots[ids["prospect"]]
    assert (prospect.segment, prospect.status) == (None, "potential")
    assert outcome.status_counts["potential"] == 1


async def test_history_is_kept_and_migrations_reported(uow_factory: UnitOfWorkFactory) -> None:
    ids = await _seed(uow_factory)
    await recompute_segments(uow_factory(), date(2026, 12, 31))
    # recomputing the same date replaces that date's rows
    await recompute_segments(uow_factory(), date(2026, 12, 31))
    later = await recompute_segments(uow_factory(), date(2027, 12, 31))

    async with uow_factory() as uow:
        dates = (
            await uow.session.execute(
                select(SegmentHistory.as_of).where(SegmentHistory.client_id == ids["big"])
            )
        ).scalars()
        assert sorted(dates) == [date(2026, 12, 31), date(2027, 12, 31)]
    assert later.previous_as_of == date(2026, 12, 31)
    moved = {m.client_id: m for m in later.migrations}
    assert moved[ids["big"]].status_from == "active"
    assert moved[ids["big"]].status_to in {"dormant", "lost"}


async def test_stored_settings_change_the_result(uow_factory: UnitOfWorkFactory) -> None:
    ids = await _seed(uow_factory)
    custom = SegmentationSettings.from_dict({"cadence_days": {"CZ": 120}})
    await save_segmentation_settings(uow_factory(), custom)
    async with uow_factory() as uow:
        assert (await load_segmentation_settings(uow)).cadence_days["CZ"] == 120

    await recompute_segments(uow_factory(), date(2026, 12, 31))
    async with uow_factory() as uow:
        small = (
            await uow.session.execute(
                select(ClientSegment).where(ClientSegment.client_id == ids["small"])
            )
        ).scalar_one()
    assert small.cadence_days == 120
