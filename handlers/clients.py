"""The client card: open it, page through its history, mark a client VIP."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from services.access import Viewer
from services.clients import ClientCard, get_card, get_history, set_vip
from services.errors import StaleAction
from services.uow import UnitOfWork
from ui.callbacks import CardAction, ClientCb, VipCb
from ui.i18n import Translator
from ui.keyboards.calls import vip_reason_keyboard
from ui.keyboards.clients import card_keyboard, history_keyboard
from ui.replies import edit_or_send
from ui.texts.card import card_text, history_text


class VipFlow(StatesGroup):
    reason = State()


async def show_card(target: Message, card: ClientCard, viewer: Viewer, tr: Translator) -> None:
    """Send the card as a new message in the chat of `target`."""
    await target.answer(card_text(card, tr, viewer.zone), reply_markup=card_keyboard(card, tr))


async def _edit_card(
    callback: CallbackQuery, card: ClientCard, viewer: Viewer, tr: Translator
) -> None:
    """Put the card in place of the pressed message."""
    await edit_or_send(callback, card_text(card, tr, viewer.zone), card_keyboard(card, tr))


async def open_card(
    callback: CallbackQuery,
    callback_data: ClientCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A row of a list or of search results, or "back" from the history."""
    card = await get_card(uow, viewer, callback_data.c, now)
    await callback.answer()
    if callback_data.a == CardAction.BACK:
        await _edit_card(callback, card, viewer, tr)
    elif isinstance(callback.message, Message):
        await show_card(callback.message, card, viewer, tr)


async def history(
    callback: CallbackQuery,
    callback_data: ClientCb,
    uow: UnitOfWork,
    viewer: Viewer,
    tr: Translator,
) -> None:
    """Contacts and purchases, newest first, paged in place."""
    page = await get_history(uow, viewer, callback_data.c, page=callback_data.p)
    await callback.answer()
    await edit_or_send(callback, history_text(page, tr, viewer.zone), history_keyboard(page, tr))


async def vip(
    callback: CallbackQuery,
    callback_data: ClientCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Mark or unmark VIP; marking asks for an optional reason."""
    make_vip = bool(callback_data.p)
    card = await set_vip(uow, viewer, callback_data.c, is_vip=make_vip, now=now)
    await callback.answer(tr("card.vip_on_done" if make_vip else "card.vip_off_done"))
    await _edit_card(callback, card, viewer, tr)
    if make_vip and isinstance(callback.message, Message):
        await state.set_state(VipFlow.reason)
        await state.update_data(vip=card.client_id)
        await callback.message.answer(
            tr("card.vip_reason.ask"), reply_markup=vip_reason_keyboard(card.client_id, tr)
        )


async def vip_reason(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """The reason typed after marking a client VIP."""
    client_id = (await state.get_data()).get("vip")
    if not isinstance(client_id, int):
        raise StaleAction()
    card = await set_vip(uow, viewer, client_id, is_vip=True, reason=message.text or "", now=now)
    await _leave_vip_flow(state)
    await message.answer(tr("card.vip_reason.saved"))
    await show_card(message, card, viewer, tr)


async def vip_without_reason(
    callback: CallbackQuery, callback_data: VipCb, state: FSMContext, tr: Translator
) -> None:
    """Keep the VIP mark without a reason."""
    if await state.get_state() == VipFlow.reason.state:
        await _leave_vip_flow(state)
    await callback.answer()
    await edit_or_send(callback, tr("card.vip_reason.skipped"), None)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(
        open_card, ClientCb.filter(F.a.in_({CardAction.OPEN, CardAction.BACK}))
    )
    router.callback_query.register(history, ClientCb.filter(F.a == CardAction.HISTORY))
    router.callback_query.register(vip, ClientCb.filter(F.a == CardAction.VIP))
    router.message.register(vip_reason, VipFlow.reason, F.text, ~F.text.startswith("/"))
    router.callback_query.register(vip_without_reason, VipCb.filter())
    return router


async def _leave_vip_flow(state: FSMContext) -> None:
    await state.set_state(None)
    data = await state.get_data()
    data.pop("vip", None)
    await state.set_data(data)
