from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.cli import main as cli_main
from services.db.models import Role, User
from services.errors import DomainError, InvalidValue, UserAlreadyExists
from services.uow import UnitOfWorkFactory
from services.users import UserDTO, add_user, list_users


async def _count_users(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        return await uow.session.scalar(select(func.count()).select_from(User)) or 0


async def test_add_user_stores_and_returns_a_frozen_dto(uow_factory: UnitOfWorkFactory) -> None:
    dto = await add_user(
        uow_factory(),
        777,
        "head",
        "  Ольга   Власова ",
        timezone="Asia/Yekaterinburg",
        language="EN",
        daily_call_plan=12,
    )
    assert isinstance(dto, UserDTO)
    assert (dto.telegram_id, dto.role, dto.display_name) == (777, Role.HEAD, "Ольга Власова")
    assert (dto.timezone, dto.language, dto.daily_call_plan) == ("Asia/Yekaterinburg", "en", 12)
    with pytest.raises(AttributeError):
        dto.role = Role.ADMIN  # type: ignore[misc]

    async with uow_factory() as uow:
        stored = (await uow.session.scalars(select(User))).one()
    assert stored.id == dto.id
    assert (stored.telegram_id, stored.role, stored.timezone) == (777, "head", "Asia/Yekaterinburg")

    # Left out, time zone and language mean "the company's"; the plan takes the default.
    plain = await add_user(uow_factory(), 5, Role.MANAGER, "Иван Петров")
    assert (plain.timezone, plain.language, plain.daily_call_plan, plain.is_active) == (
        None,
        None,
        20,
        True,
    )


async def test_duplicate_telegram_id_is_a_domain_error(uow_factory: UnitOfWorkFactory) -> None:
    await add_user(uow_factory(), 42, "manager", "Анна")
    with pytest.raises(UserAlreadyExists) as raised:
        await add_user(uow_factory(), 42, "admin", "Другая Анна")
    assert isinstance(raised.value, DomainError)
    assert raised.value.code == "user_already_exists"
    assert raised.value.params == {"telegram_id": 42}
    assert "42" in str(raised.value)
    assert await _count_users(uow_factory) == 1


BAD_VALUES: list[tuple[dict[str, object], str]] = [
    ({"role": "boss"}, "role"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../etc/passwd"}, "timezone"),
    ({"language": "de"}, "language"),
    ({"name": "   "}, "name"),
    ({"daily_call_plan": -1}, "daily_call_plan"),
    ({"telegram_id": 0}, "telegram_id"),
]


async def test_bad_values_are_rejected_before_writing(uow_factory: UnitOfWorkFactory) -> None:
    # One database for all cases: a fresh PostgreSQL database per case costs a second.
    for kwargs, field in BAD_VALUES:
        args: dict[str, object] = {"telegram_id": 9, "role": "manager", "name": "Иван"} | kwargs
        with pytest.raises(InvalidValue) as raised:
            await add_user(uow_factory(), **args)  # type: ignore[arg-type]
        assert raised.value.field == field, kwargs
    assert await _count_users(uow_factory) == 0


async def test_list_users_orders_admins_heads_managers(uow_factory: UnitOfWorkFactory) -> None:
    for telegram_id, role, name in [
        (3, "manager", "Борис"),
        (4, "manager", "Алла"),
        (2, "head", "Яна"),
        (1, "admin", "Юрий"),
    ]:
        await add_user(uow_factory(), telegram_id, role, name)
    users = await list_users(uow_factory())
    assert [u.telegram_id for u in users] == [1, 2, 4, 3]


# The command line, end to end: argument parsing, settings from the environment,
# the schema check and the service, against the same two backends.


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def test_cli_users_add_and_list(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(
        [
            "users",
            "add",
            "--telegram-id",
            "123456789",
            "--role",
            "manager",
            "--name",
            "Анна Смирнова",
            "--timezone",
            "Asia/Yekaterinburg",
            "--plan",
            "25",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Анна Смирнова" in out and "123456789" in out

    assert cli_main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "Анна Смирнова" in out
    assert "Asia/Yekaterinburg" in out
    assert "25" in out


def test_cli_duplicate_and_bad_values_fail_with_one_line(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["users", "add", "--telegram-id", "55", "--name", "Иван"]
    assert cli_main([*base, "--role", "admin"]) == 0
    capsys.readouterr()

    assert cli_main([*base, "--role", "admin"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "already exists" in err and "55" in err

    assert cli_main(["users", "add", "--telegram-id", "56", "--name", "Х", "--role", "boss"]) == 2
    err = capsys.readouterr().err
    assert "role" in err and "manager" in err

    bad_tz = ["users", "add", "--telegram-id", "57", "--name", "Х", "--role", "head"]
    assert cli_main([*bad_tz, "--timezone", "Moscow"]) == 2
    assert "time zone" in capsys.readouterr().err


def test_cli_needs_a_migrated_database(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    assert cli_main(["users", "list"]) == 2
    assert "crmbot migrate" in capsys.readouterr().err
