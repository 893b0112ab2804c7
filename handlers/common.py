"""/start, /help and /cancel for registered people; /settings lives in handlers.settings."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.commands import set_default_commands, set_user_commands
from bot.config import Settings
from handlers import settings as settings_handlers
from handlers.greeting import greeting, help_text
from handlers.keyboards.cancel import CancelCb
from services.i18n import Translator
from services.users import UserDTO


async def _set_default_menu(bot: Bot, settings: Settings) -> None:
    await set_default_commands(bot, settings.default_language)


def create_router() -> Router:
    router = Router(name=__name__)
    router.startup.register(_set_default_menu)

    @router.message(CommandStart())
    async def start(message: Message, bot: Bot, user: UserDTO, tr: Translator, lang: str) -> None:
        """Greet a registered person by name and role and refresh their command menu."""
        await set_user_commands(bot, message.chat.id, user.role, lang)
        await message.answer(greeting(user, tr))

    @router.message(Command("help"))
    async def help_(message: Message, user: UserDTO, tr: Translator) -> None:
        """What the bot can do for this person's role."""
        await message.answer(help_text(user.role, tr))

    @router.message(Command("cancel"))
    async def cancel(message: Message, state: FSMContext, tr: Translator) -> None:
        """Leave whatever conversation is going on."""
        had_state = await state.get_state() is not None
        await state.clear()
        await message.answer(tr("menu.cancelled" if had_state else "menu.nothing_to_cancel"))

    @router.callback_query(CancelCb.filter())
    async def cancel_button(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
        """The cancel button of any conversation: same as /cancel, and the buttons go away."""
        await state.clear()
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(reply_markup=None)
            await callback.message.answer(tr("menu.cancelled"))

    router.include_router(settings_handlers.create_router())
    return router
