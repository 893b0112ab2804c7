"""/today, /week, /reactivate and /risk: paged lists edited in place; a row opens the card."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from handlers.callbacks import ListCb, NoopCb
from handlers.keyboards.lists import list_keyboard
from handlers.replies import edit_or_send
from handlers.viewer import install
from handlers.views import list_text
from services.access import Viewer
from services.errors import StaleAction
from services.i18n import Translator
from services.lists import ListKind, list_page
from services.uow import UnitOfWork

COMMANDS = {
    "today": ListKind.TODAY,
    "week": ListKind.WEEK,
    "reactivate": ListKind.REACTIVATION,
    "risk": ListKind.RISK,
}


def create_router() -> Router:
    router = install(Router(name=__name__))

    @router.message(Command(*COMMANDS))
    async def show_list(
        message: Message, uow: UnitOfWork, viewer: Viewer, now: datetime, tr: Translator
    ) -> None:
        """The first page of the list the command names."""
        command = (message.text or "").split()[0].lstrip("/").split("@")[0].lower()
        page = await list_page(uow, viewer, COMMANDS[command], now=now)
        await message.answer(list_text(page, tr), reply_markup=list_keyboard(page, tr))

    @router.callback_query(ListCb.filter())
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

    @router.callback_query(NoopCb.filter())
    async def label_only(callback: CallbackQuery) -> None:
        """Page counters and blank calendar cells do nothing."""
        await callback.answer()

    return router
