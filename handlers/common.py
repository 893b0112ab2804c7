"""/start, /help and /cancel for registered people; /settings lives in handlers.settings."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from services.access import CompanyPolicy
from services.client_records import owned_clients
from services.dashboard import dashboard_users
from services.db.models import Role
from services.uow import UnitOfWork, UnitOfWorkFactory
from services.users import UserDTO
from ui.callbacks import CancelCb
from ui.i18n import Translator
from ui.keyboards.menu import main_keyboard
from ui.menus import set_dashboard_button, set_default_commands, set_user_commands
from ui.texts.greeting import greeting, help_text
from ui.texts.lists import no_clients_text


async def set_default_menu(
    bot: Bot,
    company: CompanyPolicy,
    uow_factory: UnitOfWorkFactory,
    dashboard_url: str | None = None,
) -> None:
    """At start: the menu of everyone without their own (strangers), and the dashboard
    button of every head and admin, so it appears without a /start."""
    await set_default_commands(bot, company.default_language)
    if dashboard_url:
        for person in await dashboard_users(uow_factory()):
            if person.telegram_id is not None:
                language = person.language or company.default_language
                await set_dashboard_button(bot, person.telegram_id, language, dashboard_url)


async def start(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    lang: str,
    dashboard_url: str | None = None,
) -> None:
    """Greet a registered person, refresh their command menu, give the main-actions keyboard."""
    await set_user_commands(bot, message.chat.id, user.role, lang, dashboard_url)
    text = greeting(user, tr)
    if user.role is Role.MANAGER and not await owned_clients(uow, user.id):
        text = f"{text}\n\n{no_clients_text(tr)}"
    await message.answer(text, reply_markup=main_keyboard(tr))


async def help_(message: Message, user: UserDTO, tr: Translator) -> None:
    """What the bot can do for this person's role."""
    await message.answer(help_text(user.role, tr))


async def cancel(message: Message, state: FSMContext, tr: Translator) -> None:
    """Leave whatever conversation is going on."""
    had_state = await state.get_state() is not None
    await state.clear()
    await message.answer(tr("menu.cancelled" if had_state else "menu.nothing_to_cancel"))


async def cancel_button(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
    """The cancel button of any conversation: same as /cancel, and the buttons go away."""
    await state.clear()
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(tr("menu.cancelled"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.startup.register(set_default_menu)
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(cancel, Command("cancel"))
    router.callback_query.register(cancel_button, CancelCb.filter())
    return router
