"""A person's own settings persist on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from services.db.models import Role, User
from services.errors import AccessDenied, InvalidPushTime, InvalidValue, UnknownTimezone
from services.uow import UnitOfWorkFactory
from services.user_settings import (
    MuteOption,
    get_user_settings,
    set_language,
    set_mute,
    set_push_time,
    set_pushes_enabled,
    set_timezone,
)
from services.users import find_active_user

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 09:00 in Moscow, 11:00 in Yekaterinburg


@pytest.fixture
async def anna(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        user = User(telegram_id=2001, display_name="Анна", role=Role.MANAGER.value)
        uow.session.add(user)
        await uow.flush()
        user_id = user.id
        await uow.commit()
    return user_id


async def _stored(uow_factory: UnitOfWorkFactory, user_id: int) -> User:
    async with uow_factory() as uow:
        user = await uow.session.scalar(select(User).where(User.id == user_id))
    assert user is not None
    return user


async def test_defaults_are_unset(uow_factory: UnitOfWorkFactory, anna: int) -> None:
    dto = await get_user_settings(uow_factory(), user_id=anna)

    assert (dto.language, dto.timezone, dto.push_time) == (None, None, None)
    assert dto.pushes_enabled and dto.muted_until is None and not dto.is_muted(NOW)


async def test_every_setting_is_persisted(uow_factory: UnitOfWorkFactory, anna: int) -> None:
    await set_language(uow_factory(), user_id=anna, language="EN")
    await set_push_time(uow_factory(), user_id=anna, value="7:05")
    await set_timezone(uow_factory(), user_id=anna, value="asia/yekaterinburg")
    await set_pushes_enabled(uow_factory(), user_id=anna, enabled=False)

    stored = await _stored(uow_factory, anna)
    assert (stored.language, stored.push_time, stored.timezone, stored.pushes_enabled) == (
        "en",
        time(7, 5),
        "Asia/Yekaterinburg",
        False,
    )
    dto = await find_active_user(uow_factory(), 2001)
    assert dto is not None and dto.push_time == time(7, 5) and not dto.pushes_enabled


async def test_a_preset_time_object_is_accepted(uow_factory: UnitOfWorkFactory, anna: int) -> None:
    dto = await set_push_time(uow_factory(), user_id=anna, value=time(9, 0, 30))

    assert dto.push_time == time(9, 0)


async def test_mute_uses_the_persons_own_zone(uow_factory: UnitOfWorkFactory, anna: int) -> None:
    await set_timezone(uow_factory(), user_id=anna, value="Asia/Yekaterinburg")

    dto = await set_mute(
        uow_factory(), user_id=anna, option="week", now=NOW, default_timezone="Europe/Moscow"
    )

    # Midnight of 9 March in Yekaterinburg (UTC+5).
    assert dto.muted_until == datetime(2026, 3, 8, 19, 0, tzinfo=UTC)
    assert (await _stored(uow_factory, anna)).muted_until == dto.muted_until
    assert dto.is_muted(NOW)

    dto = await set_mute(
        uow_factory(), user_id=anna, option=MuteOption.OFF, now=NOW, default_timezone="UTC"
    )
    assert dto.muted_until is None
    assert (await _stored(uow_factory, anna)).muted_until is None


async def test_mute_falls_back_to_the_company_zone(
    uow_factory: UnitOfWorkFactory, anna: int
) -> None:
    dto = await set_mute(
        uow_factory(), user_id=anna, option="3d", now=NOW, default_timezone="Europe/Moscow"
    )

    assert dto.muted_until == datetime(2026, 3, 4, 21, 0, tzinfo=UTC)


async def test_bad_values_change_nothing(uow_factory: UnitOfWorkFactory, anna: int) -> None:
    with pytest.raises(InvalidValue):
        await set_language(uow_factory(), user_id=anna, language="de")
    with pytest.raises(InvalidPushTime):
        await set_push_time(uow_factory(), user_id=anna, value="24:00")
    with pytest.raises(UnknownTimezone):
        await set_timezone(uow_factory(), user_id=anna, value="Europe/Atlantis")
    with pytest.raises(InvalidValue):
        await set_mute(
            uow_factory(), user_id=anna, option="forever", now=NOW, default_timezone="UTC"
        )

    stored = await _stored(uow_factory, anna)
    assert (stored.language, stored.push_time, stored.timezone, stored.muted_until) == (
        None,
        None,
        None,
        None,
    )


async def test_a_deactivated_person_cannot_change_settings(
    uow_factory: UnitOfWorkFactory, anna: int
) -> None:
    async with uow_factory() as uow:
        user = await uow.session.get(User, anna)
        assert user is not None
        user.is_active = False
        await uow.commit()

    with pytest.raises(AccessDenied):
        await set_language(uow_factory(), user_id=anna, language="en")
