"""The reasons behind the labels as sentences, in Russian and English."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.explanations import LabelReasons, manager_set, reasons_from
from ui.i18n import Translator
from ui.texts.explain import (
    cross_sell_reason,
    next_contact_reason,
    percent,
    period,
    risk_reason,
    risk_short,
    segment_reason,
    status_reason,
    value_line,
)

RU, EN = Translator("ru"), Translator("en")
NBSP = "\u00a0"


def reasons(**overrides: object) -> LabelReasons:
    values: dict[str, object] = {
        "segment": "AX",
        "revenue_share": 0.18,
        "revenue_rank": 3,
        "ranked_clients": 2000,
        "active_months": 11,
        "window_months": 12,
        "status": "dormant",
        "deal_cycle_days": 30.0,
        "days_since_last_purchase": 64,
        "risk": "high",
        "p_alive": 0.28,
        "repeat_purchases": 13,
        "history_days": 730,
        "value_12m": Decimal("1760000"),
        "value_at_risk": Decimal("1267200"),
        "cadence_days": 7,
        "cadence_source": "segment",
        "next_due_source": "contact",
        "last_touch": date(2026, 11, 30),
        "last_contact": date(2026, 11, 30),
        "cross_sell": ["Сантехника"],
        "cross_sell_from": "Электрика",
        "cross_sell_lift": 4.0,
        **overrides,
    }
    got = reasons_from(values)
    assert got is not None
    return got


def test_the_issue_examples_in_russian() -> None:
    r = reasons()
    assert segment_reason(r, RU) == (
        f"18{NBSP}% выручки (3-й из 2{NBSP}000); покупал в 11 из 12 месяцев"
    )
    assert status_reason(r, RU) == "засыпает: обычно покупает раз в 30 дней, молчит 64 дня"
    assert risk_reason(r, RU) == (
        f"вероятность, что ещё покупает, 28{NBSP}% — по 14 покупкам за 2 года"
    )
    assert (
        next_contact_reason(r.next_contact, RU) == "по графику AX — каждые 7 дней от звонка 30.11"
    )
    assert cross_sell_reason(r, RU) == "покупатели «Электрика» берут «Сантехника» в 4 раза чаще"
    assert value_line(r, RU) == (
        f"💰 Ожидаемая выручка за 12 месяцев: 1{NBSP}760{NBSP}000{NBSP}₽ · "
        f"под угрозой 1{NBSP}267{NBSP}200{NBSP}₽"
    )
    assert risk_short(r, RU) == (
        f"ещё покупает с вероятностью 28{NBSP}%, молчит 64 дня (обычно раз в 30 дней)"
    )


def test_the_same_in_english() -> None:
    r = reasons()
    assert (
        segment_reason(r, EN) == f"18{NBSP}% of revenue (3rd of 2,000); bought in 11 of 12 months"
    )
    assert status_reason(r, EN) == "slipping: usually buys every 30 days, silent for 64 days"
    assert (
        risk_reason(r, EN) == f"probability still buying 28{NBSP}% — from 14 purchases over 2 years"
    )
    assert next_contact_reason(r.next_contact, EN) == (
        "by the AX schedule — every 7 days from the call of 30 Nov"
    )
    assert cross_sell_reason(r, EN) == "buyers of Электрика buy Сантехника 4× more often"


def test_a_lost_client_says_how_long_ago_it_left_and_has_no_risk() -> None:
    r = reasons(status="lost", risk=None, days_since_last_purchase=400)
    assert status_reason(r, RU) == "ушёл 400 дней назад"
    assert status_reason(r, EN) == "left 400 days ago"
    assert risk_reason(r, RU) is None
    assert value_line(r, RU) == f"💰 Ожидаемая выручка за 12 месяцев: 1{NBSP}760{NBSP}000{NBSP}₽"


def test_next_contact_set_by_a_manager_or_counted_from_a_purchase() -> None:
    r = manager_set(reasons(), "Анна Смирнова", date(2026, 11, 28))
    assert next_contact_reason(r.next_contact, RU) == "назначил(а) Анна Смирнова 28.11"
    assert next_contact_reason(r.next_contact, EN) == "set by Анна Смирнова on 28 Nov"
    vip = reasons(cadence_source="vip_cap", next_due_source="purchase", last_contact=None)
    assert next_contact_reason(vip.next_contact, RU) == (
        "VIP — не реже чем каждые 7 дней от покупки 30.11"
    )
    nothing = reasons(next_due_source="none", last_touch=None, last_contact=None)
    assert next_contact_reason(nothing.next_contact, EN).startswith("no purchases or calls yet")


def test_a_single_purchase_has_no_risk_estimate_yet() -> None:
    r = reasons(status="new", risk=None, p_alive=1.0, repeat_purchases=0, history_days=20)
    assert risk_reason(r, RU) == "риск пока не оценить: была одна покупка"
    assert status_reason(r, EN) == "new: first purchase 20 days ago"


def test_state_without_figures_explains_nothing() -> None:
    assert reasons_from({"status": "active", "window_months": None}) is None


@pytest.mark.parametrize(
    ("share", "ru", "en"),
    [(0.18, "18", "18"), (0.004, "0,4", "0.4"), (0.0004, "<0,1", "<0.1"), (0.0, "0", "0")],
)
def test_percent(share: float, ru: str, en: str) -> None:
    assert percent(share, RU) == f"{ru}{NBSP}%"
    assert percent(share, EN) == f"{en}{NBSP}%"


@pytest.mark.parametrize(
    ("days", "ru", "en"),
    [(730, "2 года", "2 years"), (240, "8 месяцев", "8 months"), (20, "20 дней", "20 days")],
)
def test_period(days: int, ru: str, en: str) -> None:
    assert period(days, RU) == ru
    assert period(days, EN) == en
