"""The head's digest on a small base, against figures computed by hand (both backends).

Today is Monday 9 November 2026 in Moscow: the last working day is Friday 6 November (the
period runs to Sunday night), and the past week (2–8 November) has 4 working days because
4 November is Unity Day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from services.dashboard import refresh_aggregates
from services.db.models import Channel, ClientSegment, Role
from services.digest import DigestNotAllowed, build_digest
from services.uow import UnitOfWorkFactory
from tests.integration.services.push_seed import (
    add_call,
    add_client,
    add_purchase,
    add_snapshot,
    add_user,
)
from ui.i18n import Translator
from ui.texts.digest import digest_chart, render_digest

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)  # Monday 09:00 in Moscow
EARLIER, LATER = date(2026, 11, 1), date(2026, 11, 8)


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MSK)


async def _base(uow_factory: UnitOfWorkFactory) -> dict[str, int]:
    ids = {
        "head": await add_user(uow_factory, "Ольга Петрова", 1001, Role.HEAD),
        "admin": await add_user(uow_factory, "Админ", 1000, Role.ADMIN),
        "anna": await add_user(uow_factory, "Анна Смирнова", 2001, daily_call_plan=20),
        "boris": await add_user(uow_factory, "Борис Котов", 2002, daily_call_plan=10),
        "gone": await add_user(uow_factory, "Уволен", 2003, is_active=False),
    }
    anna, boris = ids["anna"], ids["boris"]
    c = {
        "c1": await add_client(uow_factory, "Ромашка", anna, next_due_on=date(2026, 11, 1)),
        "c2": await add_client(uow_factory, "Лютик", anna, next_due_on=date(2026, 11, 8)),
        "c3": await add_client(uow_factory, "Василёк", boris, next_due_on=date(2026, 10, 1)),
        "c4": await add_client(uow_factory, "Клевер", boris, next_due_on=date(2026, 11, 9)),
        "c5": await add_client(uow_factory, "Одуванчик", anna, next_due_on=date(2026, 11, 20)),
        "c6": await add_client(uow_factory, "Пион", anna),
    }
    ids.update(c)

    # calls: the last working day period is Fri 6 Nov 00:00 .. Mon 9 Nov 00:00 (Moscow)
    for hour in (10, 11, 12):
        await add_call(uow_factory, c["c1"], anna, msk(6, hour))
    await add_call(uow_factory, c["c1"], anna, msk(7, 12))  # Saturday: still counts
    await add_call(uow_factory, c["c1"], anna, msk(6, 13), channel=Channel.EMAIL)  # not a call
    await add_call(uow_factory, c["c2"], anna, msk(5, 23, 30))  # Thursday: week only
    await add_call(uow_factory, c["c2"], anna, msk(2, 10))  # Monday 2 Nov: week only
    await add_call(uow_factory, c["c2"], anna, msk(2, 11))
    await add_call(uow_factory, c["c2"], anna, msk(9, 8))  # today: neither
    await add_call(uow_factory, c["c3"], boris, msk(6, 23, 59))
    await add_call(uow_factory, c["c3"], boris, msk(3, 15))  # week only
    await add_call(uow_factory, c["c3"], ids["gone"], msk(6, 10))  # inactive: not listed
    await add_call(uow_factory, c["c3"], boris, msk(1, 10))  # Sunday before the week

    # purchases (monthly accounting):
    await add_purchase(uow_factory, c["c1"], date(2026, 11, 3), "1000.00")  # new in Nov
    await add_purchase(uow_factory, c["c2"], date(2026, 10, 10), "500.00")  # new in Oct
    await add_purchase(uow_factory, c["c2"], date(2026, 11, 5), "300.00")  # existing in Nov
    for day in (date(2025, 1, 10), date(2025, 2, 10), date(2025, 3, 12)):
        await add_purchase(uow_factory, c["c3"], day, "100.00")
    await add_purchase(uow_factory, c["c3"], date(2026, 10, 20), "200.00")  # returned in Oct
    for day in (date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)):
        # cycle 30.5 days -> lost after 122 days of silence: on 2 October
        await add_purchase(uow_factory, c["c4"], day, "50.00")

    # snapshots: (abc, xyz, revenue, at_risk, revenue_at_risk) on the two latest dates
    earlier = {
        "c1": ("A", "X", 900, False, 0),
        "c2": ("B", "X", 500, True, 2000),
        "c3": ("B", "Y", 300, False, 0),
        "c4": ("A", "Y", 800, False, 0),
        "c5": ("A", "X", 1200, False, 0),
        "c6": ("C", "Z", 10, True, 1000),
    }
    later = {
        "c1": ("B", "X", 700, True, 3000),  # A -> B: notable
        "c2": ("B", "Z", 400, False, 0),  # X -> Z: notable
        "c3": ("A", "Y", 600, False, 0),  # B -> A: not notable
        "c4": ("A", "Z", 800, True, 7000),  # Y -> Z: not notable
        "c5": ("C", "X", 100, False, 0),  # A -> C: notable
        "c6": ("C", "Z", 10, True, 1000),  # unchanged, still at risk
    }
    for as_of, table in ((EARLIER, earlier), (LATER, later)):
        for name, (abc, xyz, revenue, at_risk, amount) in table.items():
            await add_snapshot(
                uow_factory,
                c[name],
                as_of,
                abc=abc,
                xyz=xyz,
                revenue=Decimal(revenue),
                at_risk=at_risk,
                revenue_at_risk=Decimal(amount),
            )
    await refresh_aggregates(uow_factory(), date(2026, 11, 9))  # what a recompute does last
    return ids


async def test_digest_figures_match_the_hand_computed_ones(uow_factory: UnitOfWorkFactory) -> None:
    ids = await _base(uow_factory)
    digest = await build_digest(uow_factory(), ids["head"], NOW, default_timezone="Europe/Moscow")

    assert digest.today == date(2026, 11, 9)
    day = digest.last_day
    assert (day.start, day.end, day.working_days) == (date(2026, 11, 6), date(2026, 11, 9), 1)
    assert [(m.name, m.calls, m.plan) for m in day.managers] == [
        ("Анна Смирнова", 4, 20),
        ("Борис Котов", 1, 10),
    ]
    assert (day.calls, day.plan) == (5, 30)

    assert digest.week is not None
    week, before = digest.week.calls, digest.week.calls_before
    assert (week.start, week.end, week.working_days) == (date(2026, 11, 2), date(2026, 11, 9), 4)
    assert [(m.name, m.calls, m.plan) for m in week.managers] == [
        ("Анна Смирнова", 7, 80),
        ("Борис Котов", 2, 40),
    ]
    # the week before: 26 Oct .. 1 Nov, five working days
    assert (before.start, before.end, before.working_days) == (
        date(2026, 10, 26),
        date(2026, 11, 2),
        5,
    )
    assert [(m.name, m.calls, m.plan) for m in before.managers] == [
        ("Анна Смирнова", 0, 100),
        ("Борис Котов", 1, 50),
    ]

    assert [(o.name, o.overdue) for o in digest.overdue] == [
        ("Анна Смирнова", 2),
        ("Борис Котов", 1),
    ]

    # month to date (1..9 November) against the same days of October (1..9): Лютик's
    # first purchase (10 Oct) and Василёк's return (20 Oct) fall outside them
    nov, oct_ = digest.this_month, digest.last_month
    assert (nov.start, nov.end) == (date(2026, 11, 1), date(2026, 11, 9))
    assert (oct_.start, oct_.end) == (date(2026, 10, 1), date(2026, 10, 9))
    assert digest.figures_as_of == date(2026, 11, 9)
    assert (nov.new, nov.lost, nov.returned) == (1, 0, 0)
    assert (oct_.new, oct_.lost, oct_.returned) == (0, 1, 0)
    assert (nov.revenue_new, nov.revenue_existing) == (Decimal("1000.00"), Decimal("300.00"))
    assert (oct_.revenue_new, oct_.revenue_existing) == (Decimal("0.00"), Decimal("0.00"))
    # Monday: the past week (2..8 Nov) against the week before (26 Oct .. 1 Nov)
    flow, flow_before = digest.week.flow, digest.week.flow_before
    assert (flow.start, flow.end, flow.new, flow.revenue) == (
        date(2026, 11, 2),
        date(2026, 11, 8),
        1,
        Decimal("1300.00"),
    )
    assert (flow_before.start, flow_before.end, flow_before.new, flow_before.revenue) == (
        date(2026, 10, 26),
        date(2026, 11, 1),
        0,
        Decimal("0.00"),
    )

    assert digest.migration_dates == (EARLIER, LATER)
    assert digest.migrations_total == 3
    assert [
        (m.client_id, m.abc_from, m.abc_to, m.xyz_from, m.xyz_to) for m in digest.migrations
    ] == [
        (ids["c5"], "A", "C", "X", "X"),  # by revenue before the move: 1200, 900, 500
        (ids["c1"], "A", "B", "X", "X"),
        (ids["c2"], "B", "B", "X", "Z"),
    ]
    assert digest.migrations[0].owner_name == "Анна Смирнова"

    assert digest.at_risk_total == 3
    assert digest.at_stake_total == Decimal("11000.00")
    assert [(r.client_id, r.revenue_at_risk) for r in digest.at_risk] == [
        (ids["c4"], Decimal("7000.00")),
        (ids["c1"], Decimal("3000.00")),
        (ids["c6"], Decimal("1000.00")),
    ]


async def test_digest_text_and_chart(uow_factory: UnitOfWorkFactory) -> None:
    ids = await _base(uow_factory)
    digest = await build_digest(uow_factory(), ids["head"], NOW, default_timezone="Europe/Moscow")
    text = render_digest(digest, Translator("ru"))
    assert "<b>Звонки за 06.11–08.11</b>: 5 из 30 (17%)" in text
    assert "• Анна Смирнова: 4 из 20 (20%)" in text
    assert "<b>Прошлая неделя, 02.11–08.11</b>: 9 из 120 (8%)" in text
    assert "<b>Просроченные контакты</b>: 3" in text
    assert "<b>Клиенты за 01.11–09.11</b> (в скобках — те же дни прошлого месяца, 01.10–09.10)" in (
        text
    )
    assert "Новые: 1 (0) · ушли: 0 (1) · вернулись: 0 (0)" in text
    assert (
        "Выручка от новых: 1\u00a0000\u00a0₽ (0\u00a0₽), от действующих: 300\u00a0₽ (0\u00a0₽)"
    ) in text
    assert "<b>Клиенты за неделю 02.11–08.11</b> (в скобках — неделя 26.10–01.11)" in text
    # every client named carries the number of its button
    assert "1. Одуванчик (Анна Смирнова): A→C" in text
    assert "3. Лютик (Анна Смирнова): X→Z" in text
    assert "4. Клевер (Борис Котов): 7\u00a0000\u00a0₽" in text
    assert "2. Ромашка (Анна Смирнова): 3\u00a0000\u00a0₽" in text  # named twice, one number
    assert "<b>Под риском</b>: 3 клиента, на кону 11\u00a0000\u00a0₽" in text
    english = render_digest(digest, Translator("en"))
    assert "<b>Calls on 6 Nov – 8 Nov</b>: 5 of 30 (17%)" in english  # one date format
    png = digest_chart(digest, Translator("ru"))
    assert png.startswith(b"\x89PNG")


async def test_the_heading_totals_the_money_the_rows_show(uow_factory: UnitOfWorkFactory) -> None:
    """With a spend model the rows show value at risk: the heading adds up the same money."""
    ids = await _base(uow_factory)
    async with uow_factory() as uow:
        await uow.session.execute(
            update(ClientSegment)
            .where(ClientSegment.client_id == ids["c4"])
            .values(value_at_risk=Decimal("25000.00"))
        )
        await uow.commit()
    digest = await build_digest(uow_factory(), ids["head"], NOW, default_timezone="Europe/Moscow")
    assert [(r.client_id, r.at_stake) for r in digest.at_risk] == [
        (ids["c4"], Decimal("25000.00")),
        (ids["c1"], Decimal("3000.00")),
        (ids["c6"], Decimal("1000.00")),
    ]
    assert digest.at_stake_total == Decimal("29000.00")
    text = render_digest(digest, Translator("ru"))
    assert "<b>Под риском</b>: 3 клиента, на кону 29\u00a0000\u00a0₽" in text


async def test_tuesday_digest_has_no_week(uow_factory: UnitOfWorkFactory) -> None:
    ids = await _base(uow_factory)
    tuesday = NOW + timedelta(days=1)
    digest = await build_digest(
        uow_factory(), ids["head"], tuesday, default_timezone="Europe/Moscow"
    )
    assert digest.week is None
    assert (digest.last_day.start, digest.last_day.end) == (date(2026, 11, 9), date(2026, 11, 10))


async def test_only_heads_and_admins_get_the_digest(uow_factory: UnitOfWorkFactory) -> None:
    ids = await _base(uow_factory)
    await build_digest(uow_factory(), ids["admin"], NOW, default_timezone="Europe/Moscow")
    for who in ("anna", "gone"):
        with pytest.raises(DigestNotAllowed):
            await build_digest(uow_factory(), ids[who], NOW, default_timezone="Europe/Moscow")


async def test_digest_of_an_empty_base(uow_factory: UnitOfWorkFactory) -> None:
    head = await add_user(uow_factory, "Ольга", 1001, Role.HEAD)
    digest = await build_digest(uow_factory(), head, NOW, default_timezone="Europe/Moscow")
    assert digest.last_day.managers == ()
    assert (digest.this_month.new, digest.migration_dates, digest.at_risk_total) == (0, None, 0)
    text = render_digest(digest, Translator("ru"))
    assert "Активных менеджеров пока нет." in text
    assert digest_chart(digest, Translator("ru")).startswith(b"\x89PNG")
