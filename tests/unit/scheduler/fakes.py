"""Fakes for the scheduler's unit tests: virtual time and a scripted Bot."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiogram.methods import SendMessage


class FakeTime:
    """A monotonic clock that moves only when someone sleeps (one task at a time)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class FakeBot:
    """Records sends; `script[chat_id]` lists exceptions to raise on the next calls there."""

    time: FakeTime
    script: dict[int, list[Exception]] = field(default_factory=dict)
    sent: list[tuple[int, str, float]] = field(default_factory=list)
    calls: int = 0

    def _next(self, chat_id: int) -> None:
        self.calls += 1
        pending = self.script.get(chat_id)
        if pending:
            raise pending.pop(0)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self._next(chat_id)
        self.sent.append((chat_id, text, self.time.now))

    async def send_photo(self, chat_id: int, photo: Any, **kwargs: Any) -> None:
        self._next(chat_id)
        self.sent.append((chat_id, f"<photo {kwargs.get('caption')}>", self.time.now))


def method(chat_id: int = 1) -> SendMessage:
    return SendMessage(chat_id=chat_id, text="x")
