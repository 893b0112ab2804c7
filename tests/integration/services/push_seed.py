"""Builders for the scheduler's tests (pushes, digest, delivery): each commits what it writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pandas as pd

from services.db.models import (
    Channel,
    Client,
    Interaction,
    Outcome,
    Role,
    SegmentationRun,
    Transaction,
    User,
)
from services.segment_state import store_states
from services.uow import UnitOfWorkFactory

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


async def add_user(
    uow_factory: UnitOfWorkFactory,
    name: str,
    telegram_id: int,
    role: Role = Role.MANAGER,
    *,
    timezone: str | None = None,
    push_time: time | None = None,
    **fields: Any,
) -> int:
    async with uow_factory() as uow:
        user = User(
            display_name=name,
            role=role.value,
            telegram_id=telegram_id,
            timezone=timezone,
            push_time=push_time,
            created_at=LONG_AGO,
            **fields,
        )
        uow.session.add(user)
        await uow.flush()
        await uow.commit()
        return user.id


async def add_client(
    uow_factory: UnitOfWorkFactory, name: str, owner_id: int | None, **fields: Any
) -> int:
    async with uow_factory() as uow:
        client = Client(name=name, name_normalized=name.lower(), owner_id=owner_id, **fields)
        uow.session.add(client)
        await uow.flush()
        await uow.commit()
        return client.id


async def add_snapshot(
    uow_factory: UnitOfWorkFactory, client_id: int, as_of: date, **fields: Any
) -> None:
    """One snapshot row (and its run), as the lead's recomputation would write it."""
    values: dict[str, Any] = {
        "status": "active",
        "cadence_days": 30,
        "revenue": Decimal("0"),
        "revenue_at_risk": Decimal("0"),
        **fields,
    }
    if "segment" not in fields and values.get("abc") and values.get("xyz"):
        values["segment"] = f"{values['abc']}{values['xyz']}"
    async with uow_factory() as uow:
        run = SegmentationRun(as_of=as_of)
        uow.session.add(run)
        await uow.flush()
        await store_states(uow.session, run, pd.DataFrame([{"client_id": client_id, **values}]))
        await uow.commit()


async def add_call(
    uow_factory: UnitOfWorkFactory,
    client_id: int,
    user_id: int | None,
    occurred_at: datetime,
    *,
    channel: Channel = Channel.CALL,
    outcome: Outcome = Outcome.REACHED,
    **fields: Any,
) -> int:
    async with uow_factory() as uow:
        interaction = Interaction(
            client_id=client_id,
            user_id=user_id,
            occurred_at=occurred_at,
            channel=channel.value,
            outcome=outcome.value,
            **fields,
        )
        uow.session.add(interaction)
        await uow.flush()
        await uow.commit()
        return interaction.id


async def add_purchase(
    uow_factory: UnitOfWorkFactory, client_id: int, day: date, amount: str
) -> None:
    async with uow_factory() as uow:
        uow.session.add(Transaction(client_id=client_id, date=day, amount=Decimal(amount)))
        await uow.commit()
