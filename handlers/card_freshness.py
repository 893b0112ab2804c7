"""A button of an outdated card refreshes that card instead of acting on what it showed."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.types import CallbackQuery

from services.access import Viewer
from services.clients import get_card
from services.uow import UnitOfWork
from ui.callbacks import ClientCb
from ui.i18n import Translator
from ui.keyboards.clients import card_keyboard, card_version
from ui.replies import edit_or_send
from ui.texts.card import card_text


async def refresh_outdated_card(
    callback: CallbackQuery,
    callback_data: ClientCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A card button: go on when the card is current, else show the card as it is now."""
    card = await get_card(uow, viewer, callback_data.c, now)
    if card_version(card) == callback_data.v:
        raise SkipHandler()
    await callback.answer(tr("card.refreshed"))
    await edit_or_send(callback, card_text(card, tr, viewer.zone), card_keyboard(card, tr))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(refresh_outdated_card, ClientCb.filter(F.v > 0))
    return router
