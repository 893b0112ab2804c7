"""Migration 0004 turns the snapshots of every run into current state + change-only history.

Snapshots are written as the old schema held them (a row per client and run date); after
the upgrade every history question answers what those snapshots said, and the downgrade
gives the snapshots back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Date, Numeric, select, text

from services.analytics import segment_migrations
from services.db.engine import make_engine, make_session_factory
from services.db.models import ClientSegment, SegmentHistory
from services.db.schema import downgrade, upgrade
from services.segment_state import migrations_between, states_as_of
from services.uow import UnitOfWorkFactory

D1, D2, D3 = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)
# client -> date -> (abc, xyz, status, p_alive, cadence, next_due, revenue)
SNAPSHOTS: dict[int, dict[date, tuple[Any, ...]]] = {
    1: {  # never changes
        D1: ("A", "X", "active", 0.95, 7, date(2026, 4, 1), "900.00"),
        D2: ("A", "X", "active", 0.95, 7, date(2026, 4, 1), "950.00"),
        D3: ("A", "X", "active", 0.95, 7, date(2026, 4, 1), "990.00"),
    },
    2: {  # falls from A to B, then its risk band moves (P(alive) below 0.8)
        D1: ("A", "Y", "active", 0.9, 14, date(2026, 2, 10), "800.00"),
        D2: ("B", "Y", "active", 0.85, 30, date(2026, 3, 10), "500.00"),
        D3: ("B", "Y", "active", 0.6, 30, date(2026, 3, 10), "450.00"),
    },
    3: {  # appears in the second run
        D2: ("C", "Z", "new", 1.0, 90, date(2026, 5, 1), "10.00"),
        D3: ("C", "Z", "dormant", 1.0, 90, date(2026, 5, 1), "10.00"),
    },
    4: {  # only in the first run
        D1: (None, None, "potential", None, 90, D1, "0.00"),
    },
}


async def _seed_old_schema(engine: Any) -> None:
    async with engine.begin() as connection:
        for client_id in SNAPSHOTS:
            await connection.execute(
                text(
                    "INSERT INTO clients (id, name, name_normalized, is_vip, tags, created_at) "
                    "VALUES (:id, :name, :name, false, '[]', :at)"
                ),
                {"id": client_id, "name": f"client {client_id}", "at": datetime(2025, 1, 1)},
            )
        for run_id, day in enumerate((D1, D2, D3), start=1):
            await connection.execute(
                text(
                    "INSERT INTO segmentation_runs (id, as_of, model, settings, n_clients, "
                    "created_at) VALUES (:id, :day, '{}', '{}', 4, :at)"
                ),
                {"id": run_id, "day": day, "at": datetime(2026, 4, 1, tzinfo=UTC)},
            )
            for client_id, dates in SNAPSHOTS.items():
                if day not in dates:
                    continue
                abc, xyz, status, p_alive, cadence, next_due, revenue = dates[day]
                await connection.execute(
                    text(
                        "INSERT INTO segment_snapshots (run_id, client_id, as_of, abc, xyz, "
                        "segment, status, revenue, p_alive, cadence_days, next_due, "
                        "reactivation, at_risk, revenue_at_risk, upsell, cross_sell) VALUES "
                        "(:run, :client, :day, :abc, :xyz, :segment, :status, :revenue, "
                        ":p_alive, :cadence, :next_due, false, false, 0, false, '[\"Чай\"]')"
                    ),
                    {
                        "run": run_id,
                        "client": client_id,
                        "day": day,
                        "abc": abc,
                        "xyz": xyz,
                        "segment": abc + xyz if abc else None,
                        "status": status,
                        "revenue": float(revenue),  # SQLite's driver takes no Decimal
                        "p_alive": p_alive,
                        "cadence": cadence,
                        "next_due": next_due,
                    },
                )


def _band(p_alive: float | None) -> str | None:
    if p_alive is None:
        return None
    return "low" if p_alive >= 0.8 else "medium" if p_alive >= 0.5 else "high"


def _snapshot(day: date) -> pd.DataFrame:
    """The full-history answer: each client's latest snapshot up to `day`."""
    rows = []
    for client_id, dates in SNAPSHOTS.items():
        known = [d for d in dates if d <= day]
        if known:
            abc, xyz, status, p_alive, cadence, next_due, _ = dates[max(known)]
            segment = abc + xyz if abc else None
            rows.append((client_id, abc, xyz, segment, status, _band(p_alive), cadence, next_due))
    return pd.DataFrame(
        rows,
        columns=[
            "client_id",
            "abc",
            "xyz",
            "segment",
            "status",
            "risk",
            "cadence_days",
            "next_due",
        ],
    )


