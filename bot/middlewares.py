"""Per-update context: a unit of work, the current user and their translator.

Middlewares only prepare what handlers need; they change nothing in the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from services.i18n import Translator, normalize_language
from services.uow import UnitOfWorkFactory
from services.users import find_active_user


class ContextMiddleware(BaseMiddleware):
    """Injects `uow`, `user` (a UserDTO or None for strangers), `tr` and `lang`."""

    def __init__(self, uow_factory: UnitOfWorkFactory, default_language: str) -> None:
        self._uow_factory = uow_factory
        self._default_language = default_language

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        telegram_user: User | None = data.get("event_from_user")
        user = None
        if telegram_user is not None:
            user = await find_active_user(self._uow_factory(), telegram_user.id)
        telegram_language = telegram_user.language_code if telegram_user else None
        language = (user.language if user else None) or normalize_language(
            telegram_language, self._default_language
        )
        data["uow"] = self._uow_factory()
        data["user"] = user
        data["lang"] = language
        data["tr"] = Translator(language)
        return await handler(event, data)
