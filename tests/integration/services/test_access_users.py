"""Managing the team from the bot, on SQLite and PostgreSQL: roles are checked on every call."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.db.models import Client, Role, User
from services.errors import AccessDenied, CannotChangeSelf, InvalidReassignTarget, UserNotFound
from services.uow import UnitOfWorkFactory
from services.users import (
    find_active_user,
    get_managed_user,
    list_users_page,
    prepare_status_change,
    preview_reassign,
    reassign_clients,
    reassign_options,
    set_user_active,
)


async def _add(
    uow_factory: UnitOfWorkFactory,
    telegram_id: int,
    role: Role,
    name: str,
    *,
    clients: int = 0,
    active: bool = True,
) -> int:
    async with uow_factory() as uow:
        user = User(telegram_id=telegram_id, display_name=name, role=role.value, is_active=active)
        uow.session.add(user)
        await uow.flush()
        for number in range(clients):
            uow.session.add(
                Client(
                    name=f"{name} client {number}",
                    name_normalized=f"{name.lower()} client {number}",
                    owner_id=user.id,
                )
            )
        user_id = user.id
        await uow.commit()
    return user_id


async def _owned(uow_factory: UnitOfWorkFactory, user_id: int) -> int:
    async with uow_factory() as uow:
        count = await uow.session.scalar(
            select(func.count(Client.id)).where(Client.owner_id == user_id)
        )
    return int(count or 0)


@pytest.fixture
async def team(uow_factory: UnitOfWorkFactory) -> dict[str, int]:
    return {
        "admin": await _add(uow_factory, 1000, Role.ADMIN, "Админ"),
        "head": await _add(uow_factory, 1001, Role.HEAD, "Ольга"),
        "anna": await _add(uow_factory, 2001, Role.MANAGER, "Анна", clients=3),
        "boris": await _add(uow_factory, 2002, Role.MANAGER, "Борис", clients=1),
        "former": await _add(uow_factory, 2003, Role.MANAGER, "Вера", active=False),
    }


async def test_find_active_user_ignores_strangers_and_the_deactivated(
    uow_factory: UnitOfWorkFactory, team: dict[str, int]
) -> None:
    anna = await find_active_user(uow_factory(), 2001)

    assert anna is not None
    assert (anna.id, anna.display_name, anna.role, anna.is_active) == (
        team["anna"],
        "Анна",
        Role.MANAGER,
        True,
    )
    assert (anna.push_time, anna.pushes_enabled, anna.muted_until) == (None, True, None)
    assert await find_active_user(uow_factory(), 2003) is None
    assert await find_active_user(uow_factory(), 424242) is None


async def test_the_list_puts_active_people_first_with_counts_and_rights(
    uow_factory: UnitOfWorkFactory, team: dict[str, int]
) -> None:
    page = await list_users_page(uow_factory(), actor_id=team["head"])

    assert (page.total, page.pages, page.page) == (5, 1, 0)
    assert [item.user.display_name for item in page.items] == [
        "Админ",
        "Ольга",
        "Анна",
        "Борис",
        "Вера",
    ]
    by_name = {item.user.display_name: item for item in page.items}
    assert by_name["Анна"].client_count == 3 and by_name["Анна"].can_reassign
    assert by_name["Вера"].client_count == 0 and not by_name["Вера"].can_reassign
    # A head manages managers only, and never themselves.
    assert [name for name, item in by_name.items() if item.can_change_status] == [
        "Анна",
        "Борис",
        "Вера",
    ]


async def test_an_admin_may_change_heads_but_not_themselves(
    uow_factory: UnitOfWorkFactory, team: dict[str, int]
) -> None:
    page = await list_users_page(uow_factory(), actor_id=team["admin"])

    rights = {item.user.display_name: item.can_change_status for item in page.items}
    assert rights == {"Админ": False, "Ольга": True, "Анна": True, "Борис": True, "Вера": True}


async def test_pages_are_clamped(uow_factory: UnitOfWorkFactory, team: dict[str, int]) -> None:
    for number in range(10):
        await _add(uow_factory, 3000 + number, Role.MANAGER, f"Менеджер {number:02d}")

    first = await list_users_page(uow_factory(), actor_id=team["head"], page=0, page_size=6)
    last = await list_users_page(uow_factory(), actor_id=team["head"], page=99, page_size=6)
    before = await list_users_page(uow_factory(), actor_id=team["head"], page=-3, page_size=6)

    assert (first.total, first.pages, len(first.items)) == (15, 3, 6)
    assert (last.page, len(last.items)) == (2, 3)
    assert last.items[-1].user.display_name == "Вера"  # the deactivated come last
    assert before.page == 0
    seen = [
        item.user.id
        for number in range(3)
        for item in (
            await list_users_page(uow_factory(), actor_id=team["head"], page=number, page_size=6)
        ).items
    ]
    assert len(seen) == len(set(seen)) == 15


@pytest.mark.parametrize("actor", ["anna", "former"])
async def test_managers_and_the_deactivated_may_do_nothing_here(
    uow_factory: UnitOfWorkFactory, team: dict[str, int], actor: str
) -> None:
    actor_id = team[actor]
    calls = [
        list_users_page(uow_factory(), actor_id=actor_id),
        get_managed_user(uow_factory(), actor_id=actor_id, user_id=team["boris"]),
        prepare_status_change(uow_factory(), actor_id=actor_id, user_id=team["boris"]),
        set_user_active(uow_factory(), actor_id=actor_id, user_id=team["boris"], active=False),
        reassign_options(uow_factory(), actor_id=actor_id, source_id=team["boris"]),
        preview_reassign(
            uow_factory(), actor_id=actor_id, source_id=team["boris"], target_id=team["anna"]
        ),
        reassign_clients(
            uow_factory(), actor_id=actor_id, source_id=team["boris"], target_id=team["anna"]
        ),
    ]
    for call in calls:
        with pytest.raises(AccessDenied):
            await call

    assert await find_active_user(uow_factory(), 2002) is not None
    assert await _owned(uow_factory, team["boris"]) == 1


async def test_deactivate_and_reactivate(
    uow_factory: UnitOfWorkFactory, team: dict[str, int]
) -> None:
    item = await set_user_active(
        uow_factory(), actor_id=team["head"], user_id=team["anna"], active=False
    )

    assert not item.user.is_active and item.client_count == 3
    assert await find_active_user(uow_factory(), 2001) is None
    assert await _owned(uow_factory, team["anna"]) == 3

    item = await set_user_active(
        uow_factory(), actor_id=team["head"], user_id=team["anna"], active=True
    )
    assert item.user.is_active
    assert await find_active_user(uow_factory(), 2001) is not None


async def test_status_rules(uow_factory: UnitOfWorkFactory, team: dict[str, int]) -> None:
    with pytest.raises(CannotChangeSelf):
        await set_user_active(
            uow_factory(), actor_id=team["admin"], user_id=team["admin"], active=False
        )
    with pytest.raises(AccessDenied):
        await set_user_active(
            uow_factory(), actor_id=team["head"], user_id=team["admin"], active=False
        )
    with pytest.raises(CannotChangeSelf):
        await prepare_status_change(uow_factory(), actor_id=team["head"], user_id=team["head"])
    with pytest.raises(UserNotFound):
        await set_user_active(uow_factory(), actor_id=team["head"], user_id=99999, active=False)

    item = await set_user_active(
        uow_factory(), actor_id=team["admin"], user_id=team["head"], active=False
    )
    assert not item.user.is_active
    with pytest.raises(AccessDenied):  # a deactivated head can no longer act
        await list_users_page(uow_factory(), actor_id=team["head"])


async def test_reassign_moves_every_client_to_an_active_manager(
    uow_factory: UnitOfWorkFactory, team: dict[str, int]
) -> None:
    options = await reassign_options(uow_factory(), actor_id=team["head"], source_id=team["anna"])
    assert [target.display_name for target in options.targets] == ["Борис"]
    assert options.source.client_count == 3

    preview = await preview_reassign(
        uow_factory(), actor_id=team["head"], source_id=team["anna"], target_id=team["boris"]
    )
    assert (preview.source.client_count, preview.target.id) == (3, team["boris"])
    assert await _owned(uow_factory, team["anna"]) == 3

    result = await reassign_clients(
        uow_factory(), actor_id=team["head"], source_id=team["anna"], target_id=team["boris"]
    )

    assert (result.moved, result.source.id, result.target.id) == (3, team["anna"], team["boris"])
    assert await _owned(uow_factory, team["anna"]) == 0
    assert await _owned(uow_factory, team["boris"]) == 4


@pytest.mark.parametrize("target", ["anna", "former", "head", "admin", "missing"])
async def test_reassign_refuses_anyone_but_another_active_manager(
    uow_factory: UnitOfWorkFactory, team: dict[str, int], target: str
) -> None:
    target_id = team.get(target, 99999)

    with pytest.raises(InvalidReassignTarget):
        await preview_reassign(
            uow_factory(), actor_id=team["head"], source_id=team["anna"], target_id=target_id
        )
    with pytest.raises(InvalidReassignTarget):
        await reassign_clients(
            uow_factory(), actor_id=team["head"], source_id=team["anna"], target_id=target_id
        )
    assert await _owned(uow_factory, team["anna"]) == 3


async def test_clients_of_a_deactivated_manager_can_still_be_handed_over(
    uow_factory: UnitOfWorkFactory, team: dict[str, int]
) -> None:
    await set_user_active(uow_factory(), actor_id=team["head"], user_id=team["boris"], active=False)

    result = await reassign_clients(
        uow_factory(), actor_id=team["head"], source_id=team["boris"], target_id=team["anna"]
    )

    assert result.moved == 1
    assert await _owned(uow_factory, team["anna"]) == 4
