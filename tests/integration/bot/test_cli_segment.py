"""`crmbot segment`: recompute from the database, optionally storing new settings first."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from services.db.models import Client, ClientSegment, Transaction
from services.settings_store import load_segmentation_settings
from services.uow import UnitOfWorkFactory


async def _one_small_buyer(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        client = Client(name="ИП Малый", name_normalized="ип малый")
        uow.session.add(client)
        await uow.flush()
        uow.session.add(Transaction(client_id=client.id, date=date(2026, 3, 5), amount=Decimal(10)))
        await uow.commit()
        return client.id


async def test_config_is_stored_and_used(
    db_url: str,
    uow_factory: UnitOfWorkFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client_id = await _one_small_buyer(uow_factory)
    config = tmp_path / "settings.toml"
    config.write_text("[segmentation]\ncadence_days = { AZ = 5 }\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", db_url)

    code = await _run(["segment", "--as-of", "2026-06-30", "--config", str(config)])

    assert code == 0
    printed = capsys.readouterr().out
    assert "Segmentation settings from" in printed
    assert "Segments as of 2026-06-30: 1 clients" in printed
    async with uow_factory() as uow:
        assert (await load_segmentation_settings(uow)).cadence_days["AZ"] == 5
    async with uow_factory() as uow:
        snapshot = (
            await uow.session.execute(
                select(ClientSegment).where(ClientSegment.client_id == client_id)
            )
        ).scalar_one()
    assert (snapshot.segment, snapshot.cadence_days) == ("AZ", 5)


async def test_bad_config_is_one_clear_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("abc_a_share = 2.0\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", db_url)

    code = await _run(["segment", "--config", str(config)])

    assert code == 2
    assert "abc_a_share" in capsys.readouterr().err


async def _run(argv: list[str]) -> int:
    """The CLI runs its own event loop: call it from a worker thread."""
    import asyncio

    return await asyncio.to_thread(main, argv)
