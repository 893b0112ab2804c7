"""Keyboards of /invite and /users: pure functions of the user DTOs and the translator."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.db.models import Role
from services.invites import INVITABLE_ROLES
from services.users import ManagedUser, ReassignOptions, UsersPage
from ui.callbacks import InviteCb, UsersAction, UsersCb
from ui.formatting import cut
from ui.i18n import Translator

BUTTON_NAME_LENGTH = 40  # long names make buttons unreadable on a phone


def _short(name: str) -> str:
    return cut(name, BUTTON_NAME_LENGTH)


def _button(
    text: str, action: str, *, user_id: int = 0, target_id: int = 0, page: int = 0
) -> InlineKeyboardButton:
    data = UsersCb(action=action, user_id=user_id, target_id=target_id, page=page)
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def invite_role_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    labels = {Role.MANAGER: "admin.invite.button_manager", Role.HEAD: "admin.invite.button_head"}
    row = [
        InlineKeyboardButton(text=tr(labels[role]), callback_data=InviteCb(role=role.value).pack())
        for role in INVITABLE_ROLES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row])


def users_page_keyboard(page: UsersPage) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                ("⛔ " if not item.user.is_active else "") + _short(item.user.display_name),
                UsersAction.VIEW,
                user_id=item.user.id,
                page=page.page,
            )
        ]
        for item in page.items
    ]
    if page.pages > 1:
        navigation = []
        if page.page > 0:
            navigation.append(_button("‹", UsersAction.PAGE, page=page.page - 1))
        navigation.append(
            _button(f"{page.page + 1}/{page.pages}", UsersAction.PAGE, page=page.page)
        )
        if page.page + 1 < page.pages:
            navigation.append(_button("›", UsersAction.PAGE, page=page.page + 1))
        rows.append(navigation)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def user_card_keyboard(item: ManagedUser, page: int, tr: Translator) -> InlineKeyboardMarkup:
    user_id = item.user.id
    rows: list[list[InlineKeyboardButton]] = []
    if item.can_change_status:
        if item.user.is_active:
            rows.append(
                [
                    _button(
                        tr("admin.users.button_deactivate"),
                        UsersAction.DEACTIVATE,
                        user_id=user_id,
                        page=page,
                    )
                ]
            )
        else:
            rows.append(
                [
                    _button(
                        tr("admin.users.button_activate"),
                        UsersAction.ACTIVATE,
                        user_id=user_id,
                        page=page,
                    )
                ]
            )
    if item.can_reassign:
        rows.append(
            [
                _button(
                    tr("admin.users.button_reassign"),
                    UsersAction.REASSIGN,
                    user_id=user_id,
                    page=page,
                )
            ]
        )
    rows.append([_button(tr("admin.users.button_back"), UsersAction.PAGE, page=page)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_deactivate_keyboard(user_id: int, page: int, tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(
                    tr("admin.users.button_confirm_deactivate"),
                    UsersAction.DEACTIVATE_CONFIRM,
                    user_id=user_id,
                    page=page,
                ),
                _button(
                    tr("admin.users.button_cancel"), UsersAction.VIEW, user_id=user_id, page=page
                ),
            ]
        ]
    )


def reassign_targets_keyboard(
    options: ReassignOptions, page: int, tr: Translator
) -> InlineKeyboardMarkup:
    source_id = options.source.user.id
    rows = [
        [
            _button(
                _short(target.display_name),
                UsersAction.REASSIGN_TARGET,
                user_id=source_id,
                target_id=target.id,
                page=page,
            )
        ]
        for target in options.targets
    ]
    rows.append(
        [_button(tr("admin.users.button_cancel"), UsersAction.VIEW, user_id=source_id, page=page)]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_reassign_keyboard(
    source_id: int, target_id: int, page: int, tr: Translator
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(
                    tr("admin.users.button_confirm_reassign"),
                    UsersAction.REASSIGN_CONFIRM,
                    user_id=source_id,
                    target_id=target_id,
                    page=page,
                ),
                _button(
                    tr("admin.users.button_cancel"),
                    UsersAction.VIEW,
                    user_id=source_id,
                    page=page,
                ),
            ]
        ]
    )


def back_to_list_keyboard(page: int, tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(tr("admin.users.button_back"), UsersAction.PAGE, page=page)]]
    )
