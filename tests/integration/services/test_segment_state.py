"""Segment state: the change-only history answers exactly what a full history would.

The reference is computed here the way the recompute used to work: frames read through
the ORM, `analyze_clients` on them, one full snapshot per client and run date. The
recompute under test reads through the database's fast path and keeps only the current
state plus the changes; every history question must get the same answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from demo_data import load_demo_base
from services import segmentation
from services.analytics import analyze_clients, cross_sell, segment_migrations
from services.db.models import (
    Client,
    ClientSegment,
    Interaction,
    SegmentationRun,
    SegmentHistory,
    Transaction,
    User,
)
from services.segment_state import (
    TRACKED,
    client_trend,
    latest_migrations,
    migrations_between,
    states_as_of,
)
from services.segmentation import recompute_segments
from services.settings_store import load_segmentation_settings
from services.uow import UnitOfWorkFactory

AS_OF = date(2026, 3, 2)
ZONE = "Europe/Moscow"
CLIENTS = 240
MOVES = ["client_id", "abc_from", "abc_to", "xyz_from", "xyz_to", "status_from", "status_to"]


# --- the full-history reference ------------------------------------------------------------


async def _analysis(uow_factory: UnitOfWorkFactory, day: date) -> tuple[pd.DataFrame, Any]:
    """`analyze_clients` on ORM-read frames as known on `day`, and the raw sales."""
    async with uow_factory() as uow:
        settings = await load_segmentation_settings(uow)
        session = uow.session
        sales = pd.DataFrame(
            (
                await session.execute(
                    select(
                        Transaction.client_id,
                        Transaction.date,
                        Transaction.amount,
                        Transaction.category,
                    ).where(Transaction.date <= day)
                )
            ).all(),
            columns=["client_id", "date", "amount", "category"],
        )
        clients = pd.DataFrame(
            (await session.execute(select(Client.id, Client.is_vip))).all(),
            columns=["client_id", "vip"],
        )
        calls = pd.DataFrame(
            (
                await session.execute(
                    select(
                        Interaction.client_id,
                        Interaction.id,
                        Interaction.occurred_at,
                        Interaction.next_contact_on,
                    )
                )
            ).all(),
            columns=["client_id", "id", "occurred_at", "next_contact_on"],
        )
    local = pd.to_datetime(calls["occurred_at"], utc=True).dt.tz_convert(ZONE)
    calls = calls.assign(day=local.dt.tz_localize(None).dt.normalize())
    calls = calls[calls["day"] <= pd.Timestamp(day)]
    latest = calls.sort_values(["client_id", "occurred_at", "id"]).groupby("client_id").tail(1)
    contacts = pd.DataFrame(
        {
            "client_id": latest["client_id"].to_numpy(),
            "last_contact": latest["day"].to_numpy(),
            "planned_next_contact": pd.to_datetime(latest["next_contact_on"]).to_numpy(),
        }
    )
    sales["date"] = pd.to_datetime(sales["date"])
    result = analyze_clients(sales, day, settings, clients=clients, interactions=contacts).clients
    return result, (sales, settings)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    rows = frame.sort_values("client_id")[columns].astype(object).itertuples(index=False)
    return [tuple(_plain(v) for v in row) for row in rows]


def _tracked(result: pd.DataFrame) -> pd.DataFrame:
    """The tracked state of each client in a full snapshot."""
    return pd.DataFrame(
        {
            "client_id": result["client_id"].to_numpy(),
            "abc": result["abc"].astype(object).to_numpy(),
            "xyz": result["xyz"].astype(object).to_numpy(),
            "segment": result["segment"].astype(object).to_numpy(),
            "status": result["status"].astype(object).to_numpy(),
            "risk": [_plain(band) for band in result["churn_risk"]],
            "at_risk": result["at_risk"].to_numpy(),
            "reactivation": result["reactivation"].to_numpy(),
            "cadence_days": result["cadence_days"].to_numpy(),
            "next_due": result["next_due"].dt.date.to_numpy(),
        }
    )


def _moves(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return _records(frame, MOVES)


async def _demo(uow_factory: UnitOfWorkFactory) -> None:
    await load_demo_base(uow_factory(), as_of=AS_OF, clients=CLIENTS)


# --- the tests --------------------------------------------------------------------------------


async def test_history_answers_equal_the_full_history(uow_factory: UnitOfWorkFactory) -> None:
    await _demo(uow_factory)
    days = [AS_OF - timedelta(days=d) for d in (60, 59, 58, 45, 45, 20, 30, 0, 40, 30, 1)]
    # in date order, a jump, a re-run, a date between two runs, the latest, two more
    # dates before it (one a re-run of a middle date), and the day before the latest
    full: dict[date, pd.DataFrame] = {}
    outcomes = []
    for day in days:
        outcome = await recompute_segments(uow_factory(), day, timezone=ZONE)
        outcomes.append(outcome)
        if day not in full:
            full[day] = _tracked((await _analysis(uow_factory, day))[0])
    run_dates = sorted(full)
    state_columns = ["client_id", *TRACKED]

    async with uow_factory() as uow:
        # the state of every client as of each run date, and of dates between runs
        for day in run_dates:
            got = await states_as_of(uow.session, day)
            assert _records(got, state_columns) == _records(full[day], state_columns), day
        between = run_dates[2] + timedelta(days=5)
        got = await states_as_of(uow.session, between)
        expected = full[max(d for d in run_dates if d <= between)]
        assert _records(got, state_columns) == _records(expected, state_columns)
        assert (await states_as_of(uow.session, run_dates[0] - timedelta(days=1))).empty

        # migrations between any two run dates
        for earlier, later in [
            (run_dates[0], run_dates[1]),
            (run_dates[1], run_dates[4]),
            (run_dates[0], run_dates[-1]),
            (run_dates[3], run_dates[5]),
        ]:
            got = await migrations_between(uow.session, earlier, later)
            want = segment_migrations(full[earlier], full[later])
            assert _moves(got) == _moves(want), (earlier, later)
            assert len(want) > 0  # the base is alive enough for the check to mean something

        # the digest's pair: the two latest run dates
        latest = await latest_migrations(uow.session)
        assert latest.dates == (run_dates[-2], run_dates[-1])
        assert _moves(latest.migrations) == _moves(
            segment_migrations(full[run_dates[-2]], full[run_dates[-1]])
        )

        # a client's trend, read back on every run date, is its full history
        history_rows = await uow.session.scalar(select(func.count()).select_from(SegmentHistory))
        for client_id in (1, 7, 42, CLIENTS):
            trend = await client_trend(uow.session, client_id, limit=100)
            for day in run_dates:
                step = [c for c in trend if c.since <= day][-1]
                got = (
                    step.abc,
                    step.xyz,
                    step.segment,
                    step.status,
                    step.risk,
                    step.at_risk,
                    step.reactivation,
                    step.cadence_days,
                    step.next_due or day,
                )
                row = full[day][full[day]["client_id"] == client_id]
                assert got == _records(row, list(TRACKED))[0], (client_id, day)
    # fewer rows than a snapshot per client and date; day over day, only the few clients
    # whose state moved get a row (runs weeks apart see most clients move: sales, calls and
    # next contacts happen in between)
    assert history_rows < CLIENTS * len(run_dates)
    assert days[1] - days[0] == days[2] - days[1] == timedelta(days=1)
    assert all(0 < outcome.changed < CLIENTS / 10 for outcome in outcomes[1:3])

    # each run reported the migrations since the run before it, as a full history would
    for index, (day, outcome) in enumerate(zip(days, outcomes, strict=True)):
        before = [d for d in days[:index] if d < day]
        if not before:
            assert outcome.previous_as_of is None
            continue
        assert outcome.previous_as_of == max(before)
        want = segment_migrations(full[max(before)], full[day])
        got = pd.DataFrame([m.__dict__ for m in outcome.migrations], columns=MOVES)
        assert _moves(got) == _moves(want), day


async def test_current_state_holds_every_stored_column_of_the_latest_run(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _demo(uow_factory)
    await recompute_segments(uow_factory(), AS_OF - timedelta(days=7), timezone=ZONE)
    await recompute_segments(uow_factory(), AS_OF, timezone=ZONE)
    await recompute_segments(uow_factory(), AS_OF - timedelta(days=3), timezone=ZONE)  # earlier
    result, (sales, settings) = await _analysis(uow_factory, AS_OF)
    # the run for 3 days before, though computed last, is now the run before the latest
    run_before, _ = await _analysis(uow_factory, AS_OF - timedelta(days=3))

    async with uow_factory() as uow:
        rows = (await uow.session.scalars(select(ClientSegment))).all()
        clients = {c.id: c for c in (await uow.session.scalars(select(Client))).all()}
    stored = {row.client_id: row for row in rows}
    assert len(stored) == CLIENTS == len(result)
    suggested = cross_sell(sales, AS_OF, settings.cross_sell_max_suggestions)
    suggestions = {
        int(k): list(g.sort_values("rank")["category"]) for k, g in suggested.groupby("client_id")
    }
    revenue_before = dict(zip(run_before["client_id"], run_before["revenue"], strict=True))
    for record in result.to_dict("records"):
        row = stored[int(record["client_id"])]
        assert row.as_of == AS_OF  # the run for an earlier date did not overwrite it
        assert (row.abc, row.xyz, row.segment, row.status) == tuple(
            _plain(record[c]) for c in ("abc", "xyz", "segment", "status")
        )
        assert row.revenue == Decimal(str(round(record["revenue"], 2))).quantize(Decimal("0.01"))
        assert row.previous_revenue == Decimal(
            str(round(revenue_before[record["client_id"]], 2))
        ).quantize(Decimal("0.01"))
        for name in ("deal_cycle_days", "p_alive", "expected_purchases_90d"):
            assert _plain(getattr(row, name)) == pytest.approx(_plain(record[name]), nan_ok=True)
        assert row.cadence_days == record["cadence_days"]
        assert (row.reactivation, row.at_risk, row.upsell) == (
            record["reactivation"],
            record["at_risk"],
            record["upsell"],
        )
        assert row.revenue_at_risk == Decimal(
            str(round(_plain(record["revenue_at_risk"]) or 0, 2))
        ).quantize(Decimal("0.01"))
        assert row.cross_sell == suggestions.get(int(record["client_id"]), [])
        # nothing to count a cadence from: due on the run's date, kept as "floating"
        touched = not pd.isna(record["last_touch"])
        assert row.next_due == (record["next_due"].date() if touched else None)
        assert clients[row.client_id].next_due_on == record["next_due"].date()
    assert any(row.cross_sell for row in rows)
    assert any(row.next_due is None for row in rows)  # the demo has fresh prospects


async def test_rerunning_a_date_changes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    await _demo(uow_factory)
    await recompute_segments(uow_factory(), AS_OF - timedelta(days=1), timezone=ZONE)
    first = await recompute_segments(uow_factory(), AS_OF, timezone=ZONE)
    before = await _everything(uow_factory)
    again = await recompute_segments(uow_factory(), AS_OF, timezone=ZONE)
    after = await _everything(uow_factory)

    assert after == before
    assert (again.changed, again.migrations, again.previous_as_of) == (
        first.changed,
        first.migrations,
        first.previous_as_of,
    )
    assert first.changed > 0 and first.migrations
    async with uow_factory() as uow:
        runs = await uow.session.scalar(select(func.count()).select_from(SegmentationRun))
    assert runs == 3  # each run is recorded; the state is not duplicated


async def _everything(uow_factory: UnitOfWorkFactory) -> dict[str, Any]:
    async with uow_factory() as uow:
        session = uow.session
        current = (
            await session.execute(
                select(*(c for c in ClientSegment.__table__.c if c.name != "run_id")).order_by(
                    ClientSegment.client_id
                )
            )
        ).all()
        history = (
            await session.execute(
                select(SegmentHistory.__table__).order_by(
                    SegmentHistory.client_id, SegmentHistory.as_of
                )
            )
        ).all()
        due = (await session.execute(select(Client.id, Client.next_due_on))).all()
    return {"current": current, "history": history, "next_due_on": sorted(due)}


async def test_a_contact_counts_from_its_local_day(uow_factory: UnitOfWorkFactory) -> None:
    """Moscow midnight is 21:00 UTC: a call a microsecond before it is today's, at it tomorrow's."""
    async with uow_factory() as uow:
        manager = User(display_name="Анна", role="manager", telegram_id=2001)
        early = Client(name="ООО Ранний", name_normalized="ооо ранний")
        late = Client(name="ООО Поздний", name_normalized="ооо поздний")
        uow.session.add_all([manager, early, late])
        await uow.flush()
        for client in (early, late):
            uow.session.add(
                Transaction(client_id=client.id, date=date(2026, 1, 10), amount=Decimal("100.00"))
            )
        midnight = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)  # 2 March 00:00 in Moscow
        for client, moment, planned in (
            (early, midnight - timedelta(microseconds=1), date(2026, 3, 20)),
            (early, midnight - timedelta(days=3), date(2026, 3, 5)),
            (late, midnight, date(2026, 3, 25)),
            (late, midnight - timedelta(days=5), None),
        ):
            uow.session.add(
                Interaction(
                    client_id=client.id,
                    user_id=manager.id,
                    occurred_at=moment,
                    outcome="reached",
                    next_contact_on=planned,
                )
            )
        await uow.commit()
        ids = (early.id, late.id)

    await recompute_segments(uow_factory(), date(2026, 3, 1), timezone=ZONE)
    async with uow_factory() as uow:
        due = dict((await uow.session.execute(select(Client.id, Client.next_due_on))).all())
    # early: its latest call (1 March, 23:59:59.999999 local) planned 20 March;
    # late: the call at midnight is 2 March, not known yet; the one before planned nothing
    assert due[ids[0]] == date(2026, 3, 20)
    assert due[ids[1]] != date(2026, 3, 25)


async def test_next_due_set_by_a_manager_meanwhile_is_kept(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A next contact a manager sets while the recompute computes is not overwritten."""
    await _demo(uow_factory)
    await recompute_segments(uow_factory(), AS_OF - timedelta(days=10), timezone=ZONE)
    async with uow_factory() as uow:
        before = dict((await uow.session.execute(select(Client.id, Client.next_due_on))).all())
    touched = 5
    read_clients = segmentation._read_clients

    async def a_manager_logs_a_call_after_the_read(connection: Any) -> Any:
        read = await read_clients(connection)
        async with uow_factory() as other:
            client = await other.session.get(Client, touched)
            assert client is not None
            client.next_due_on = date(2030, 1, 1)
            await other.commit()
        return read

    monkeypatch.setattr(segmentation, "_read_clients", a_manager_logs_a_call_after_the_read)
    await recompute_segments(uow_factory(), AS_OF, timezone=ZONE)

    async with uow_factory() as uow:
        after = dict((await uow.session.execute(select(Client.id, Client.next_due_on))).all())
    assert after[touched] == date(2030, 1, 1)
    assert sum(after[c] != before[c] for c in before if c != touched) > 10  # the rest moved on
