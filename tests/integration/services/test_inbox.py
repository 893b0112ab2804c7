"""The watched inbox: each file imported once across two pickers, moved aside with a report."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from scheduler.inbox import watch_inbox
from scheduler.jobs import JobContext
from scheduler.sender import Sender
from services.clock import FixedClock
from services.db.engine import make_engine, make_session_factory
from services.db.models import ImportBatch, InboxFile, Transaction
from services.import_desk import ImportDesk
from services.inbox import InboxWatcher, process_inbox
from services.uow import UnitOfWorkFactory
from tests.e2e.bot_harness import ADMIN, HEAD, seed_small_base
from tests.unit.scheduler.fakes import FakeBot, FakeTime

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
SEEDED_SALES = 15
SALES = (
    "Отчёт по продажам\n"
    "\n"
    "Контрагент;ИНН;Дата;Сумма;Номер документа\n"
    "ООО «Ромашка»;7701234567;10.02.2026;15000,00;ВХ-1\n"
    "ООО «Новый»;;11.02.2026;2500,50;ВХ-2\n"
    "ИП Васильев;500100732259;12.02.2026;12345678901234567890;ВХ-3\n"
).encode("cp1251")


async def _count(uow_factory: UnitOfWorkFactory, model: object) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


async def test_two_pickers_import_a_file_once_and_move_it_to_done(
    db_url: str, uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await seed_small_base(uow_factory)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "sales.csv.part").write_bytes(SALES)  # still being written: never read
    desk = ImportDesk(tmp_path / "uploads")
    # a second scheduler process: its own engine, its own view of the folder
    other_engine = make_engine(db_url)
    other = UnitOfWorkFactory(make_session_factory(other_engine))
    try:
        first, second = InboxWatcher(inbox), InboxWatcher(inbox)
        assert first.ready() == [] and second.ready() == []
        assert first.ready() == []  # a .part file is not a candidate
        (inbox / "sales.csv.part").rename(inbox / "sales.csv")
        # the first scan sees the size, the next one finds it unchanged
        assert first.ready() == [] and second.ready() == []

        async def pick(factory: UnitOfWorkFactory, watcher: InboxWatcher) -> list[object]:
            return list(await process_inbox(factory, desk, watcher, today=NOW.date(), now=NOW))

        results = await asyncio.gather(pick(uow_factory, first), pick(other, second))
    finally:
        await other_engine.dispose()

    taken = [result for picker in results for result in picker]
    assert len(taken) == 1
    assert await _count(uow_factory, Transaction) == SEEDED_SALES + 2
    assert await _count(uow_factory, ImportBatch) == 1
    assert await _count(uow_factory, InboxFile) == 1
    assert list(inbox.glob("*.csv")) == []
    (done,) = (inbox / "done").glob("*-sales.csv")
    report = done.with_name(done.name + ".report.txt").read_text(encoding="utf-8")
    assert "imported: 2" in report and "rejected: 1" in report
    rejected = done.with_name(done.name + ".report.rejected.csv").read_text(encoding="utf-8-sig")
    assert "amount_too_large" in rejected

    # the same content dropped again is set aside without importing
    (inbox / "again.csv").write_bytes(SALES)
    watcher = InboxWatcher(inbox)
    watcher.ready()
    (again,) = await process_inbox(uow_factory, desk, watcher, today=NOW.date(), now=NOW)
    assert again.duplicate
    assert await _count(uow_factory, Transaction) == SEEDED_SALES + 2
    assert await _count(uow_factory, InboxFile) == 1
    assert len(list((inbox / "done").glob("*-again.csv"))) == 1


async def test_the_job_tells_admins_and_heads_and_bad_files_go_to_failed(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await seed_small_base(uow_factory)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "sales.csv").write_bytes(SALES)
    (inbox / "broken.csv").write_bytes("Что-то;Другое\n1;2\n".encode())
    time = FakeTime()
    bot = FakeBot(time)
    ctx = JobContext(
        uow_factory=uow_factory,
        clock=FixedClock(NOW),
        sender=Sender(bot, sleep=time.sleep, monotonic=time.monotonic),  # type: ignore[arg-type]
        default_timezone="Europe/Moscow",
    )
    watcher = InboxWatcher(inbox)
    desk = ImportDesk(tmp_path / "uploads")
    assert await watch_inbox(ctx, watcher, desk) == []  # first sight: wait for a stable size
    results = await watch_inbox(ctx, watcher, desk)
    assert {result.file_name: result.ok for result in results} == {
        "broken.csv": False,
        "sales.csv": True,
    }
    assert len(list((inbox / "failed").glob("*-broken.csv"))) == 1
    to_admin = [text for chat, text, _ in bot.sent if chat == ADMIN]
    assert any("sales.csv" in text and "импортирован" in text for text in to_admin)
    assert any("broken.csv" in text and "не импортирован" in text for text in to_admin)
    assert any("После импорта" in text for chat, text, _ in bot.sent if chat == HEAD)
    assert await watch_inbox(ctx, watcher, desk) == []  # nothing new: nothing said

    # a file that failed is tried again when dropped again (the fault may have been ours)
    (inbox / "broken.csv").write_bytes("Что-то;Другое\n1;2\n".encode())
    assert await watch_inbox(ctx, watcher, desk) == []
    (retried,) = await watch_inbox(ctx, watcher, desk)
    assert (retried.file_name, retried.ok, retried.duplicate) == ("broken.csv", False, False)
    assert len(list((inbox / "failed").glob("*-broken.csv"))) == 2
