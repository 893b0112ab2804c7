"""Invites on SQLite and PostgreSQL: single use, 72 hours, only heads and admins invite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.db.models import Invite, Role, User
from services.errors import (
    AccessDenied,
    InvalidInviteRole,
    InviteAlreadyUsed,
    InviteExpired,
    InviteNotFound,
)
from services.invites import INVITE_TTL, create_invite, invitable_roles, redeem_invite
from services.uow import UnitOfWorkFactory

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


async def _add(
    uow_factory: UnitOfWorkFactory, telegram_id: int, role: Role, *, active: bool = True
) -> int:
    async with uow_factory() as uow:
        user = User(
            telegram_id=telegram_id,
            display_name=f"User {telegram_id}",
            role=role.value,
            is_active=active,
        )
        uow.session.add(user)
        await uow.flush()
        user_id = user.id
        await uow.commit()
    return user_id


async def test_a_head_creates_a_72_hour_invite(uow_factory: UnitOfWorkFactory) -> None:
    head = await _add(uow_factory, 1001, Role.HEAD)

    invite = await create_invite(uow_factory(), actor_id=head, role="Manager", now=NOW)

    assert invite.role is Role.MANAGER
    assert invite.expires_at == NOW + timedelta(hours=72) == NOW + INVITE_TTL
    assert 16 <= len(invite.code) <= 64
    async with uow_factory() as uow:
        stored = await uow.session.scalar(select(Invite).where(Invite.code == invite.code))
    assert stored is not None
    assert (stored.role, stored.created_by, stored.used_at) == ("manager", head, None)


async def test_codes_are_unique(uow_factory: UnitOfWorkFactory) -> None:
    admin = await _add(uow_factory, 1000, Role.ADMIN)

    codes = {
        (await create_invite(uow_factory(), actor_id=admin, role=Role.HEAD, now=NOW)).code
        for _ in range(20)
    }

    assert len(codes) == 20


@pytest.mark.parametrize("role", ["admin", "boss", ""])
async def test_only_managers_and_heads_can_be_invited(
    uow_factory: UnitOfWorkFactory, role: str
) -> None:
    admin = await _add(uow_factory, 1000, Role.ADMIN)

    with pytest.raises(InvalidInviteRole):
        await create_invite(uow_factory(), actor_id=admin, role=role, now=NOW)


async def test_managers_and_the_deactivated_cannot_invite(uow_factory: UnitOfWorkFactory) -> None:
    manager = await _add(uow_factory, 2001, Role.MANAGER)
    former_head = await _add(uow_factory, 1002, Role.HEAD, active=False)

    for actor in (manager, former_head, 999_999):
        with pytest.raises(AccessDenied):
            await create_invite(uow_factory(), actor_id=actor, role="manager", now=NOW)
        with pytest.raises(AccessDenied):
            await invitable_roles(uow_factory(), actor_id=actor)
    async with uow_factory() as uow:
        assert (await uow.session.scalars(select(Invite))).all() == []


async def test_redeeming_registers_the_person_once(uow_factory: UnitOfWorkFactory) -> None:
    head = await _add(uow_factory, 1001, Role.HEAD)
    invite = await create_invite(uow_factory(), actor_id=head, role="head", now=NOW)

    registration = await redeem_invite(
        uow_factory(),
        code=invite.code,
        telegram_id=3001,
        name="  Пётр   Иванов ",
        language="ru-RU",
        now=NOW + timedelta(hours=1),
    )

    user = registration.user
    assert not registration.reactivated
    assert (user.telegram_id, user.role, user.display_name) == (3001, Role.HEAD, "Пётр Иванов")
    assert (user.language, user.timezone, user.is_active) == ("ru", None, True)
    async with uow_factory() as uow:
        stored = await uow.session.scalar(select(Invite).where(Invite.code == invite.code))
    assert stored is not None
    assert (stored.used_by, stored.used_at) == (user.id, NOW + timedelta(hours=1))

    with pytest.raises(InviteAlreadyUsed):
        await redeem_invite(
            uow_factory(), code=invite.code, telegram_id=3002, name="Иван", language=None, now=NOW
        )


async def test_an_unsupported_language_and_an_empty_name_get_defaults(
    uow_factory: UnitOfWorkFactory,
) -> None:
    head = await _add(uow_factory, 1001, Role.HEAD)
    invite = await create_invite(uow_factory(), actor_id=head, role="manager", now=NOW)

    registration = await redeem_invite(
        uow_factory(), code=invite.code, telegram_id=3001, name="  ", language="de", now=NOW
    )

    assert registration.user.language is None
    assert registration.user.display_name == "Telegram user"


async def test_expiry_is_exact(uow_factory: UnitOfWorkFactory) -> None:
    head = await _add(uow_factory, 1001, Role.HEAD)
    late = await create_invite(uow_factory(), actor_id=head, role="manager", now=NOW)
    on_time = await create_invite(uow_factory(), actor_id=head, role="manager", now=NOW)

    with pytest.raises(InviteExpired):
        await redeem_invite(
            uow_factory(),
            code=late.code,
            telegram_id=3001,
            name="A",
            language=None,
            now=late.expires_at,
        )
    registration = await redeem_invite(
        uow_factory(),
        code=on_time.code,
        telegram_id=3001,
        name="A",
        language=None,
        now=on_time.expires_at - timedelta(seconds=1),
    )
    assert registration.user.telegram_id == 3001


@pytest.mark.parametrize("code", ["nope", "", "x" * 65, "' OR 1=1 --"])
async def test_unknown_codes_are_refused(uow_factory: UnitOfWorkFactory, code: str) -> None:
    with pytest.raises(InviteNotFound):
        await redeem_invite(
            uow_factory(), code=code, telegram_id=3001, name="A", language=None, now=NOW
        )
    async with uow_factory() as uow:
        assert (await uow.session.scalars(select(User))).all() == []


async def test_a_deactivated_person_comes_back_with_the_new_role(
    uow_factory: UnitOfWorkFactory,
) -> None:
    head = await _add(uow_factory, 1001, Role.HEAD)
    former = await _add(uow_factory, 3001, Role.MANAGER, active=False)
    invite = await create_invite(uow_factory(), actor_id=head, role="head", now=NOW)

    registration = await redeem_invite(
        uow_factory(), code=invite.code, telegram_id=3001, name="New Name", language="en", now=NOW
    )

    assert registration.reactivated
    assert (registration.user.id, registration.user.role) == (former, Role.HEAD)
    assert registration.user.is_active
    assert registration.user.display_name == "User 3001"  # the name they had is kept


async def test_two_people_racing_for_one_code_get_one_registration(
    uow_factory: UnitOfWorkFactory,
) -> None:
    head = await _add(uow_factory, 1001, Role.HEAD)
    invite = await create_invite(uow_factory(), actor_id=head, role="manager", now=NOW)

    results = await asyncio.gather(
        *(
            redeem_invite(
                uow_factory(),
                code=invite.code,
                telegram_id=3001 + n,
                name="A",
                language=None,
                now=NOW,
            )
            for n in range(4)
        ),
        return_exceptions=True,
    )

    registered = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, InviteAlreadyUsed)]
    assert (len(registered), len(refused)) == (1, 3)
    async with uow_factory() as uow:
        people = (await uow.session.scalars(select(User).where(User.id != head))).all()
    assert [person.telegram_id for person in people] == [registered[0].user.telegram_id]
