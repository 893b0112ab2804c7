"""Fixtures for end-to-end tests; the bot runs against the local Bot API sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox import Sandbox, SandboxConfig
from tests.e2e.sandbox_harness import SandboxClient


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A fresh sandbox on a free loopback port, with Telegram's limits on."""
    async with Sandbox(SandboxConfig(port=0)) as running:
        yield running


@pytest.fixture
async def sandbox_client(sandbox: Sandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.base_url) as client:
        yield client


# --- The real bot against the sandbox (tests/e2e/bot_harness.py) ---------------------------

from tests.e2e.bot_harness import bot_app, bot_db_url, bot_sandbox, chat, seed  # noqa: E402, F401


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox_limits(limits): LimitsConfig for the bot_sandbox fixture"
    )
