"""The harness other end-to-end tests rely on: start, stop and error reporting."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Dispatcher, Router
from aiogram.types import Message

from sandbox import Sandbox
from tests.e2e.sandbox_harness import SandboxClient, SandboxTimeout, run_polling


def failing_router() -> Router:
    router = Router(name="failing")

    @router.message()
    async def explode(message: Message) -> None:
        raise RuntimeError(f"cannot handle {message.text!r}")

    return router


async def test_runner_fails_the_test_when_a_handler_raised(
    sandbox: Sandbox, sandbox_client: SandboxClient
) -> None:
    dp = Dispatcher()
    dp.include_router(failing_router())

    with pytest.raises(AssertionError, match="cannot handle 'hi'"):
        async with run_polling(dp, sandbox.base_url) as runner:
            await sandbox_client.send(1, "hi")
            for _ in range(500):
                if runner.errors:
                    break
                await asyncio.sleep(0.01)


async def test_runner_can_run_the_same_dispatcher_twice(
    sandbox: Sandbox, sandbox_client: SandboxClient
) -> None:
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo {message.text}")

    dp = Dispatcher()
    dp.include_router(router)
    for attempt in ("first", "second"):
        async with run_polling(dp, sandbox.base_url):
            await sandbox_client.send(1, attempt)
            reply = await sandbox_client.wait_for(1, lambda m: True)
        assert reply["text"] == f"echo {attempt}"


async def test_wait_for_times_out_with_what_the_bot_said(
    sandbox_client: SandboxClient,
) -> None:
    await sandbox_client.send(1, "anyone there?")

    with pytest.raises(SandboxTimeout, match=r"no bot message to user 1 matched within 0\.2s"):
        await sandbox_client.wait_for(1, lambda m: True, timeout=0.2)
    assert await sandbox_client.wait_messages(1, wait=0.1) == []
