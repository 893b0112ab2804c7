"""Per-update `viewer` (who asks, with the company's visibility rules) and `now` for the
client, call and list handlers. Strangers never get here: handlers.access answers them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import TelegramObject

from bot.config import Settings
from services.access import make_viewer
from services.clock import Clock
from services.users import UserDTO


class ViewerMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: UserDTO | None = data.get("user")
        if user is None:
            return None  # not registered: nothing here is for them
        settings: Settings = data["settings"]
        clock: Clock = data["clock"]
        data["viewer"] = make_viewer(
            user_id=user.id,
            role=user.role,
            display_name=user.display_name,
            timezone=user.timezone,
            language=data.get("lang") or user.language,
            visibility=settings.visibility,
            managers_can_set_vip=settings.managers_can_set_vip,
            default_timezone=settings.default_timezone,
            default_language=settings.default_language,
        )
        data["now"] = clock.now()
        return await handler(event, data)


def install(router: Router) -> Router:
    """Give the router's message and button handlers `viewer` and `now`."""
    middleware = ViewerMiddleware()
    router.message.middleware(middleware)
    router.callback_query.middleware(middleware)
    return router
