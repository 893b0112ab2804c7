"""/today, /week, /reactivate and /risk: paged lists edited in place; a row opens the card."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from services.access import Viewer
from services.errors import StaleAction
from services.lists import ListKind, list_page
from services.uow import UnitOfWork
from ui.callbacks import ListCb, NoopCb
from ui.i18n import Translator
from ui.keyboards.lists import list_keyboard
from ui.replies import edit_or_send
from ui.texts.lists import list_text

COMMANDS = {
    "today": ListKind.TODAY,
    "week": ListKind.WEEK,
    "reactivate": ListKind.REACTIVATION,
    "risk": ListKind.RISK,
}


async def show_list(
    message: Message, uow: UnitOfWork, viewer: Viewer, now: datetime, tr: Translator
) -> None:
    """The first page of the list the command names."""
    command = (message.text or "").split()[0].lstrip("/").split("@")[0].lower()
    page = await list_page(uow, viewer, COMMANDS[command], now=now)
    await message.answer(list_text(page, tr), reply_markup=list_keyboard(page, tr))


async def turn_page(
    callback: CallbackQuery,
    callback_data: ListCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """◀ ▶ under a list, edited in place."""
    if callback_data.k not in set(ListKind):
        raise StaleAction()
    kind = ListKind(callback_data.k)
    page = await list_page(uow, viewer, kind, page=callback_data.p, now=now)
    await callback.answer()
    await edit_or_send(callback, list_text(page, tr), list_keyboard(page, tr))


async def label_only(callback: CallbackQuery) -> None:
    """Page counters and blank calendar cells do nothing."""
    await callback.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(show_list, Command(*COMMANDS))
    router.callback_query.register(turn_page, ListCb.filter())
    router.callback_query.register(label_only, NoopCb.filter())
    return router
