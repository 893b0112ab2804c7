"""The dashboard's figures on a small base, against numbers computed by hand (both backends).

The base and the hand computation are in `dashboard_seed`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services.access import CompanyPolicy, Viewer
from services.dashboard import (
    DashboardNotAllowed,
    aggregates_state,
    load_matrix,
    month_to_date,
    refresh_aggregates,
    same_days_last_month,
    segment_clients,
    team_kpis,
    trends,
    value_at_risk,
)
from services.db.models import Client, DashboardDay, DashboardSegment, Role
from services.errors import InvalidValue
from services.segmentation import recompute_segments
from services.uow import UnitOfWorkFactory
from tests.integration.services.dashboard_seed import NOW, TODAY, seed_dashboard_base
from tests.integration.services.push_seed import add_purchase

POLICY = CompanyPolicy(default_timezone="Europe/Moscow")
D = Decimal


def head_viewer(user_id: int) -> Viewer:
    return POLICY.viewer(user_id=user_id, role=Role.HEAD)


async def test_matrix_counts_and_revenue_shares(uow_factory: UnitOfWorkFactory) -> None:
    base = await seed_dashboard_base(uow_factory)
    matrix = await load_matrix(uow_factory(), head_viewer(base.head))
    assert (matrix.as_of, matrix.segments_as_of) == (TODAY, TODAY)
    cells = {c.segment: c for c in matrix.cells}
    assert [c.segment for c in matrix.cells] == [
        "AX",
        "AY",
        "AZ",
        "BX",
        "BY",
        "BZ",
        "CX",
        "CY",
        "CZ",
    ]
    assert (cells["AX"].clients, cells["AX"].revenue) == (3, D("2200.00"))
    assert (cells["BY"].clients, cells["BY"].revenue) == (2, D("700.00"))
    assert (cells["CZ"].clients, cells["CZ"].revenue) == (1, D("100.00"))
    assert cells["AY"].clients == 0 and cells["AY"].revenue_share == 0.0
    assert cells["AX"].revenue_share == pytest.approx(2200 / 3000)
    assert cells["AX"].clients_share == pytest.approx(3 / 7)
    assert (cells["AX"].at_risk_clients, cells["AX"].revenue_at_risk) == (2, D("300.00"))
    assert matrix.unsegmented.clients == 1
    assert (matrix.clients, matrix.revenue) == (7, D("3000.00"))
    assert (matrix.at_risk_clients, matrix.revenue_at_risk) == (3, D("350.00"))

    anna = await load_matrix(uow_factory(), head_viewer(base.head), base.anna)
    anna_cells = {c.segment: c for c in anna.cells}
    assert (anna.clients, anna.revenue) == (3, D("1800.00"))
    assert (anna_cells["AX"].clients, anna_cells["BY"].clients) == (2, 1)
    assert anna_cells["AX"].revenue_share == pytest.approx(1500 / 1800)


async def test_a_cell_lists_its_clients_by_revenue(uow_factory: UnitOfWorkFactory) -> None:
    base = await seed_dashboard_base(uow_factory)
    viewer = head_viewer(base.head)
    page = await segment_clients(uow_factory(), viewer, "ax")
    assert (page.segment, page.total, page.pages) == ("AX", 3, 1)
    assert [(c.name, c.revenue, c.owner_name) for c in page.clients] == [
        ("Ромашка", D("1000.00"), "Анна Смирнова"),
        ("Клевер", D("700.00"), "Борис Котов"),
        ("Лютик", D("500.00"), "Анна Смирнова"),
    ]
    assert page.clients[2].at_risk and page.clients[2].revenue_at_risk == D("200.00")

    second = await segment_clients(uow_factory(), viewer, "AX", page=1, page_size=2)
    assert (second.page, second.pages, [c.name for c in second.clients]) == (1, 2, ["Лютик"])
    beyond = await segment_clients(uow_factory(), viewer, "AX", page=99, page_size=2)
    assert beyond.page == 1  # clamped to the last page

    boris = await segment_clients(uow_factory(), viewer, "AX", owner_id=base.boris)
    assert [c.name for c in boris.clients] == ["Клевер"]
    unsegmented = await segment_clients(uow_factory(), viewer, "none")
    assert [c.name for c in unsegmented.clients] == ["Пион"]
    empty = await segment_clients(uow_factory(), viewer, "AZ")
    assert (empty.total, empty.clients) == (0, ())
    for bad in ("AXX", "DX", "'; drop table clients; --", "A\x00X"):
        with pytest.raises(InvalidValue):
            await segment_clients(uow_factory(), viewer, bad)


async def test_lists_stay_whole_when_clients_change_hands_after_the_recompute(
    uow_factory: UnitOfWorkFactory,
) -> None:
    base = await seed_dashboard_base(uow_factory)
    async with uow_factory() as uow:  # Ромашка goes to Борис; no recompute since
        client = await uow.session.get(Client, base.clients["romashka"])
        assert client is not None
        client.owner_id = base.boris
        await uow.commit()
    viewer = head_viewer(base.head)
    first = await segment_clients(uow_factory(), viewer, "AX", owner_id=base.boris, page_size=1)
    assert ([c.name for c in first.clients], first.pages) == (["Ромашка"], 2)
    second = await segment_clients(
        uow_factory(), viewer, "AX", owner_id=base.boris, page=1, page_size=1
    )
    assert ([c.name for c in second.clients], second.pages, second.total) == (["Клевер"], 2, 2)
    anna = await segment_clients(uow_factory(), viewer, "AX", owner_id=base.anna, page=5)
    assert ([c.name for c in anna.clients], anna.total, anna.page) == (["Лютик"], 1, 0)


async def test_month_to_date_compares_the_same_days(uow_factory: UnitOfWorkFactory) -> None:
    await seed_dashboard_base(uow_factory)
    async with uow_factory() as uow:
        months = await month_to_date(uow, TODAY)
    this, last = months.this, months.previous
    assert (this.start, this.end, last.start, last.end) == (
        date(2026, 12, 1),
        TODAY,
        date(2026, 11, 1),
        date(2026, 11, 9),
    )
    assert (this.new, this.lost, this.returned) == (2, 0, 1)
    assert (this.revenue_new, this.revenue_existing) == (D("1200.00"), D("200.00"))
    assert (last.new, last.lost, last.returned) == (1, 1, 0)
    assert (last.revenue_new, last.revenue_existing) == (D("500.00"), D("0.00"))


def test_same_days_of_a_shorter_month() -> None:
    assert same_days_last_month(date(2026, 3, 31)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert same_days_last_month(date(2026, 12, 1)) == (date(2026, 11, 1), date(2026, 11, 1))
    assert same_days_last_month(date(2027, 1, 15)) == (date(2026, 12, 1), date(2026, 12, 15))


async def test_trends_month_by_month(uow_factory: UnitOfWorkFactory) -> None:
    base = await seed_dashboard_base(uow_factory)
    result = await trends(uow_factory(), head_viewer(base.head), TODAY)
    months = {f.start.month: f for f in result.months}
    assert result.months[0].start == date(2026, 1, 1)
    assert len(result.months) == 12 and result.through == TODAY
    table = {
        m: (f.new, f.lost, f.returned, f.revenue_new, f.revenue_existing)
        for m, f in months.items()
        if f.new or f.lost or f.returned or f.revenue
    }
    assert table == {
        5: (1, 0, 0, D("50.00"), D("0.00")),
        6: (0, 0, 0, D("0.00"), D("50.00")),
        7: (0, 0, 0, D("0.00"), D("50.00")),
        8: (1, 0, 0, D("60.00"), D("0.00")),
        10: (0, 1, 0, D("0.00"), D("0.00")),
        11: (1, 1, 0, D("800.00"), D("0.00")),
        12: (2, 0, 1, D("1200.00"), D("200.00")),
    }
    assert months[12].end == TODAY and months[11].end == date(2026, 11, 30)
    boris = await trends(uow_factory(), head_viewer(base.head), TODAY, owner_id=base.boris)
    assert [(f.start.month, f.lost) for f in boris.months if f.lost] == [(10, 1), (11, 1)]
    with pytest.raises(InvalidValue):
        await trends(uow_factory(), head_viewer(base.head), TODAY, months=14)


async def test_team_kpis(uow_factory: UnitOfWorkFactory) -> None:
    base = await seed_dashboard_base(uow_factory)
    team = await team_kpis(uow_factory(), head_viewer(base.head), NOW)
    assert (team.today, team.week_start, team.month_start) == (
        TODAY,
        date(2026, 12, 7),
        date(2026, 12, 1),
    )
    assert team.working_day
    anna, boris = team.managers  # the inactive manager is not listed
    assert anna.name == "Анна Смирнова" and boris.name == "Борис Котов"
    assert [(c.calls, c.plan) for c in (anna.today, anna.week, anna.month)] == [
        (2, 20),
        (5, 60),
        (9, 140),  # seven working days from 1 to 9 December
    ]
    assert [(c.calls, c.plan) for c in (boris.today, boris.week, boris.month)] == [
        (1, 10),
        (1, 30),
        (1, 70),
    ]
    assert (anna.overdue, boris.overdue) == (1, 2)
    assert (anna.flow.new, anna.flow.lost, anna.flow.returned) == (1, 0, 1)
    assert (boris.flow.new, boris.flow.lost, boris.flow.returned) == (0, 0, 0)
    assert (anna.at_risk_clients, anna.revenue_at_risk) == (1, D("200.00"))
    assert (team.flow.new, team.flow.returned) == (2, 1)


async def test_value_at_risk(uow_factory: UnitOfWorkFactory) -> None:
    base = await seed_dashboard_base(uow_factory)
    risk = await value_at_risk(uow_factory(), head_viewer(base.head))
    assert (risk.clients, risk.revenue_at_risk, risk.revenue) == (3, D("350.00"), D("3000.00"))
    assert [(o.name, o.clients, o.revenue_at_risk) for o in risk.by_owner] == [
        ("Анна Смирнова", 1, D("200.00")),
        ("Борис Котов", 1, D("100.00")),
    ]
    assert [(c.name, c.revenue_at_risk) for c in risk.top.clients] == [
        ("Лютик", D("200.00")),
        ("Клевер", D("100.00")),
        ("Мак", D("50.00")),
    ]
    boris = await value_at_risk(uow_factory(), head_viewer(base.head), owner_id=base.boris)
    assert (boris.clients, [c.name for c in boris.top.clients]) == (1, ["Клевер"])


async def test_managers_may_not_see_the_dashboard(uow_factory: UnitOfWorkFactory) -> None:
    base = await seed_dashboard_base(uow_factory)
    manager = POLICY.viewer(user_id=base.anna, role=Role.MANAGER)
    wide = CompanyPolicy(visibility="all").viewer(user_id=base.anna, role=Role.MANAGER)
    for viewer in (manager, wide):
        with pytest.raises(DashboardNotAllowed):
            await load_matrix(uow_factory(), viewer)
        with pytest.raises(DashboardNotAllowed):
            await segment_clients(uow_factory(), viewer, "AX")
        with pytest.raises(DashboardNotAllowed):
            await team_kpis(uow_factory(), viewer, NOW)
        with pytest.raises(DashboardNotAllowed):
            await value_at_risk(uow_factory(), viewer)
        with pytest.raises(DashboardNotAllowed):
            await trends(uow_factory(), viewer, TODAY)
    admin = POLICY.viewer(user_id=base.admin, role=Role.ADMIN)
    assert (await load_matrix(uow_factory(), admin)).clients == 7


async def _rows(uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
    async with uow_factory() as uow:
        days = await uow.session.scalar(select(func.count()).select_from(DashboardDay))
        segments = await uow.session.scalar(select(func.count()).select_from(DashboardSegment))
    return int(days or 0), int(segments or 0)


async def test_refresh_replaces_and_a_past_day_keeps_the_newer_figures(
    uow_factory: UnitOfWorkFactory,
) -> None:
    base = await seed_dashboard_base(uow_factory)
    before = await _rows(uow_factory)
    again = await refresh_aggregates(uow_factory(), TODAY)  # the same day twice: no duplicates
    assert again.refreshed and await _rows(uow_factory) == before
    assert again.segment_rows == before[1] and again.day_rows == before[0]

    past = await refresh_aggregates(uow_factory(), TODAY - timedelta(days=30))
    assert not past.refreshed and past.as_of == TODAY
    async with uow_factory() as uow:
        state = await aggregates_state(uow)
    assert state is not None and state.as_of == TODAY

    # a sale arrives, the next day is recomputed: the figures follow
    await add_purchase(uow_factory, base.clients["pion"], TODAY + timedelta(days=1), "70.00")
    await refresh_aggregates(uow_factory(), TODAY + timedelta(days=1))
    async with uow_factory() as uow:
        months = await month_to_date(uow, TODAY + timedelta(days=1))
    assert months.through == TODAY + timedelta(days=1)
    # Пион new on 10 Dec (70), and Мак's sale of 10 Dec (999) is known now too
    assert (months.this.new, months.this.revenue_new) == (3, D("2269.00"))


async def test_before_any_recompute_everything_is_empty(uow_factory: UnitOfWorkFactory) -> None:
    from tests.integration.services.push_seed import add_user

    head = await add_user(uow_factory, "Ольга", 1001, Role.HEAD)
    viewer = head_viewer(head)
    matrix = await load_matrix(uow_factory(), viewer)
    assert (matrix.as_of, matrix.clients, matrix.unsegmented.clients) == (None, 0, 0)
    page = await segment_clients(uow_factory(), viewer, "AX")
    assert (page.total, page.pages) == (0, 1)
    async with uow_factory() as uow:
        months = await month_to_date(uow, TODAY)
    assert (months.as_of, months.this.new, months.previous.new) == (None, 0, 0)
    assert (await value_at_risk(uow_factory(), viewer)).top.total == 0
    assert len((await trends(uow_factory(), viewer, TODAY)).months) == 12
    # a refresh of an empty base stores an empty state
    empty = await refresh_aggregates(uow_factory(), TODAY)
    assert (empty.refreshed, empty.clients, empty.day_rows, empty.segments_as_of) == (
        True,
        0,
        0,
        None,
    )


async def test_recompute_refreshes_the_aggregates(uow_factory: UnitOfWorkFactory) -> None:
    base = await seed_dashboard_base(uow_factory)
    outcome = await recompute_segments(uow_factory(), TODAY, timezone="Europe/Moscow")
    matrix = await load_matrix(uow_factory(), head_viewer(base.head))
    assert matrix.clients == outcome.clients == 7
    counted = {c.segment: c.clients for c in matrix.cells}
    assert counted == {s: outcome.segment_counts.get(s, 0) for s in counted}
    assert matrix.unsegmented.clients == 7 - sum(outcome.segment_counts.values())
