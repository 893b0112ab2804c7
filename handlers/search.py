"""Client lookup: `/client <query>` and any plain text in a private chat (the catch-all).

Result pages are turned with a short key of the query kept in the conversation
data (queries never travel in callback data).
"""

from __future__ import annotations

import zlib
from datetime import datetime

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers.clients import show_card
from services.access import Viewer
from services.clients import ClientCard
from services.errors import StaleAction
from services.search import SearchIndexStore, search_clients
from services.uow import UnitOfWork
from ui.callbacks import SearchCb
from ui.i18n import Translator
from ui.keyboards.clients import add_offer_keyboard, search_keyboard
from ui.replies import edit_or_send
from ui.texts.search import offers_new_client, search_text

MAX_QUERY_LENGTH = 100
KEPT_QUERIES = 5


def _key(query: str) -> str:
    return f"{zlib.crc32(query.encode()):08x}"


async def _remember(state: FSMContext, query: str) -> str:
    key = _key(query)
    searches = dict((await state.get_data()).get("searches") or {})
    searches.pop(key, None)
    searches[key] = query
    while len(searches) > KEPT_QUERIES:
        searches.pop(next(iter(searches)))
    await state.update_data(searches=searches)
    return key


async def answer_search(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    search_index: SearchIndexStore,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    query: str,
    *,
    for_log: bool = False,
) -> ClientCard | None:
    """Answer a lookup; with exactly one match return its card (shown unless `for_log`)."""
    query = query[:MAX_QUERY_LENGTH]
    page = await search_clients(uow, search_index, viewer, query, now=now)
    if page.card is not None:
        if not for_log:
            await show_card(message, page.card, viewer, tr)
        return page.card
    if page.total == 0:
        offer = None
        if offers_new_client(page, for_log=for_log):
            offer = add_offer_keyboard(await _remember(state, page.query), tr)
        await message.answer(search_text(page, tr, for_log=for_log), reply_markup=offer)
        return None
    key = await _remember(state, page.query)
    markup = search_keyboard(page, key, tr, for_log=for_log)
    await message.answer(search_text(page, tr, for_log=for_log), reply_markup=markup)
    return None


async def search_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    uow: UnitOfWork,
    search_index: SearchIndexStore,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    *,
    for_log: bool = False,
) -> ClientCard | None:
    """/client or /log with the query after the command; without one, how to use it."""
    query = (command.args or "").strip()
    if not query:
        await message.answer(tr("search.usage_log" if for_log else "search.usage"))
        return None
    return await answer_search(
        message, state, uow, search_index, viewer, now, tr, query, for_log=for_log
    )


async def client_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    uow: UnitOfWork,
    search_index: SearchIndexStore,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """/client <name, company, phone, tax id or external id>."""
    await search_command(message, command, state, uow, search_index, viewer, now, tr)


async def plain_text(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    search_index: SearchIndexStore,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Any text that is not a command is a lookup."""
    await answer_search(message, state, uow, search_index, viewer, now, tr, message.text or "")


async def turn_page(
    callback: CallbackQuery,
    callback_data: SearchCb,
    state: FSMContext,
    uow: UnitOfWork,
    search_index: SearchIndexStore,
    viewer: Viewer,
    tr: Translator,
) -> None:
    """◀ ▶ under search results, edited in place."""
    query = ((await state.get_data()).get("searches") or {}).get(callback_data.k)
    if not isinstance(query, str):
        raise StaleAction()
    page = await search_clients(uow, search_index, viewer, query, page=callback_data.p)
    await callback.answer()
    markup = search_keyboard(page, callback_data.k, tr, for_log=callback_data.log)
    await edit_or_send(callback, search_text(page, tr, for_log=callback_data.log), markup)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(client_command, Command("client"))
    router.message.register(
        plain_text,
        StateFilter(None),
        F.chat.type == ChatType.PRIVATE,
        F.text,
        ~F.text.startswith("/"),
    )
    router.callback_query.register(turn_page, SearchCb.filter())
    return router
