"""Per-update context: a unit of work, the current user, their translator and viewer.

Middlewares only prepare what handlers need; they change nothing in the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from services.access import CompanyPolicy
from services.clock import Clock
from services.languages import normalize_language
from services.uow import UnitOfWorkFactory
from services.users import find_active_user
from ui.i18n import Translator


class ContextMiddleware(BaseMiddleware):
    """Injects `uow`, `user` (a UserDTO, None for strangers), `lang`, `tr`, `now` and, for
    registered people, `viewer` (who asks, with the company's visibility rules)."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, company: CompanyPolicy, clock: Clock
    ) -> None:
        self._uow_factory = uow_factory
        self._company = company
        self._clock = clock

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
            telegram_language, self._company.default_language
        )
        data["uow"] = self._uow_factory()
        data["user"] = user
        data["lang"] = language
        data["tr"] = Translator(language)
        data["now"] = self._clock.now()
        if user is not None:
            data["viewer"] = self._company.viewer(
                user_id=user.id,
                role=user.role,
                display_name=user.display_name,
                timezone=user.timezone,
                language=language,
            )
        return await handler(event, data)
