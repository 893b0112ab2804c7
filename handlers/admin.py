"""/invite and /users for heads and admins; every button press is re-checked by the services."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from services.access import CompanyPolicy
from services.invites import create_invite, invitable_roles
from services.uow import UnitOfWork
from services.users import (
    UserDTO,
    get_managed_user,
    list_users_page,
    prepare_status_change,
    preview_reassign,
    reassign_clients,
    reassign_options,
    set_user_active,
)
from ui.i18n import Translator
from ui.keyboards.admin import (
    InviteCb,
    UsersAction,
    UsersCb,
    back_to_list_keyboard,
    confirm_deactivate_keyboard,
    confirm_reassign_keyboard,
    invite_role_keyboard,
    reassign_targets_keyboard,
    user_card_keyboard,
    users_page_keyboard,
)
from ui.menus import reset_user_commands
from ui.replies import show
from ui.texts.admin import (
    choose_target_text,
    confirm_deactivate_text,
    confirm_reassign_text,
    invite_link,
    reassigned_text,
    render_invite,
    render_user_card,
    render_users_page,
    status_changed_text,
)

DATE_TIME_FORMAT = "%d.%m.%Y %H:%M"


async def _new_invite(
    bot: Bot,
    uow: UnitOfWork,
    user: UserDTO,
    role: str,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> str:
    """Create a single-use invite (typed role or a button) and say where its link is."""
    invite = await create_invite(uow, actor_id=user.id, role=role, now=now)
    me = await bot.me()
    link = invite_link(me.username or "", invite.code)
    return render_invite(invite, link, user.timezone or company.default_timezone, tr)


async def invite(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """`/invite manager|head`: a single-use link; without a role, buttons to pick one."""
    if not command.args:
        await invitable_roles(uow, actor_id=user.id)
        await message.answer(tr("admin.invite.choose_role"), reply_markup=invite_role_keyboard(tr))
        return
    await message.answer(await _new_invite(bot, uow, user, command.args, tr, company, now))


async def invite_button(
    callback: CallbackQuery,
    callback_data: InviteCb,
    bot: Bot,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
) -> None:
    """The role picked from the buttons."""
    role = callback_data.role
    await show(callback, await _new_invite(bot, uow, user, role, tr, company, now))


async def users(message: Message, uow: UnitOfWork, user: UserDTO, tr: Translator) -> None:
    """The team, a page at a time, each person a button."""
    page = await list_users_page(uow, actor_id=user.id)
    await message.answer(render_users_page(page, tr), reply_markup=users_page_keyboard(page))


async def users_page(
    callback: CallbackQuery,
    callback_data: UsersCb,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
) -> None:
    """Another page of the team (or back to the list)."""
    page = await list_users_page(uow, actor_id=user.id, page=callback_data.page)
    await show(callback, render_users_page(page, tr), users_page_keyboard(page))


async def user_card(
    callback: CallbackQuery,
    callback_data: UsersCb,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
) -> None:
    """One person: role, status, clients, and what can be done."""
    item = await get_managed_user(uow, actor_id=user.id, user_id=callback_data.user_id)
    keyboard = user_card_keyboard(item, callback_data.page, tr)
    await show(callback, render_user_card(item, tr), keyboard)


async def ask_deactivate(
    callback: CallbackQuery,
    callback_data: UsersCb,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
) -> None:
    """Ask before taking someone's access away."""
    item = await prepare_status_change(uow, actor_id=user.id, user_id=callback_data.user_id)
    text = confirm_deactivate_text(item, tr)
    keyboard = confirm_deactivate_keyboard(item.user.id, callback_data.page, tr)
    await show(callback, text, keyboard)


async def change_status(
    callback: CallbackQuery,
    callback_data: UsersCb,
    bot: Bot,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
) -> None:
    """Deactivate (confirmed) or give access back."""
    active = callback_data.action == UsersAction.ACTIVATE
    item = await set_user_active(
        uow, actor_id=user.id, user_id=callback_data.user_id, active=active
    )
    if not active and item.user.telegram_id is not None:
        await reset_user_commands(bot, item.user.telegram_id)
    text = status_changed_text(item, active, tr)
    await show(callback, text, user_card_keyboard(item, callback_data.page, tr))


async def choose_target(
    callback: CallbackQuery,
    callback_data: UsersCb,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
) -> None:
    """Whom the clients should go to: one button per active manager."""
    options = await reassign_options(uow, actor_id=user.id, source_id=callback_data.user_id)
    keyboard = reassign_targets_keyboard(options, callback_data.page, tr)
    await show(callback, choose_target_text(options, tr), keyboard)


async def ask_reassign(
    callback: CallbackQuery,
    callback_data: UsersCb,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
) -> None:
    """Ask before moving the clients."""
    preview = await preview_reassign(
        uow,
        actor_id=user.id,
        source_id=callback_data.user_id,
        target_id=callback_data.target_id,
    )
    keyboard = confirm_reassign_keyboard(
        preview.source.user.id, preview.target.id, callback_data.page, tr
    )
    await show(callback, confirm_reassign_text(preview, tr), keyboard)


async def reassign(
    callback: CallbackQuery,
    callback_data: UsersCb,
    uow: UnitOfWork,
    user: UserDTO,
    tr: Translator,
) -> None:
    """Move every client of one person to the chosen manager."""
    result = await reassign_clients(
        uow,
        actor_id=user.id,
        source_id=callback_data.user_id,
        target_id=callback_data.target_id,
    )
    await show(callback, reassigned_text(result, tr), back_to_list_keyboard(callback_data.page, tr))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(invite, Command("invite"))
    router.callback_query.register(invite_button, InviteCb.filter())
    router.message.register(users, Command("users"))
    router.callback_query.register(users_page, UsersCb.filter(F.action == UsersAction.PAGE))
    router.callback_query.register(user_card, UsersCb.filter(F.action == UsersAction.VIEW))
    router.callback_query.register(
        ask_deactivate, UsersCb.filter(F.action == UsersAction.DEACTIVATE)
    )
    router.callback_query.register(
        change_status,
        UsersCb.filter(F.action.in_({UsersAction.DEACTIVATE_CONFIRM, UsersAction.ACTIVATE})),
    )
    router.callback_query.register(choose_target, UsersCb.filter(F.action == UsersAction.REASSIGN))
    router.callback_query.register(
        ask_reassign, UsersCb.filter(F.action == UsersAction.REASSIGN_TARGET)
    )
    router.callback_query.register(
        reassign, UsersCb.filter(F.action == UsersAction.REASSIGN_CONFIRM)
    )
    return router
