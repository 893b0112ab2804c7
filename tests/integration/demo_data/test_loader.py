"""Loading the demo base through the unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import func, select

from bot.cli import main as cli_main
from demo_data import (
    DemoFrames,
    demo_summary,
    generate_demo,
    load_demo_base,
    wipe_demo_base,
)
from services.db.models import (
    Client,
    ClientPhone,
    Interaction,
    SegmentationRun,
    Transaction,
    User,
)
from services.errors import DemoDataConflict
from services.segment_state import store_states
from services.segmentation import recompute_segments
from services.uow import UnitOfWorkFactory

AS_OF = date(2026, 6, 30)
SEED = 5
CLIENTS = 150


@pytest.fixture(scope="module")
def frames() -> DemoFrames:
    return generate_demo(seed=SEED, as_of=AS_OF, clients=CLIENTS)


async def _count(uow_factory: UnitOfWorkFactory, model: type) -> int:
    async with uow_factory() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model)) or 0


async def test_load_writes_exactly_the_generated_base(
    uow_factory: UnitOfWorkFactory, frames: DemoFrames
) -> None:
    result = await load_demo_base(uow_factory(), as_of=AS_OF, seed=SEED, clients=CLIENTS)
    assert result.loaded and not result.wiped

    tx = frames.transactions
    summary = result.summary
    assert dict(summary.users_by_role) == {"admin": 1, "head": 1, "manager": 5}
    assert summary.clients == CLIENTS
    assert summary.vip_clients == int(frames.clients["is_vip"].sum())
    assert summary.transactions == len(tx)
    assert summary.returns == int((tx["amount_kopecks"] < 0).sum())
    assert summary.first_date == tx["date"].min().date()
    assert summary.last_date == tx["date"].max().date()
    # Exact to the kopeck on both backends.
    assert summary.revenue_total == Decimal(int(tx["amount_kopecks"].sum())).scaleb(-2)
    assert summary.interactions == len(frames.interactions)
    planned = frames.interactions["next_contact_on"].dropna()
    assert summary.follow_ups_planned == int((planned.dt.date >= AS_OF).sum())
    assert summary.follow_ups_overdue == int((planned.dt.date < AS_OF).sum())
    assert await demo_summary(uow_factory(), as_of=AS_OF) == summary
    assert await _count(uow_factory, ClientPhone) == len(frames.client_phones)

    expected = frames.clients.set_index("external_id")
    async with uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(Client, User.telegram_id).join(User, Client.owner_id == User.id)
            )
        ).all()
        calls = (await uow.session.scalars(select(Interaction))).all()
        amounts = (
            await uow.session.scalars(select(Transaction.amount).order_by(Transaction.id))
        ).all()
    assert len(rows) == CLIENTS  # every client has a demo manager as its owner
    for client, owner_telegram_id in rows:
        want = expected.loc[client.external_id]
        assert client.name == want["name"]
        assert client.name_normalized == want["name_normalized"]
        assert owner_telegram_id == want["owner_telegram_id"]
        assert client.tags == list(want["tags"])
        assert client.is_vip == want["is_vip"]
        assert client.next_due_on == want["next_due_on"].date()
        assert client.created_at == want["created_at"].to_pydatetime()
    assert sorted(amounts) == sorted(
        Decimal(int(k)).scaleb(-2) for k in tx["amount_kopecks"].tolist()
    )
    assert sorted(call.occurred_at for call in calls) == sorted(
        frames.interactions["occurred_at"].dt.to_pydatetime()
    )
    assert all(call.occurred_at.tzinfo is not None for call in calls)
    assert sorted(c.next_contact_on for c in calls if c.next_contact_on) == sorted(planned.dt.date)
    timed = [call for call in calls if call.next_contact_at is not None]
    assert len(timed) == frames.interactions["next_contact_at"].notna().sum()


async def test_after_segmentation_each_manager_has_a_workable_today_list(
    uow_factory: UnitOfWorkFactory,
) -> None:
    clients = 1000
    await load_demo_base(uow_factory(), as_of=AS_OF, seed=SEED, clients=clients)
    async with uow_factory() as uow:
        pairs = (await uow.session.execute(select(Client.id, Client.next_due_on))).all()
    generated = {client_id: due for client_id, due in pairs}
    await recompute_segments(uow_factory(), AS_OF)
    async with uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(
                    User.telegram_id, Client.id, Client.next_due_on, Client.name, Client.company
                ).join(User, Client.owner_id == User.id)
            )
        ).all()
    # The generator plans by the same cadence the segmentation applies.
    unchanged = sum(generated[client_id] == due for _, client_id, due, _, _ in rows)
    assert unchanged / clients > 0.95

    book = Counter(owner for owner, *_ in rows)
    due_today = Counter(owner for owner, _, due, _, _ in rows if due <= AS_OF)
    overdue_days = [(AS_OF - due).days for _, _, due, _, _ in rows if due <= AS_OF]
    assert set(book) == {2001, 2002, 2003, 2004, 2005}
    # ~15-40 due for a manager with ~400 clients: a minority, never the whole book.
    for owner, size in book.items():
        assert 0.02 * size <= due_today[owner] <= 0.12 * size, (owner, size, due_today)
    assert sum(days <= 30 for days in overdue_days) / len(overdue_days) > 0.8
    assert 0 in overdue_days and max(overdue_days) > 30

    # The name of a company or an entrepreneur already is the company.
    legal = [
        (name, company)
        for _, _, _, name, company in rows
        if name.startswith(("ООО ", "АО ", "ИП "))
    ]
    assert legal and all(company is None for _, company in legal)
    assert any(company for _, _, _, _, company in rows)  # contact persons keep their employer


async def test_second_run_does_nothing_and_reset_reloads(uow_factory: UnitOfWorkFactory) -> None:
    first = await load_demo_base(uow_factory(), as_of=AS_OF, seed=SEED, clients=40)
    # Real data next to the demo: a colleague, a client and a segmentation of it.
    async with uow_factory() as uow:
        colleague = User(telegram_id=555, display_name="Реальный Менеджер", role="manager")
        real = Client(name="ООО «Настоящий»", name_normalized="ооо настоящий")
        uow.session.add_all([colleague, real])
        await uow.flush()
        demo_client = await uow.session.scalar(select(Client.id).where(Client.id != real.id))
        demo_run = SegmentationRun(as_of=AS_OF)
        real_run = SegmentationRun(as_of=AS_OF)
        uow.session.add_all([demo_run, real_run])
        await uow.flush()
        for run, client_id in ((demo_run, demo_client), (real_run, real.id)):
            states = pd.DataFrame({"client_id": [client_id], "status": ["active"]})
            await store_states(uow.session, run, states.assign(cadence_days=30))
        await uow.commit()
        real_run_id, demo_run_id = real_run.id, demo_run.id

    again = await load_demo_base(uow_factory(), as_of=AS_OF, seed=SEED, clients=40)
    assert not again.loaded
    assert again.summary == first.summary
    assert await _count(uow_factory, Client) == 41

    reloaded = await load_demo_base(uow_factory(), as_of=AS_OF, seed=SEED, clients=40, reset=True)
    assert reloaded.loaded and reloaded.wiped
    assert reloaded.summary == first.summary
    async with uow_factory() as uow:
        names = set((await uow.session.scalars(select(User.display_name))).all())
        runs = set((await uow.session.scalars(select(SegmentationRun.id))).all())
        clients = await uow.session.scalar(select(func.count()).select_from(Client))
    assert "Реальный Менеджер" in names
    assert runs == {real_run_id} and demo_run_id not in runs
    assert clients == 41

    assert await wipe_demo_base(uow_factory()) is True
    assert not (await demo_summary(uow_factory())).present
    assert await _count(uow_factory, Client) == 1  # the real one
    assert await _count(uow_factory, User) == 1  # the real colleague
    assert await wipe_demo_base(uow_factory()) is False


async def test_a_real_user_on_a_demo_id_blocks_the_load_until_reset(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        uow.session.add(User(telegram_id=2003, display_name="Чужой", role="admin"))
        await uow.commit()
    with pytest.raises(DemoDataConflict, match="2003"):
        await load_demo_base(uow_factory(), as_of=AS_OF, seed=SEED, clients=20)
    assert await _count(uow_factory, Client) == 0
    assert await _count(uow_factory, User) == 1
    empty = await demo_summary(uow_factory())
    assert not empty.present and empty.transactions == 0 and empty.first_date is None
    assert empty.revenue_total == Decimal("0.00") and empty.follow_ups_overdue is None

    result = await load_demo_base(uow_factory(), as_of=AS_OF, seed=SEED, clients=20, reset=True)
    assert result.loaded and result.summary.clients == 20
    async with uow_factory() as uow:
        taken_by = await uow.session.scalar(
            select(User.display_name).where(User.telegram_id == 2003)
        )
    assert taken_by == "Дмитрий Козлов"


def test_cli_loads_once_and_prints_the_summary(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    args = ["demo-data", "--clients", "60", "--seed", "7", "--as-of", "2026-06-30"]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "Demo base loaded" in out
    assert "1 admin, 1 head, 5 managers" in out
    assert "clients:      60 (" in out
    assert "2026-06-30" in out and "RUB" in out
    assert "2001 Иван Петров (manager)" in out

    assert cli_main(args) == 0
    assert "already loaded; nothing changed" in capsys.readouterr().out

    assert cli_main([*args, "--reset"]) == 0
    assert "Demo base reloaded" in capsys.readouterr().out

    assert cli_main(["demo-data", "--clients", "0"]) == 2
    assert "--clients" in capsys.readouterr().err
