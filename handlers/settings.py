"""/settings: language, push time, time zone, pause and notifications on/off."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.commands import set_user_commands
from bot.config import Settings
from handlers.keyboards.settings import (
    SettingsAction,
    SettingsCb,
    format_hhmm,
    language_keyboard,
    mute_keyboard,
    push_time_keyboard,
    settings_menu_keyboard,
    timezone_keyboard,
)
from handlers.replies import show
from services.clock import Clock
from services.i18n import Translator
from services.uow import UnitOfWork
from services.user_settings import (
    COMMON_TIMEZONES,
    UserSettingsDTO,
    get_user_settings,
    set_language,
    set_mute,
    set_push_time,
    set_pushes_enabled,
    set_timezone,
)
from services.users import UserDTO

DATE_TIME_FORMAT = "%d.%m.%Y %H:%M"


class SettingsForm(StatesGroup):
    push_time = State()
    timezone = State()


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime(DATE_TIME_FORMAT)


def render_settings(
    dto: UserSettingsDTO, tr: Translator, *, language: str, default_timezone: str, now: datetime
) -> str:
    zone = dto.timezone or default_timezone
    push_time = format_hhmm(dto.push_time) if dto.push_time else tr("settings.default_value")
    if not dto.pushes_enabled:
        pushes = tr("settings.pushes_off")
    elif dto.muted_until is not None and dto.is_muted(now):
        pushes = tr("settings.pushes_muted", until=_local(dto.muted_until, zone))
    else:
        pushes = tr("settings.pushes_on")
    timezone = zone if dto.timezone else f"{zone} ({tr('settings.default_value')})"
    return "\n".join(
        [
            tr("settings.title"),
            tr("settings.language_line", value=tr(f"settings.language_name.{language}")),
            tr("settings.push_time_line", value=push_time),
            tr("settings.timezone_line", value=timezone),
            tr("settings.pushes_line", value=pushes),
        ]
    )


def create_router() -> Router:
    router = Router(name=__name__)

    def menu(
        dto: UserSettingsDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
        *,
        saved: str | None = None,
    ) -> tuple[str, InlineKeyboardMarkup]:
        """The settings summary and its buttons, under what was just saved (if anything)."""
        text = render_settings(
            dto,
            tr,
            language=dto.language or tr.language,
            default_timezone=settings.default_timezone,
            now=clock.now(),
        )
        if saved is not None:
            text = f"{saved}\n\n{text}"
        return text, settings_menu_keyboard(dto, tr)

    @router.message(StateFilter(SettingsForm), F.text.startswith("/"))
    async def leave_question_for_a_command(message: Message, state: FSMContext) -> None:
        """Another command while a settings question is open: drop the question, run it."""
        await state.clear()
        raise SkipHandler()

    @router.message(Command("settings"))
    async def show_settings(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """The current settings with a button for each."""
        await state.clear()
        dto = await get_user_settings(uow, user_id=user.id)
        text, markup = menu(dto, tr, settings, clock)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.MENU))
    async def back_to_menu(
        callback: CallbackQuery,
        state: FSMContext,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """« Back: the settings summary again."""
        await state.clear()
        dto = await get_user_settings(uow, user_id=user.id)
        await show(callback, *menu(dto, tr, settings, clock))

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.LANGUAGE))
    async def ask_language(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
        """Offer the languages."""
        await state.clear()
        await show(callback, tr("settings.ask.language"), language_keyboard(tr))

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.PUSH_TIME))
    async def ask_push_time(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
        """Offer preset times; a typed HH:MM is accepted too while this question is open."""
        await state.set_state(SettingsForm.push_time)
        await show(callback, tr("settings.ask.push_time"), push_time_keyboard(tr))

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.TIMEZONE))
    async def ask_timezone(
        callback: CallbackQuery, state: FSMContext, tr: Translator, clock: Clock
    ) -> None:
        """Offer common Russian zones; a typed IANA name is accepted too."""
        await state.set_state(SettingsForm.timezone)
        await show(callback, tr("settings.ask.timezone"), timezone_keyboard(clock.now(), tr))

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.MUTE))
    async def ask_mute(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
        """Offer pause lengths."""
        await state.clear()
        await show(callback, tr("settings.ask.mute"), mute_keyboard(tr))

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.SET_LANGUAGE))
    async def choose_language(
        callback: CallbackQuery,
        callback_data: SettingsCb,
        bot: Bot,
        uow: UnitOfWork,
        user: UserDTO,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """Save the language; confirm and rebuild the command menu in the new language."""
        dto = await set_language(uow, user_id=user.id, language=callback_data.value)
        new_tr = Translator(dto.language or callback_data.value)
        await set_user_commands(bot, callback.from_user.id, user.role, new_tr.language)
        await show(
            callback, *menu(dto, new_tr, settings, clock, saved=new_tr("settings.saved.language"))
        )

    async def save_push_time(
        value: str,
        state: FSMContext,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> tuple[str, InlineKeyboardMarkup]:
        """Save a push time (a preset or typed) and close the question."""
        dto = await set_push_time(uow, user_id=user.id, value=value)
        await state.clear()
        saved = tr("settings.saved.push_time", time=format_hhmm(dto.push_time or time()))
        return menu(dto, tr, settings, clock, saved=saved)

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.SET_PUSH_TIME))
    async def choose_push_time(
        callback: CallbackQuery,
        callback_data: SettingsCb,
        state: FSMContext,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """A preset push time."""
        value = f"{callback_data.value[:2]}:{callback_data.value[2:]}"
        await show(callback, *await save_push_time(value, state, uow, user, tr, settings, clock))

    @router.message(SettingsForm.push_time, F.text, ~F.text.startswith("/"))
    async def type_push_time(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """A typed push time, HH:MM."""
        value = message.text or ""
        text, markup = await save_push_time(value, state, uow, user, tr, settings, clock)
        await message.answer(text, reply_markup=markup)

    async def save_timezone(
        value: str,
        state: FSMContext,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> tuple[str, InlineKeyboardMarkup]:
        """Save a time zone (a common one or typed) and close the question."""
        dto = await set_timezone(uow, user_id=user.id, value=value)
        await state.clear()
        saved = tr("settings.saved.timezone", zone=dto.timezone or settings.default_timezone)
        return menu(dto, tr, settings, clock, saved=saved)

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.SET_TIMEZONE))
    async def choose_timezone(
        callback: CallbackQuery,
        callback_data: SettingsCb,
        state: FSMContext,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """One of the common zones, by its index."""
        index = int(callback_data.value) if callback_data.value.isdigit() else -1
        zone = COMMON_TIMEZONES[index] if 0 <= index < len(COMMON_TIMEZONES) else ""
        await show(callback, *await save_timezone(zone, state, uow, user, tr, settings, clock))

    @router.message(SettingsForm.timezone, F.text, ~F.text.startswith("/"))
    async def type_timezone(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """A typed IANA zone name, e.g. Asia/Novosibirsk."""
        value = message.text or ""
        text, markup = await save_timezone(value, state, uow, user, tr, settings, clock)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.SET_MUTE))
    async def choose_mute(
        callback: CallbackQuery,
        callback_data: SettingsCb,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """Pause notifications until a local midnight, or resume them."""
        dto = await set_mute(
            uow,
            user_id=user.id,
            option=callback_data.value,
            now=clock.now(),
            default_timezone=settings.default_timezone,
        )
        if dto.muted_until is None:
            saved = tr("settings.saved.unmuted")
        else:
            zone = dto.timezone or settings.default_timezone
            saved = tr("settings.saved.muted", until=_local(dto.muted_until, zone))
        await show(callback, *menu(dto, tr, settings, clock, saved=saved))

    @router.callback_query(SettingsCb.filter(F.action == SettingsAction.SET_PUSHES))
    async def choose_pushes(
        callback: CallbackQuery,
        callback_data: SettingsCb,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """Notifications on or off."""
        enabled = callback_data.value == "1"
        dto = await set_pushes_enabled(uow, user_id=user.id, enabled=enabled)
        saved = tr("settings.saved.pushes_on" if enabled else "settings.saved.pushes_off")
        await show(callback, *menu(dto, tr, settings, clock, saved=saved))

    return router
