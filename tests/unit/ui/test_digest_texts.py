"""The digest as a phone shows it: chart size and text size, captions, numbered clients."""

from __future__ import annotations

import string
import struct
from datetime import date, timedelta
from decimal import Decimal

import pytest
from matplotlib.collections import LineCollection
from matplotlib.text import Text

from services.dashboard import ClientFlow
from services.digest import Digest, NotableMigration, RiskClient, WeekReview
from services.team import CallsPeriod, ManagerCalls, ManagerOverdue
from ui.charts import DPI, MAX_BARS, MIN_TEXT_PX, WIDTH_PX, BarRow, ChartLegend, calls_chart_figure
from ui.i18n import Translator, catalog
from ui.keyboards.digest import digest_keyboard
from ui.texts.digest import digest_caption, digest_chart, digest_parts, render_digest
from ui.texts.webapp import page_texts

TODAY = date(2026, 12, 7)  # a Monday
RU, EN = Translator("ru"), Translator("en")


def _period(start: date, end: date, calls: list[int]) -> CallsPeriod:
    names = ["Анна Смирнова", "Борис Котов", "Екатерина Новикова-Щербакова"]
    return CallsPeriod(
        start,
        end,
        1,
        tuple(ManagerCalls(i + 1, names[i], n, 20) for i, n in enumerate(calls)),
    )


def _digest(*, week: bool = True, managers: int = 3) -> Digest:
    friday = TODAY - timedelta(days=3)
    last_day = _period(friday, TODAY, [22, 9, 20][:managers])
    review = None
    if week:
        review = WeekReview(
            calls=_period(TODAY - timedelta(days=7), TODAY, [100, 60, 90]),
            calls_before=_period(
                TODAY - timedelta(days=14), TODAY - timedelta(days=7), [80, 70, 0]
            ),
            flow=ClientFlow(TODAY - timedelta(days=7), TODAY - timedelta(days=1), new=3),
            flow_before=ClientFlow(TODAY - timedelta(days=14), TODAY - timedelta(days=8), new=1),
        )
    return Digest(
        today=TODAY,
        timezone="Europe/Moscow",
        last_day=last_day,
        week=review,
        overdue=(ManagerOverdue(1, "Анна Смирнова", 4), ManagerOverdue(2, "Борис Котов", 0)),
        this_month=ClientFlow(date(2026, 12, 1), TODAY, 1, 0, 0, Decimal(500), Decimal(900)),
        last_month=ClientFlow(
            date(2026, 11, 1), date(2026, 11, 7), 3, 1, 2, Decimal(0), Decimal(1)
        ),
        figures_as_of=TODAY,
        migration_dates=(TODAY - timedelta(days=1), TODAY),
        migrations_total=1,
        migrations=(NotableMigration(7, "ООО «Ромашка»", "Анна", "A", "B", "X", "X", Decimal(9)),),
        at_risk_total=2,
        at_stake_total=Decimal(300),
        at_risk=(
            RiskClient(8, "ИП Лютиков", "Борис", Decimal(200), 0.2),
            RiskClient(7, "ООО «Ромашка»", "Анна", Decimal(100), 0.4),
        ),
    )


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


def test_the_chart_is_as_wide_as_a_phone_screen() -> None:
    width, height = _png_size(digest_chart(_digest(), RU))
    assert width == WIDTH_PX == 1080
    assert 500 < height < 1600  # three managers: a screen, not a strip


def test_every_text_is_readable_on_a_phone_and_the_plan_marks_stand_out() -> None:
    rows = [BarRow(f"Менеджер {i}", f"{i} из 20 · {i * 5}%", i, 20, i + 1) for i in range(MAX_BARS)]
    legend = ChartLegend("план выполнен", "ниже плана", "план", "неделей раньше")
    figure = calls_chart_figure("Звонки за неделю", rows, legend)
    texts = [t for t in figure.findobj(Text) if t.get_text().strip() and t.get_visible()]
    assert len(texts) >= 2 * MAX_BARS + 5  # names, figures, title, legend
    for text in texts:
        assert text.get_fontsize() * DPI / 72 >= MIN_TEXT_PX, text.get_text()
    marks = [c for c in figure.findobj(LineCollection) if len(c.get_segments()) == 1]
    assert len(marks) == MAX_BARS
    for mark in marks:
        assert tuple(mark.get_colors()[0][:3]) == (0.0, 0.0, 0.0) and mark.get_linewidth()[0] >= 5
    with pytest.raises(ValueError):
        calls_chart_figure("x", [*rows, rows[0]], legend)