def _records(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    frame = frame.sort_values("client_id")[columns].astype(object)
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)]


async def test_snapshots_become_current_state_and_history_and_back(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine, "0001")
        await _seed_old_schema(engine)
        await upgrade(engine)

        async with engine.connect() as connection:
            current = (
                await connection.execute(
                    select(
                        ClientSegment.client_id,
                        ClientSegment.as_of,
                        ClientSegment.segment,
                        ClientSegment.status,
                        ClientSegment.risk,
                        ClientSegment.revenue,
                        ClientSegment.previous_revenue,
                        ClientSegment.cross_sell,
                    ).order_by(ClientSegment.client_id)
                )
            ).all()
            history = (
                await connection.execute(
                    select(SegmentHistory.client_id, SegmentHistory.as_of).order_by(
                        SegmentHistory.client_id, SegmentHistory.as_of
                    )
                )
            ).all()
        assert [(r[0], r[1], r[2], r[3], r[4]) for r in current] == [
            (1, D3, "AX", "active", "low"),
            (2, D3, "BY", "active", "medium"),
            (3, D3, "CZ", "dormant", "low"),
            (4, D1, None, "potential", None),
        ]
        assert [(Decimal(r[5]), None if r[6] is None else Decimal(r[6])) for r in current] == [
            (Decimal("990.00"), Decimal("950.00")),
            (Decimal("450.00"), Decimal("500.00")),
            (Decimal("10.00"), Decimal("10.00")),
            (Decimal("0.00"), None),
        ]
        assert "Чай" in str(current[0][7])
        # a row only where the tracked state changed
        changes = [(1, D1), (2, D1), (2, D2), (2, D3), (3, D2), (3, D3), (4, D1)]
        assert [tuple(r) for r in history] == changes

        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        columns = ["client_id", "abc", "xyz", "segment", "status", "risk", "cadence_days"]
        async with uow_factory() as uow:
            for day in (D1, D2, D3, date(2026, 3, 15)):
                got = await states_as_of(uow.session, day)
                assert _records(got, [*columns, "next_due"]) == _records(
                    _snapshot(day), [*columns, "next_due"]
                )
            for earlier, later in ((D1, D2), (D2, D3), (D1, D3)):
                moved = await migrations_between(uow.session, earlier, later)
                want = segment_migrations(_snapshot(earlier), _snapshot(later))
                names = list(want.columns)
                assert _records(moved, names) == _records(want, names)

        await downgrade(engine, "0001")
        async with engine.connect() as connection:
            back = (
                await connection.execute(
                    text(
                        "SELECT client_id, as_of, segment, status, cadence_days, next_due, "
                        "revenue FROM segment_snapshots ORDER BY client_id, as_of"
                    ).columns(as_of=Date(), next_due=Date(), revenue=Numeric(16, 2))
                )
            ).all()
        expected = []
        for client_id, dates in SNAPSHOTS.items():
            for day in (D1, D2, D3):
                known = [d for d in dates if d <= day]
                if not known:
                    continue
                abc, xyz, status, _, cadence, next_due, revenue = dates[max(known)]
                latest = day == max(dates)
                expected.append(
                    (
                        client_id,
                        day,
                        abc + xyz if abc else None,
                        status,
                        cadence,
                        next_due,
                        Decimal(revenue) if latest else Decimal(0),
                    )
                )
        got_back = [(*r[:6], Decimal(r[6]).quantize(Decimal("0.01"))) for r in back]
        want_back = [(*r[:6], r[6].quantize(Decimal("0.01"))) for r in expected]
        assert got_back == want_back
        await upgrade(engine)
    finally:
        await engine.dispose()
