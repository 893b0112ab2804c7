"""Texts of /invite and /users: pure functions of the user DTOs and the translator."""

from __future__ import annotations

from html import escape

from services.invites import InviteDTO
from services.users import (
    ManagedUser,
    ReassignOptions,
    ReassignPreview,
    ReassignResult,
    UserDTO,
    UsersPage,
)
from services.zones import resolve_zone
from ui.declension import Case, gendered, in_case
from ui.formatting import format_moment
from ui.i18n import Translator
from ui.texts.greeting import role_name


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def render_invite(invite: InviteDTO, link: str, zone: str, tr: Translator) -> str:
    expires = format_moment(invite.expires_at, resolve_zone(zone), tr)
    return tr(
        "admin.invite.created",
        role=role_name(invite.role, tr),
        link=escape(link),
        expires=f"{expires} ({zone})",
    )


def _clients(count: int, tr: Translator) -> str:
    return tr.plural("common.clients", count) if count else tr("admin.users.no_clients")


def _clients_to_hand(count: int, tr: Translator) -> str:
    """ "Передать 1 клиента", "Кому передать 460 клиентов": the count as an object."""
    return tr.plural("admin.clients_to_hand", count)


def _name(name: str, case: Case, tr: Translator) -> str:
    return escape(in_case(name, case, tr))


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


def confirm_deactivate_text(item: ManagedUser, tr: Translator) -> str:
    name = item.user.display_name
    return gendered(
        tr,
        "admin.users.confirm_deactivate",
        name,
        name_acc=_name(name, Case.ACCUSATIVE, tr),
        name_gen=_name(name, Case.GENITIVE, tr),
    )


def status_changed_text(item: ManagedUser, active: bool, tr: Translator) -> str:
    done = tr(
        "admin.users.activated" if active else "admin.users.deactivated",
        name_gen=_name(item.user.display_name, Case.GENITIVE, tr),
    )
    return f"{done}\n\n{render_user_card(item, tr)}"


def joined_text(newcomer: UserDTO, tr: Translator) -> str:
    """For whoever made the invite: who has just used it."""
    name = newcomer.display_name
    return gendered(
        tr, "admin.invite.joined", name, name=escape(name), role=role_name(newcomer.role, tr)
    )


def choose_target_text(options: ReassignOptions, tr: Translator) -> str:
    if not options.targets:
        return tr("admin.users.no_targets")
    source = options.source
    return tr(
        "admin.users.choose_target",
        name_gen=_name(source.user.display_name, Case.GENITIVE, tr),
        clients=_clients_to_hand(source.client_count, tr),
    )


def confirm_reassign_text(preview: ReassignPreview, tr: Translator) -> str:
    return tr(
        "admin.users.confirm_reassign",
        source_gen=_name(preview.source.user.display_name, Case.GENITIVE, tr),
        target_dat=_name(preview.target.display_name, Case.DATIVE, tr),
        clients=_clients_to_hand(preview.source.client_count, tr),
    )


def reassigned_text(result: ReassignResult, tr: Translator) -> str:
    return tr(
        "admin.users.reassigned",
        moved=tr.plural("admin.clients_moved", result.moved),
        source=escape(result.source.display_name),
        target=escape(result.target.display_name),
    )
