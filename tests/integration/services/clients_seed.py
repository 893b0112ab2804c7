"""Small builders for client, call and list tests: each commits what it writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from services.access import Viewer
from services.db.models import (
    Channel,
    Client,
    ClientPhone,
    Interaction,
    Outcome,
    Role,
    SegmentationRun,
    Transaction,
    User,
)
from services.db.versions import clients_changed
from services.normalize import normalize_name
from services.segment_state import store_states
from services.uow import UnitOfWorkFactory

# Monday 2 March 2026, 12:00 in Moscow
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def viewer(user_id: int, role: Role = Role.MANAGER, **overrides: Any) -> Viewer:
    values: dict[str, Any] = {"timezone": "Europe/Moscow", "language": "ru", **overrides}
    return Viewer(user_id=user_id, role=role, **values)


async def add_user(
    uow_factory: UnitOfWorkFactory, name: str, role: Role = Role.MANAGER, telegram_id: int = 0
) -> int:
    async with uow_factory() as uow:
        user = User(display_name=name, role=role.value, telegram_id=telegram_id or None)
        uow.session.add(user)
        await uow.flush()
        await uow.commit()
        return user.id


async def add_client(
    uow_factory: UnitOfWorkFactory,
    name: str,
    owner_id: int | None,
    *,
    phones: Iterable[str] = (),
    **fields: Any,
) -> int:
    async with uow_factory() as uow:
        client = Client(
            name=name, name_normalized=normalize_name(name), owner_id=owner_id, **fields
        )
        client.phone_numbers.extend(ClientPhone(phone=phone) for phone in phones)
        uow.session.add(client)
        await uow.flush()
        await clients_changed(uow)  # like every writer of clients
        await uow.commit()
        return client.id


async def add_snapshot(
    uow_factory: UnitOfWorkFactory, client_id: int, as_of: date, **fields: Any
) -> None:
    values: dict[str, Any] = {"status": "active", "cadence_days": 30, **fields}
    segment = values.get("segment")
    if segment and "abc" not in values:
        values["abc"], values["xyz"] = segment[0], segment[1]
    async with uow_factory() as uow:
        run = SegmentationRun(as_of=as_of)
        uow.session.add(run)
        await uow.flush()
        await store_states(uow.session, run, pd.DataFrame([{"client_id": client_id, **values}]))
        await uow.commit()


async def add_purchase(
    uow_factory: UnitOfWorkFactory,
    client_id: int,
    day: date,
    amount: str,
    category: str | None = None,
) -> None:
    async with uow_factory() as uow:
        uow.session.add(
            Transaction(client_id=client_id, date=day, amount=Decimal(amount), category=category)
        )
        await uow.commit()


async def add_interaction(
    uow_factory: UnitOfWorkFactory,
    client_id: int,
    user_id: int | None,
    occurred_at: datetime,
    outcome: Outcome = Outcome.REACHED,
    comment: str | None = None,
) -> int:
    async with uow_factory() as uow:
        row = Interaction(
            client_id=client_id,
            user_id=user_id,
            occurred_at=occurred_at,
            created_at=occurred_at,
            channel=Channel.CALL.value,
            outcome=outcome.value,
            comment=comment,
        )
        uow.session.add(row)
        await uow.flush()
        await uow.commit()
        return row.id
