"""/today, /week, /reactivate and /risk: lists edited in place; a number opens the card.

/today starts with the day's progress (calls against the plan, overdue); a head sees the
team's figures and can narrow any list to one manager (`/today Смирнова` or the picker).
/week opens on its days, each a button.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from services.access import Viewer
from services.client_records import owned_clients
from services.day import day_progress, find_manager, team_managers, week_ahead
from services.db.models import Role
from services.errors import StaleAction
from services.lists import WEEK_DAYS, ListKind, list_page
from services.uow import UnitOfWork
from ui.callbacks import ListCb, NoopCb, TeamCb
from ui.i18n import Translator
from ui.keyboards.lists import list_keyboard, managers_keyboard, week_keyboard
from ui.replies import edit_or_send, show
from ui.texts.lists import day_list_text, list_text, no_clients_text, progress_text, week_text

COMMANDS = {
    "today": ListKind.TODAY,
    "week": ListKind.WEEK,
    "reactivate": ListKind.REACTIVATION,
    "risk": ListKind.RISK,
}
_PICKING_ROLES = frozenset({Role.HEAD, Role.ADMIN})


def _can_pick(viewer: Viewer) -> bool:
    return viewer.role in _PICKING_ROLES


async def render_list(
    uow: UnitOfWork,
    viewer: Viewer,
    kind: ListKind,
    now: datetime,
    tr: Translator,
    *,
    page: int = 0,
    owner_id: int | None = None,
    day: date | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and the keyboard of a list (or of the week's overview)."""
    can_pick = _can_pick(viewer)
    owner_id = owner_id if can_pick else None
    if kind == ListKind.WEEK and day is None:
        week = await week_ahead(uow, viewer, now, manager_id=owner_id)
        text = week_text(week, tr)
        if not week.total and not can_pick and not await owned_clients(uow, viewer.user_id):
            text = f"{text}\n{no_clients_text(tr)}"
        return text, week_keyboard(week, tr, can_pick=can_pick)
    listing = await list_page(uow, viewer, kind, page=page, now=now, owner_id=owner_id, day=day)
    text = day_list_text(listing, tr) if day is not None else list_text(listing, tr)
    if kind == ListKind.TODAY:
        progress = await day_progress(uow, viewer, now, manager_id=owner_id)
        if not progress.owned and not progress.team:
            text = no_clients_text(tr, of_manager=progress.manager is not None)
        text = f"{progress_text(progress, tr)}\n{text}"
    elif not listing.total and not can_pick and not await owned_clients(uow, viewer.user_id):
        text = f"{text}\n{no_clients_text(tr)}"
    return text, list_keyboard(listing, tr, can_pick=can_pick)


async def show_kind(
    message: Message,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    kind: ListKind,
    owner_id: int | None = None,
) -> None:
    text, markup = await render_list(uow, viewer, kind, now, tr, owner_id=owner_id)
    await message.answer(text, reply_markup=markup)


async def show_list(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """The first page of the list the command names; a head may add a manager's name."""
    kind = COMMANDS[command.command.lower()]
    owner_id = None
    if command.args and _can_pick(viewer):
        owner_id = (await find_manager(uow, viewer, command.args)).id
    await show_kind(message, uow, viewer, now, tr, kind, owner_id)


def _day(ordinal: int, viewer: Viewer, now: datetime) -> date | None:
    """The day of a /week button, if it is still in the week ahead."""
    if ordinal <= 0:
        return None
    today = viewer.local_today(now)
    try:
        day = date.fromordinal(ordinal)
    except ValueError:
        raise StaleAction() from None
    return day if today < day <= today + timedelta(days=WEEK_DAYS) else None


async def turn_page(
    callback: CallbackQuery,
    callback_data: ListCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """◀ ▶, a day of the week, a manager picked: edited in place."""
    if callback_data.k not in set(ListKind):
        raise StaleAction()
    text, markup = await render_list(
        uow,
        viewer,
        ListKind(callback_data.k),
        now,
        tr,
        page=callback_data.p,
        owner_id=callback_data.o or None,
        day=_day(callback_data.d, viewer, now),
    )
    await callback.answer()
    await edit_or_send(callback, text, markup)


async def pick_manager(
    callback: CallbackQuery, callback_data: TeamCb, uow: UnitOfWork, viewer: Viewer, tr: Translator
) -> None:
    """ "By manager" under a head's list: one button per active manager."""
    if callback_data.k not in set(ListKind):
        raise StaleAction()
    managers = await team_managers(uow, viewer)
    kind = ListKind(callback_data.k)
    await show(callback, tr("day.choose_manager"), managers_keyboard(kind, managers, tr))


async def label_only(callback: CallbackQuery) -> None:
    """Page counters and blank calendar cells do nothing."""
    await callback.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(show_list, Command(*COMMANDS))
    router.callback_query.register(turn_page, ListCb.filter())
    router.callback_query.register(pick_manager, TeamCb.filter())
    router.callback_query.register(label_only, NoopCb.filter())
    return router
