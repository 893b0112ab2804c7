"""The bot's routers, in the order they are tried: specific first, catch-alls last."""

from __future__ import annotations

from aiogram import Router

from handlers import errors


def build_routers() -> list[Router]:
    """Fresh routers for one Dispatcher (a Router can be attached only once)."""
    return [
        errors.create_router(),
    ]
