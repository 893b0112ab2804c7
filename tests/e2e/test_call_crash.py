"""The bot process SIGKILLed between saving a call and replying, then the manager retries.

A real `crmbot run` process polls the in-process sandbox; with the process-test hook
`CRMBOT_TEST_KILL_AFTER_CALL_COMMIT=1` it dies right after the call is committed. A fresh
process on the same database then gets the same comment again: one call in the database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import KILL_AFTER_CALL_COMMIT
from sandbox import Sandbox
from services.db.engine import make_engine, make_session_factory
from services.db.models import Interaction
from services.uow import UnitOfWorkFactory
from tests.e2e.bot_harness import ANNA, TOKEN, SeedIds, button_data, text_of
from tests.e2e.runtime_harness import bot_process
from tests.e2e.sandbox_harness import SandboxClient

STARTING = 120.0  # a busy machine may take a while to import everything


async def _calls(db_url: str, client_id: int) -> int:
    engine = make_engine(db_url)
    try:
        async with UnitOfWorkFactory(make_session_factory(engine))() as uow:
            query = select(func.count(Interaction.id)).where(Interaction.client_id == client_id)
            return int(await uow.session.scalar(query) or 0)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("bot_db_url", ["sqlite", "postgres"], indirect=True)
async def test_killed_between_commit_and_reply_the_retry_saves_nothing_more(
    tmp_path: Path, bot_db_url: str, seed: SeedIds, bot_sandbox: Sandbox, chat: SandboxClient
) -> None:
    client_id = seed.anna_clients[2]
    before = await _calls(bot_db_url, client_id)
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": bot_sandbox.base_url,
        "DATABASE_URL": bot_db_url,
        "REDIS_URL": "",
        "DEFAULT_TIMEZONE": "Europe/Moscow",
    }
    doomed = bot_process("doomed", tmp_path, **env, **{KILL_AFTER_CALL_COMMIT: "1"})
    survivor = bot_process("survivor", tmp_path, **env)
    doomed.start()
    try:
        await chat.send(ANNA, "/log Лютик")
        prompt = await chat.wait_for(ANNA, lambda m: "Как прошёл звонок?" in text_of(m), STARTING)
        await chat.press(ANNA, prompt["message_id"], button_data(prompt, "Дозвонился"))
        step = await chat.wait_for(ANNA, lambda m: "Когда связаться" in text_of(m), 20)
        await chat.press(ANNA, step["message_id"], button_data(step, "Через неделю"))
        await chat.wait_for(ANNA, lambda m: "Комментарий?" in text_of(m), 20)
        await chat.send(ANNA, "договорились на среду")
        assert await doomed.wait(within=30) == -9  # killed after the commit, before any reply
        assert await _calls(bot_db_url, client_id) == before + 1

        survivor.start()
        await chat.send(ANNA, "договорились на среду")  # no answer came: the manager retries
        already = await chat.wait_for(ANNA, lambda m: "уже сохранён" in text_of(m), STARTING)
        assert "«договорились на среду»" in text_of(already)
        await chat.wait_messages(ANNA, wait=1.0, count=100)  # whatever else comes, comes
        assert await _calls(bot_db_url, client_id) == before + 1
    finally:
        await doomed.stop()
        await survivor.stop()
