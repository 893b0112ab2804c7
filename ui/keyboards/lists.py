"""Keyboards of /today, /week, /reactivate, /risk and search results: pure functions of DTOs.

A list's rows are written once, in the message; the keyboard under it holds one number
button per row (opening that client's card), the pager, and for a head the manager
picker. `/week` opens on its days, each a button with the number of contacts due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.day import Manager, WeekAhead
from services.lists import ListKind, ListPage
from ui.callbacks import CardAction, ClientCb, ListCb, NoopCb, TeamCb
from ui.formatting import VIP_MARK, cut, format_short_date, weekday_short
from ui.i18n import Translator

BUTTON_TEXT_LENGTH = 48
NUMBERS_PER_ROW = 5
DAYS_PER_ROW = 2
MANAGER_NAME_LENGTH = 40


def pager_row(
    page: int, pages: int, make: Callable[[int], CallbackData]
) -> list[InlineKeyboardButton]:
    """◀ 2/5 ▶ for paged lists; empty when everything fits on one page."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀", callback_data=make(page - 1).pack()))
    row.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=NoopCb().pack()))
    if page < pages - 1:
        row.append(InlineKeyboardButton(text="▶", callback_data=make(page + 1).pack()))
    return row


def client_button(
    number: int, name: str, client_id: int, *, vip: bool = False, action: CardAction
) -> InlineKeyboardButton:
    label = f"{number}. " + (f"{VIP_MARK} " if vip else "") + cut(name, BUTTON_TEXT_LENGTH)
    return InlineKeyboardButton(text=label, callback_data=ClientCb(a=action, c=client_id).pack())


def _list_cb(page: ListPage, *, p: int | None = None, d: int | None = None) -> ListCb:
    """This list's callback with another page (or day): the manager filter stays."""
    day = page.day.toordinal() if page.day else 0
    return ListCb(
        k=page.kind.value,
        p=page.page if p is None else p,
        o=page.owner_id or 0,
        d=day if d is None else d,
    )


def list_keyboard(
    page: ListPage, tr: Translator, *, can_pick: bool = False
) -> InlineKeyboardMarkup | None:
    """A number button per row of the message (opens the card), the pager, the picker."""
    start = page.page * page.page_size
    numbers = [
        InlineKeyboardButton(
            text=str(start + n),
            callback_data=ClientCb(a=CardAction.OPEN, c=item.client_id).pack(),
        )
        for n, item in enumerate(page.items, start=1)
    ]
    rows = [numbers[i : i + NUMBERS_PER_ROW] for i in range(0, len(numbers), NUMBERS_PER_ROW)]
    pager = pager_row(page.page, page.pages, lambda p: _list_cb(page, p=p))
    if pager:
        rows.append(pager)
    extra: list[InlineKeyboardButton] = []
    if page.kind == ListKind.WEEK and page.day is not None:
        back = _list_cb(page, p=0, d=0)
        extra.append(InlineKeyboardButton(text=tr("day.back_to_week"), callback_data=back.pack()))
    if can_pick:
        extra += picker_buttons(page.kind, page.owner_id, tr)
    if extra:
        rows.append(extra)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def picker_buttons(
    kind: ListKind, owner_id: int | None, tr: Translator
) -> list[InlineKeyboardButton]:
    """ "By manager", and "Everyone" when the list is narrowed to one."""
    buttons = [
        InlineKeyboardButton(text=tr("day.pick_manager"), callback_data=TeamCb(k=kind.value).pack())
    ]
    if owner_id:
        everyone = ListCb(k=kind.value).pack()
        buttons.append(InlineKeyboardButton(text=tr("day.everyone"), callback_data=everyone))
    return buttons


def managers_keyboard(
    kind: ListKind, managers: Sequence[Manager], tr: Translator
) -> InlineKeyboardMarkup:
    """One button per active manager, and the whole team."""
    rows = [
        [
            InlineKeyboardButton(
                text=cut(manager.display_name, MANAGER_NAME_LENGTH),
                callback_data=ListCb(k=kind.value, o=manager.id).pack(),
            )
        ]
        for manager in managers
    ]
    everyone = ListCb(k=kind.value).pack()
    rows.append([InlineKeyboardButton(text=tr("day.everyone"), callback_data=everyone)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def week_keyboard(
    week: WeekAhead, tr: Translator, *, can_pick: bool = False
) -> InlineKeyboardMarkup | None:
    """A button per day with contacts due: "Вт 03.03 · 7"."""
    owner = week.manager.id if week.manager else 0
    buttons = [
        InlineKeyboardButton(
            text=tr("day.day_button", day=day_label(day.day, tr), n=day.count),
            callback_data=ListCb(k=ListKind.WEEK.value, o=owner, d=day.day.toordinal()).pack(),
        )
        for day in week.busy_days
    ]
    rows = [buttons[i : i + DAYS_PER_ROW] for i in range(0, len(buttons), DAYS_PER_ROW)]
    if can_pick:
        rows.append(picker_buttons(ListKind.WEEK, week.manager.id if week.manager else None, tr))
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def day_label(day: date, tr: Translator) -> str:
    """ "Вт 03.03"."""
    return f"{weekday_short(day.weekday(), tr)} {format_short_date(day, tr)}"
