"""Progress reporting without knowing who is watching (a terminal bar, a bot message, nobody)."""

from __future__ import annotations

from typing import Protocol


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


class ProgressFactory(Protocol):
    """Start a bar for one stage; `total` is None when the size is not known upfront."""

    def __call__(self, description: str, total: int | None) -> ProgressBar: ...


class _Silent:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def no_progress(description: str, total: int | None) -> ProgressBar:
    return _Silent()
