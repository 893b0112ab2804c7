"""The reply keyboard's buttons (Сегодня, Найти клиента, ...): the same as their commands.

This router comes right after /start and /cancel, so a button works in the middle of
any question; it ends the question first (logging a call stays open, as with commands).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from handlers.lists import show_kind
from handlers.records import leave_flows
from handlers.settings import SettingsForm, show_settings
from services.access import CompanyPolicy, Viewer
from services.lists import ListKind
from services.uow import UnitOfWork
from services.users import UserDTO
from ui.i18n import Translator
from ui.keyboards.menu import reply_action

_LISTS = {"today": ListKind.TODAY, "reactivate": ListKind.REACTIVATION, "risk": ListKind.RISK}


def menu_button(message: Message) -> dict[str, Any] | bool:
    action = reply_action(message.text)
    return {"action": action} if action else False


async def reply_button(
    message: Message,
    action: str,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    viewer: Viewer,
    company: CompanyPolicy,
    now: datetime,
    tr: Translator,
) -> None:
    """One of the main actions, tapped under the message field."""
    await leave_flows(state)
    current = await state.get_state()
    if current in SettingsForm.__all_states_names__:
        await state.set_state(None)
    if action in _LISTS:
        await show_kind(message, uow, viewer, now, tr, _LISTS[action])
    elif action == "settings":
        await show_settings(message, state, uow, user, tr, company, now)
    else:
        await message.answer(tr("search.usage_button"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(reply_button, F.text, menu_button)
    return router
