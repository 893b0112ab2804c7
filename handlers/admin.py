"""/invite and /users for heads and admins; every button press is re-checked by the services."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.commands import reset_user_commands
from bot.config import Settings
from handlers.greeting import role_name
from handlers.keyboards.admin import (
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
from handlers.replies import show
from services.clock import Clock
from services.i18n import Translator
from services.invites import InviteDTO, create_invite, invitable_roles
from services.uow import UnitOfWork
from services.users import (
    ManagedUser,
    UserDTO,
    UsersPage,
    get_managed_user,
    list_users_page,
    prepare_status_change,
    preview_reassign,
    reassign_clients,
    reassign_options,
    set_user_active,
)

DATE_TIME_FORMAT = "%d.%m.%Y %H:%M"


# --- Rendering: pure functions of DTOs -------------------------------------------------------


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def render_invite(invite: InviteDTO, link: str, zone: str, tr: Translator) -> str:
    expires = invite.expires_at.astimezone(ZoneInfo(zone)).strftime(DATE_TIME_FORMAT)
    return tr(
        "admin.invite.created",
        role=role_name(invite.role, tr),
        link=escape(link),
        expires=f"{expires} ({zone})",
    )


def _clients(count: int, tr: Translator) -> str:
    return tr.plural("common.clients", count) if count else tr("admin.users.no_clients")


def render_users_page(page: UsersPage, tr: Translator) -> str:
    lines = [tr("admin.users.title", count=tr.plural("admin.users_count", page.total))]
    if page.pages > 1:
        lines.append(tr("admin.users.page", page=page.page + 1, pages=page.pages))
    lines.append("")
    for number, item in enumerate(page.items, start=page.page * page.page_size + 1):
        key = "admin.users.row" if item.user.is_active else "admin.users.row_inactive"
        row = tr(
            key, n=number, name=escape(item.user.display_name), role=role_name(item.user.role, tr)
        )
        if item.client_count:
            row += f" · {tr.plural('common.clients', item.client_count)}"
        lines.append(row)
    lines += ["", tr("admin.users.hint")]
    return "\n".join(lines)


def render_user_card(item: ManagedUser, tr: Translator) -> str:
    status = "admin.users.status_active" if item.user.is_active else "admin.users.status_inactive"
    return tr(
        "admin.users.card",
        name=escape(item.user.display_name),
        role=role_name(item.user.role, tr),
        status=tr(status),
        clients=_clients(item.client_count, tr),
    )


def _zone(user: UserDTO, settings: Settings) -> str:
    return user.timezone or settings.default_timezone


# --- Handlers ------------------------------------------------------------------------------------


def create_router() -> Router:
    router = Router(name=__name__)

    async def _new_invite(
        bot: Bot,
        uow: UnitOfWork,
        user: UserDTO,
        role: str,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> str:
        """Create a single-use invite (typed role or a button) and say where its link is."""
        invite = await create_invite(uow, actor_id=user.id, role=role, now=clock.now())
        me = await bot.me()
        link = invite_link(me.username or "", invite.code)
        return render_invite(invite, link, _zone(user, settings), tr)

    @router.message(Command("invite"))
    async def invite(
        message: Message,
        command: CommandObject,
        bot: Bot,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """`/invite manager|head`: a single-use link; without a role, buttons to pick one."""
        if not command.args:
            await invitable_roles(uow, actor_id=user.id)
            await message.answer(
                tr("admin.invite.choose_role"), reply_markup=invite_role_keyboard(tr)
            )
            return
        await message.answer(await _new_invite(bot, uow, user, command.args, tr, settings, clock))

    @router.callback_query(InviteCb.filter())
    async def invite_button(
        callback: CallbackQuery,
        callback_data: InviteCb,
        bot: Bot,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """The role picked from the buttons."""
        role = callback_data.role
        await show(callback, await _new_invite(bot, uow, user, role, tr, settings, clock))

    @router.message(Command("users"))
    async def users(message: Message, uow: UnitOfWork, user: UserDTO, tr: Translator) -> None:
        """The team, a page at a time, each person a button."""
        page = await list_users_page(uow, actor_id=user.id)
        await message.answer(render_users_page(page, tr), reply_markup=users_page_keyboard(page))

    @router.callback_query(UsersCb.filter(F.action == UsersAction.PAGE))
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

    @router.callback_query(UsersCb.filter(F.action == UsersAction.VIEW))
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

    @router.callback_query(UsersCb.filter(F.action == UsersAction.DEACTIVATE))
    async def ask_deactivate(
        callback: CallbackQuery,
        callback_data: UsersCb,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
    ) -> None:
        """Ask before taking someone's access away."""
        item = await prepare_status_change(uow, actor_id=user.id, user_id=callback_data.user_id)
        text = tr("admin.users.confirm_deactivate", name=escape(item.user.display_name))
        keyboard = confirm_deactivate_keyboard(item.user.id, callback_data.page, tr)
        await show(callback, text, keyboard)

    @router.callback_query(
        UsersCb.filter(F.action.in_({UsersAction.DEACTIVATE_CONFIRM, UsersAction.ACTIVATE}))
    )
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
        done = tr(
            "admin.users.activated" if active else "admin.users.deactivated",
            name=escape(item.user.display_name),
        )
        text = f"{done}\n\n{render_user_card(item, tr)}"
        await show(callback, text, user_card_keyboard(item, callback_data.page, tr))

    @router.callback_query(UsersCb.filter(F.action == UsersAction.REASSIGN))
    async def choose_target(
        callback: CallbackQuery,
        callback_data: UsersCb,
        uow: UnitOfWork,
        user: UserDTO,
        tr: Translator,
    ) -> None:
        """Whom the clients should go to: one button per active manager."""
        options = await reassign_options(uow, actor_id=user.id, source_id=callback_data.user_id)
        source = options.source
        if options.targets:
            text = tr(
                "admin.users.choose_target",
                name=escape(source.user.display_name),
                clients=_clients(source.client_count, tr),
            )
        else:
            text = tr("admin.users.no_targets")
        await show(callback, text, reassign_targets_keyboard(options, callback_data.page, tr))

    @router.callback_query(UsersCb.filter(F.action == UsersAction.REASSIGN_TARGET))
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
        text = tr(
            "admin.users.confirm_reassign",
            source=escape(preview.source.user.display_name),
            target=escape(preview.target.display_name),
            clients=_clients(preview.source.client_count, tr),
        )
        keyboard = confirm_reassign_keyboard(
            preview.source.user.id, preview.target.id, callback_data.page, tr
        )
        await show(callback, text, keyboard)

    @router.callback_query(UsersCb.filter(F.action == UsersAction.REASSIGN_CONFIRM))
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
        text = tr(
            "admin.users.reassigned",
            moved=tr.plural("admin.clients_moved", result.moved),
            source=escape(result.source.display_name),
            target=escape(result.target.display_name),
        )
        await show(callback, text, back_to_list_keyboard(callback_data.page, tr))

    return router
