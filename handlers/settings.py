"""/settings: language, push time, time zone, pause and notifications on/off."""

from __future__ import annotations

from datetime import datetime, time

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from services.access import CompanyPolicy
from services.uow import UnitOfWork
from services.user_settings import (
    COMMON_TIMEZONES,
    get_user_settings,
    set_language,
    set_mute,
    set_push_time,
    set_pushes_enabled,
    set_timezone,
)
from services.users import UserDTO
from ui.formatting import format_time
from ui.i18n import Translator
from ui.keyboards.settings import (
    SettingsAction,
    SettingsCb,
    language_keyboard,
    mute_keyboard,
    push_time_keyboard,
    timezone_keyboard,
)
from ui.menus import set_user_commands
from ui.replies import show
from ui.texts.settings import muted_until_text, settings_screen


class SettingsForm(StatesGroup):
    push_time = State()
    timezone = State()


async def save_push_time(
    value: str,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> tuple[str, InlineKeyboardMarkup]:
    """Save a push time (a preset or typed) and close the question."""
    dto = await set_push_time(uow, user_id=user.id, value=value)
    await state.clear()
    saved = tr("settings.saved.push_time", time=format_time(dto.push_time or time()))
    return settings_screen(dto, tr, company.default_timezone, now, saved=saved)


async def save_timezone(
    value: str,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> tuple[str, InlineKeyboardMarkup]:
    """Save a time zone (a common one or typed) and close the question."""
    dto = await set_timezone(uow, user_id=user.id, value=value)
    await state.clear()
    saved = tr("settings.saved.timezone", zone=dto.timezone or company.default_timezone)
    return settings_screen(dto, tr, company.default_timezone, now, saved=saved)


async def leave_question_for_a_command(message: Message, state: FSMContext) -> None:
    """Another command while a settings question is open: drop the question, run it."""
    await state.clear()
    raise SkipHandler()


async def show_settings(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """The current settings with a button for each."""
    await state.clear()
    dto = await get_user_settings(uow, user_id=user.id)
    text, markup = settings_screen(dto, tr, company.default_timezone, now)
    await message.answer(text, reply_markup=markup)


async def back_to_menu(
    callback: CallbackQuery,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """« Back: the settings summary again."""
    await state.clear()
    dto = await get_user_settings(uow, user_id=user.id)
    await show(callback, *settings_screen(dto, tr, company.default_timezone, now))


async def ask_language(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
    """Offer the languages."""
    await state.clear()
    await show(callback, tr("settings.ask.language"), language_keyboard(tr))


async def ask_push_time(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
    """Offer preset times; a typed HH:MM is accepted too while this question is open."""
    await state.set_state(SettingsForm.push_time)
    await show(callback, tr("settings.ask.push_time"), push_time_keyboard(tr))


async def ask_timezone(
    callback: CallbackQuery, state: FSMContext, tr: Translator, now: datetime
) -> None:
    """Offer common Russian zones; a typed IANA name is accepted too."""
    await state.set_state(SettingsForm.timezone)
    await show(callback, tr("settings.ask.timezone"), timezone_keyboard(now, tr))


async def ask_mute(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
    """Offer pause lengths."""
    await state.clear()
    await show(callback, tr("settings.ask.mute"), mute_keyboard(tr))


async def choose_language(
    callback: CallbackQuery,
    callback_data: SettingsCb,
    bot: Bot,
    uow: UnitOfWork,
    user: UserDTO,
    company: CompanyPolicy,
    now: datetime,
    dashboard_url: str | None = None,
) -> None:
    """Save the language; confirm and rebuild the command menu in the new language."""
    dto = await set_language(uow, user_id=user.id, language=callback_data.value)
    new_tr = Translator(dto.language or callback_data.value)
    await set_user_commands(bot, callback.from_user.id, user.role, new_tr.language, dashboard_url)
    await show(
        callback,
        *settings_screen(
            dto, new_tr, company.default_timezone, now, saved=new_tr("settings.saved.language")
        ),
    )


async def choose_push_time(
    callback: CallbackQuery,
    callback_data: SettingsCb,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """A preset push time."""
    value = f"{callback_data.value[:2]}:{callback_data.value[2:]}"
    await show(callback, *await save_push_time(value, state, uow, user, tr, company, now))


async def type_push_time(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """A typed push time, HH:MM."""
    value = message.text or ""
    text, markup = await save_push_time(value, state, uow, user, tr, company, now)
    await message.answer(text, reply_markup=markup)


async def choose_timezone(
    callback: CallbackQuery,
    callback_data: SettingsCb,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """One of the common zones, by its index."""
    index = int(callback_data.value) if callback_data.value.isdigit() else -1
    zone = COMMON_TIMEZONES[index] if 0 <= index < len(COMMON_TIMEZONES) else ""
    await show(callback, *await save_timezone(zone, state, uow, user, tr, company, now))


async def type_timezone(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """A typed IANA zone name, e.g. Asia/Novosibirsk."""
    value = message.text or ""
    text, markup = await save_timezone(value, state, uow, user, tr, company, now)
    await message.answer(text, reply_markup=markup)


async def choose_mute(
    callback: CallbackQuery,
    callback_data: SettingsCb,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """Pause notifications until a local midnight, or resume them."""
    dto = await set_mute(
        uow,
        user_id=user.id,
        option=callback_data.value,
        now=now,
        default_timezone=company.default_timezone,
    )
    if dto.muted_until is None:
        saved = tr("settings.saved.unmuted")
    else:
        zone = dto.timezone or company.default_timezone
        saved = tr("settings.saved.muted", until=muted_until_text(dto.muted_until, zone, tr))
    await show(callback, *settings_screen(dto, tr, company.default_timezone, now, saved=saved))


async def choose_pushes(
    callback: CallbackQuery,
    callback_data: SettingsCb,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """Notifications on or off."""
    enabled = callback_data.value == "1"
    dto = await set_pushes_enabled(uow, user_id=user.id, enabled=enabled)
    saved = tr("settings.saved.pushes_on" if enabled else "settings.saved.pushes_off")
    await show(callback, *settings_screen(dto, tr, company.default_timezone, now, saved=saved))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(
        leave_question_for_a_command, StateFilter(SettingsForm), F.text.startswith("/")
    )
    router.message.register(show_settings, Command("settings"))
    router.callback_query.register(back_to_menu, SettingsCb.filter(F.action == SettingsAction.MENU))
    router.callback_query.register(
        ask_language, SettingsCb.filter(F.action == SettingsAction.LANGUAGE)
    )
    router.callback_query.register(
        ask_push_time, SettingsCb.filter(F.action == SettingsAction.PUSH_TIME)
    )
    router.callback_query.register(
        ask_timezone, SettingsCb.filter(F.action == SettingsAction.TIMEZONE)
    )
    router.callback_query.register(ask_mute, SettingsCb.filter(F.action == SettingsAction.MUTE))
    router.callback_query.register(
        choose_language, SettingsCb.filter(F.action == SettingsAction.SET_LANGUAGE)
    )
    router.callback_query.register(
        choose_push_time, SettingsCb.filter(F.action == SettingsAction.SET_PUSH_TIME)
    )
    router.message.register(type_push_time, SettingsForm.push_time, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        choose_timezone, SettingsCb.filter(F.action == SettingsAction.SET_TIMEZONE)
    )
    router.message.register(type_timezone, SettingsForm.timezone, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        choose_mute, SettingsCb.filter(F.action == SettingsAction.SET_MUTE)
    )
    router.callback_query.register(
        choose_pushes, SettingsCb.filter(F.action == SettingsAction.SET_PUSHES)
    )
    return router