def test_many_managers_are_summed_up_into_one_row() -> None:
    managers = tuple(ManagerCalls(i, f"М{i}", 10, 20) for i in range(40))
    digest = _digest(week=False)
    crowded = Digest(**{**digest.__dict__, "last_day": CallsPeriod(TODAY, TODAY, 1, managers)})
    width, height = _png_size(digest_chart(crowded, RU))
    assert width == 1080 and height < 3000


def test_labels_follow_the_readers_language() -> None:
    figure_texts = {
        lang: [
            t.get_text()
            for t in calls_chart_figure(
                tr("digest.chart_title", period="07.12"),
                [BarRow("Anna", tr("digest.chart_figures", calls=1, plan=2, percent="50%"), 1, 2)],
                ChartLegend(
                    tr("digest.chart_at_plan"),
                    tr("digest.chart_below_plan"),
                    tr("digest.chart_plan"),
                ),
            ).findobj(Text)
        ]
        for lang, tr in (("ru", RU), ("en", EN))
    }
    assert "1 из 2 · 50%" in figure_texts["ru"] and "ниже плана" in figure_texts["ru"]
    assert "1 of 2 · 50%" in figure_texts["en"] and "below plan" in figure_texts["en"]


def test_the_caption_adds_what_the_chart_does_not_say() -> None:
    caption = digest_caption(_digest(), RU)
    assert caption.splitlines() == [
        "Звонки за 04.12–06.12: 51 из 60 (85%)",
        "Ниже плана: Борис Котов (45%)",
        "Просроченных контактов: 4",
    ]
    assert "Everyone met the plan." in digest_caption(
        Digest(**{**_digest().__dict__, "last_day": _period(TODAY, TODAY, [20, 25, 30])}), EN
    )


def test_two_charts_on_mondays_one_otherwise_and_the_buttons_go_last() -> None:
    monday = digest_parts(_digest(), RU, "https://crm.example.org/webapp/")
    assert [type(p).__name__ for p in monday[:3]] == ["PhotoPart", "PhotoPart", "TextPart"]
    assert monday[1].caption.startswith("Прошлая неделя 30.11–06.12: 250 из 60")
    tuesday = digest_parts(_digest(week=False), RU)
    assert [type(p).__name__ for p in tuesday] == ["PhotoPart", "TextPart"]
    keyboard = monday[-1].reply_markup
    assert keyboard is not None
    labels = [b.text for row in keyboard.inline_keyboard for b in row]
    assert labels == ["1. ООО «Ромашка»", "2. ИП Лютиков", "📊 Дашборд"]
    assert keyboard.inline_keyboard[-1][0].web_app.url == "https://crm.example.org/webapp/"
    # without a dashboard served, no dashboard button; without clients, no keyboard
    assert digest_keyboard(_digest(), RU, None).inline_keyboard[-1][0].callback_data
    empty = Digest(**{**_digest().__dict__, "migrations": (), "at_risk": ()})
    assert digest_keyboard(empty, RU, None) is None


def test_each_named_client_carries_the_number_of_its_button() -> None:
    text = render_digest(_digest(), RU)
    assert "1. ООО «Ромашка» (Анна): A→B" in text
    assert "2. ИП Лютиков (Борис): 200\u00a0₽" in text
    assert "1. ООО «Ромашка» (Анна): 100\u00a0₽" in text  # the same client, the same number
    assert "<b>Клиенты за 01.12–07.12</b> (в скобках — те же дни прошлого месяца, 01.11–07.11)" in (
        text
    )
    assert "Прошлая неделя, 30.11–06.12</b>: 250 из 60 (417%) · неделей раньше 150" in text


def test_stale_or_missing_figures_say_so() -> None:
    stale = Digest(**{**_digest().__dict__, "figures_as_of": TODAY - timedelta(days=3)})
    assert "Данные на 04.12" in render_digest(stale, RU)
    never = Digest(**{**_digest().__dict__, "figures_as_of": None})
    assert "после первого пересчёта сегментов" in render_digest(never, RU)


def _placeholders(value: object) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(str(text)) if name}


@pytest.mark.parametrize("area", ["digest", "webapp"])
def test_both_languages_have_the_same_texts(area: str) -> None:
    ru = {k: v for k, v in catalog("ru").items() if k.startswith(area + ".")}
    en = {k: v for k, v in catalog("en").items() if k.startswith(area + ".")}
    assert set(ru) == set(en) and len(ru) > 20
    for key in ru:
        assert _placeholders(ru[key]) == _placeholders(en[key]), key


def test_the_page_gets_its_texts_formats_and_segment_meanings() -> None:
    texts = page_texts(EN)
    assert texts["tabs.matrix"] == "Matrix"
    assert texts["format.money"] == "₽{amount}" and texts["status.lifecycle.lost"] == "lost"
    assert texts["segment.AX"] and texts["clients"] == {"one": "{n} client", "other": "{n} clients"}
