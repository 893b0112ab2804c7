"""What the morning push, the reminder and the digest say: pure DTOs in, text out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.dashboard import ClientFlow
from services.digest import Digest
from services.lists import ClientListItem
from services.pushes import MorningPush, Reminder, group_by_segment, rotate
from services.team import CallsPeriod, ManagerCalls, ManagerOverdue
from ui.i18n import Translator
from ui.keyboards.pushes import morning_push_keyboard, reminder_keyboard
from ui.messages import TEXT_LIMIT, text_parts
from ui.texts.digest import render_digest
from ui.texts.pushes import render_morning_push, render_reminder

TODAY = date(2026, 11, 5)
RU, EN = Translator("ru"), Translator("en")


def item(client_id: int, **fields: Any) -> ClientListItem:
    values: dict[str, Any] = {
        "client_id": client_id,
        "name": f"Клиент {client_id}",
        "company": None,
        "owner_id": 1,
        "owner_name": "Анна",
        "is_vip": False,
        "abc": "B",
        "xyz": "Y",
        "segment": "BY",
        "next_due": TODAY,
        "overdue_days": 0,
        "revenue_12m": Decimal(1000),
        "revenue_at_risk": Decimal(0),
        "p_alive": 0.5,
        **fields,
    }
    return ClientListItem(**values)


def test_rotation_is_deterministic_and_walks_the_whole_list() -> None:
    items = list(range(12))
    assert rotate(items, TODAY, 5) == rotate(items, TODAY, 5)
    shown: set[int] = set()
    for offset in range(3):
        picks = rotate(items, TODAY + timedelta(days=offset), 5)
        assert len(picks) == len(set(picks)) == 5
        shown.update(picks)
    assert shown == set(items)
    assert rotate(items, TODAY, 5) != rotate(items, TODAY + timedelta(days=1), 5)
    assert rotate([1, 2], TODAY, 5) == [1, 2]


def test_groups_by_segment_keep_the_call_order() -> None:
    # as services.lists.CALL_ORDER hands them over: VIP, then A, then the most overdue
    due = [
        item(4, segment="AX", abc="A", xyz="X", is_vip=True),
        item(3, segment="AX", abc="A", xyz="X", overdue_days=5),
        item(2, segment="AX", abc="A", xyz="X", overdue_days=1),
        item(5, segment="AX", abc="A", xyz="X"),
        item(6, segment=None, abc=None, xyz=None, overdue_days=3),
        item(1, segment="CZ", abc="C", xyz="Z"),
    ]
    groups = group_by_segment(due)
    assert [(g.segment, g.count) for g in groups] == [("AX", 4), ("CZ", 1), (None, 1)]
    assert [i.client_id for i in groups[0].first] == [4, 3, 2]


def _push(due: list[ClientListItem], **fields: Any) -> MorningPush:
    values: dict[str, Any] = {
        "user_id": 1,
        "today": TODAY,
        "due_count": len(due),
        "overdue_count": sum(1 for i in due if i.overdue_days),
        "groups": group_by_segment(due),
        "reactivation": (),
        "at_risk": (),
        "featured": tuple(due[:5]),
        **fields,
    }
    return MorningPush(**values)


def test_morning_push_in_both_languages() -> None:
    due = [item(1, name="ООО <Рога & Копыта>", is_vip=True, overdue_days=3), item(2)]
    push = _push(due, at_risk=(item(9, revenue_at_risk=Decimal("1234567.89")),))
    ru = render_morning_push(push, "Анна", RU)
    assert "К звонку сегодня: <b>2</b>, из них просрочено: 1" in ru
    assert "ООО &lt;Рога &amp; Копыта&gt; ⭐ (просрочка 3 дня)" in ru
    assert "под риском 1\u00a0234\u00a0568\u00a0₽" in ru
    en = render_morning_push(push, "Anna", EN)
    assert "To call today: <b>2</b>, overdue: 1" in en
    assert "(3 days overdue)" in en and "₽1,234,568 at risk" in en


def test_empty_morning_is_one_line_without_buttons() -> None:
    push = _push([])
    assert render_morning_push(push, "Анна", RU) == "Сегодня по графику звонков нет."
    assert morning_push_keyboard(push, RU) is None


def test_keyboard_payloads_stay_tiny() -> None:
    due = [item(10**12 + i, name="Очень длинное название компании " * 3) for i in range(5)]
    keyboard = morning_push_keyboard(_push(due), RU)
    assert keyboard is not None
    buttons = [b for row in keyboard.inline_keyboard for b in row]
    assert buttons[0].text == "📋 Список на сегодня"
    assert len(buttons) == 6
    assert all(len((b.callback_data or "").encode()) <= 64 for b in buttons)
    assert all(len(b.text) <= 30 for b in buttons[1:])
    assert all(len(row) <= 2 for row in keyboard.inline_keyboard)


def test_reminder() -> None:
    reminder = Reminder(
        interaction_id=5,
        client_id=7,
        client_name="ООО «Ромашка»",
        company="Ромашка Групп",
        user_id=1,
        at=datetime(2026, 11, 5, 12, 30, tzinfo=UTC),
        comment="Перезвонить <после> обеда",
        phones=("79161234567", "74951112233"),
    )
    text = render_reminder(reminder, "Asia/Yekaterinburg", RU)
    assert "Телефон: +7 916 123-45-67, +7 495 111-22-33" in text
    assert "Пора перезвонить:</b> ООО «Ромашка»" in text
    assert "в 17:30" in text  # local time of the manager
    assert "Перезвонить &lt;после&gt; обеда" in text
    keyboard = reminder_keyboard(reminder, EN)
    assert [row[0].text for row in keyboard.inline_keyboard] == ["📞 Log call", "Open the card"]
    assert keyboard.inline_keyboard[0][0].callback_data == "cl:l:7:0:0"


def test_a_long_digest_splits_into_messages_under_the_limit() -> None:
    managers = tuple(
        ManagerCalls(i, f"Менеджер с длинной фамилией {i}", i % 30, 20) for i in range(400)
    )
    period = CallsPeriod(TODAY - timedelta(days=1), TODAY, 1, managers)
    flow = ClientFlow(
        date(2026, 11, 1), date(2026, 11, 9), 1, 2, 3, Decimal("10.00"), Decimal("20.00")
    )
    digest = Digest(
        today=TODAY,
        timezone="Europe/Moscow",
        last_day=period,
        week=None,
        overdue=tuple(ManagerOverdue(i, f"М{i}", i % 3) for i in range(400)),
        this_month=flow,
        last_month=flow,
        figures_as_of=TODAY,
        migration_dates=None,
        migrations_total=0,
        migrations=(),
        at_risk_total=0,
        at_stake_total=Decimal(0),
        at_risk=(),
    )
    text = render_digest(digest, RU)
    parts = text_parts(text)
    assert len(parts) > 1
    assert all(len(part.text) <= TEXT_LIMIT for part in parts)
    assert "\n".join(part.text for part in parts).count("• ") == 400 + 266
