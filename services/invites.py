"""Invite links: a head or an admin lets a new person in with a single-use code."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.db.models import Invite, Role, User
from services.errors import (
    AccessDenied,
    InvalidInviteRole,
    InviteAlreadyUsed,
    InviteExpired,
    InviteNotFound,
)
from services.languages import LANGUAGES
from services.uow import UnitOfWork
from services.users import NAME_MAX_LENGTH, UserDTO, load_active_actor, to_user_dto

INVITE_TTL = timedelta(hours=72)
INVITABLE_ROLES = (Role.MANAGER, Role.HEAD)
INVITING_ROLES = frozenset({Role.HEAD, Role.ADMIN})
# Telegram allows A-Z, a-z, 0-9, _ and - in a /start payload, up to 64 characters;
# token_urlsafe uses exactly that alphabet. 16 bytes of randomness cannot be guessed.
CODE_BYTES = 16
MAX_CODE_LENGTH = 64
FALLBACK_NAME = "Telegram user"


@dataclass(frozen=True)
class InviteDTO:
    code: str
    role: Role
    expires_at: datetime


@dataclass(frozen=True)
class Registration:
    """The outcome of opening an invite link."""

    user: UserDTO
    reactivated: bool  # a deactivated person came back with a new invite
    invited_by: UserDTO | None = None  # who made the invite, to be told it was used


def parse_invite_role(value: str) -> Role:
    try:
        role = Role(value.strip().lower())
    except ValueError:
        raise InvalidInviteRole(value) from None
    if role not in INVITABLE_ROLES:
        raise InvalidInviteRole(value)
    return role


async def invitable_roles(uow: UnitOfWork, *, actor_id: int) -> tuple[Role, ...]:
    """The roles this person may invite; AccessDenied for anyone but heads and admins."""
    async with uow:
        actor = await load_active_actor(uow, actor_id)
        if Role(actor.role) not in INVITING_ROLES:
            raise AccessDenied("invite")
    return INVITABLE_ROLES


async def create_invite(
    uow: UnitOfWork, *, actor_id: int, role: Role | str, now: datetime
) -> InviteDTO:
    """A new single-use invite for `role`, valid for 72 hours; only heads and admins; commits."""
    invited_role = parse_invite_role(role) if isinstance(role, str) else role
    if invited_role not in INVITABLE_ROLES:
        raise InvalidInviteRole(invited_role.value)
    async with uow:
        actor = await load_active_actor(uow, actor_id)
        if Role(actor.role) not in INVITING_ROLES:
            raise AccessDenied("invite")
        invite = Invite(
            code=secrets.token_urlsafe(CODE_BYTES),
            role=invited_role.value,
            created_by=actor.id,
            created_at=now,
            expires_at=now + INVITE_TTL,
        )
        uow.session.add(invite)
        await uow.flush()
        dto = InviteDTO(code=invite.code, role=invited_role, expires_at=invite.expires_at)
        await uow.commit()
    return dto


def _clean_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())[:NAME_MAX_LENGTH]
    return cleaned or FALLBACK_NAME


def _clean_language(language: str | None) -> str | None:
    if not language:
        return None
    short = language.split("-")[0].lower()
    return short if short in LANGUAGES else None


async def redeem_invite(
    uow: UnitOfWork,
    *,
    code: str,
    telegram_id: int,
    name: str | None,
    language: str | None,
    now: datetime,
) -> Registration:
    """Register the person who opened the link with the invite's role; commits.

    `name` and `language` are the person's Telegram name and `language_code`; a language
    the bot does not speak is left unset, so the company default applies. A deactivated
    person with the same Telegram id is brought back with the new role.
    Raises InviteNotFound, InviteExpired or InviteAlreadyUsed.
    """
    code = code.strip()
    if not code or len(code) > MAX_CODE_LENGTH:
        raise InviteNotFound()
    async with uow:
        invite = await uow.session.scalar(select(Invite).where(Invite.code == code))
        if invite is None:
            raise InviteNotFound()
        if invite.used_at is not None:
            raise InviteAlreadyUsed()
        if invite.expires_at <= now:
            raise InviteExpired()
        existing = await uow.session.scalar(select(User).where(User.telegram_id == telegram_id))
        reactivated = existing is not None
        if existing is None:
            user = User(
                telegram_id=telegram_id,
                display_name=_clean_name(name),
                role=invite.role,
                language=_clean_language(language),
            )
            uow.session.add(user)
        else:
            # An active user never gets here (the bot greets them instead), but if one
            # does, the invite still only sets the role it was made for.
            user = existing
            user.role = invite.role
            user.is_active = True
        try:
            await uow.flush()
        except IntegrityError as error:
            # The same person opened a link twice at once; the other attempt won.
            raise InviteAlreadyUsed() from error
        # The conditional update makes the code single-use even when two people open
        # the same link at the same moment: only one of them changes the row.
        claimed = await uow.session.execute(
            update(Invite)
            .where(Invite.id == invite.id, Invite.used_at.is_(None))
            .values(used_at=now, used_by=user.id)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise InviteAlreadyUsed()
        dto = to_user_dto(user)
        inviter = await uow.session.get(User, invite.created_by) if invite.created_by else None
        invited_by = to_user_dto(inviter) if inviter is not None and inviter.is_active else None
        await uow.commit()
    return Registration(user=dto, reactivated=reactivated, invited_by=invited_by)
