"""The door: invite links for newcomers, one polite refusal for everyone else unknown.

This router comes right after the error router, so no update of a stranger (or of a
deactivated person, who is a stranger again) reaches any feature below.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message, TelegramObject

from services.access import CompanyPolicy
from services.invites import Registration, redeem_invite
from services.uow import UnitOfWork
from services.users import UserDTO
from ui.i18n import Translator
from ui.keyboards.menu import main_keyboard
from ui.menus import set_user_commands
from ui.texts.admin import joined_text
from ui.texts.greeting import greeting, welcome

log = logging.getLogger(__name__)


def is_stranger(_: TelegramObject, user: UserDTO | None = None) -> bool:
    return user is None


async def start_with_invite(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    now: datetime,
    user: UserDTO | None,
    tr: Translator,
    lang: str,
    company: CompanyPolicy,
    dashboard_url: str | None = None,
) -> None:
    """`/start <code>`: register the newcomer with the invite's role."""
    if user is not None:
        await message.answer(
            f"{tr('access.already_registered')}\n\n{greeting(user, tr)}",
            reply_markup=main_keyboard(tr),
        )
        return
    person = message.from_user
    assert person is not None  # a private chat message always has a sender
    registration = await redeem_invite(
        uow,
        code=command.args or "",
        telegram_id=person.id,
        name=person.full_name,
        language=person.language_code,
        now=now,
    )
    newcomer = registration.user
    language = newcomer.language or lang
    await set_user_commands(bot, person.id, newcomer.role, language, dashboard_url)
    newcomer_tr = Translator(language)
    await message.answer(
        welcome(newcomer, newcomer_tr, returning=registration.reactivated),
        reply_markup=main_keyboard(newcomer_tr),
    )
    await _tell_inviter(bot, registration, company)


async def _tell_inviter(bot: Bot, registration: Registration, company: CompanyPolicy) -> None:
    """The head who made the invite hears that it was used; a failure only logs."""
    inviter = registration.invited_by
    if inviter is None or inviter.telegram_id is None:
        return
    tr = Translator(inviter.language or company.default_language)
    try:
        await bot.send_message(inviter.telegram_id, joined_text(registration.user, tr))
    except TelegramAPIError as error:
        log.warning("could not tell user %s that an invite was used: %s", inviter.id, error)


async def refuse_message(message: Message, tr: Translator) -> None:
    """Anything else from a stranger: how to get access, and nothing more."""
    await message.answer(tr("access.refusal"))


async def refuse_button(callback: CallbackQuery, tr: Translator) -> None:
    """A button pressed by a stranger (e.g. on an old message after deactivation)."""
    await callback.answer(tr("access.refusal_short"), show_alert=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start_with_invite, CommandStart(deep_link=True))
    router.message.register(refuse_message, is_stranger)
    router.callback_query.register(refuse_button, is_stranger)
    return router
