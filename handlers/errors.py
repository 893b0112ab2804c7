"""One place that turns failures into short, translated replies."""

from __future__ import annotations

import logging
import uuid

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from services.errors import DomainError
from services.i18n import Translator

log = logging.getLogger(__name__)


async def _reply(event: ErrorEvent, text: str) -> None:
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
    elif update.message is not None:
        await update.message.answer(text)


def _translator(event: ErrorEvent, tr: Translator | None) -> Translator:
    return tr or Translator()


def create_router() -> Router:
    router = Router(name=__name__)

    @router.error(ExceptionTypeFilter(DomainError))
    async def domain_error(event: ErrorEvent, tr: Translator | None = None) -> None:
        """A rule said no: tell the user why, in their language."""
        error = event.exception
        assert isinstance(error, DomainError)
        translator = _translator(event, tr)
        key = f"errors.{error.code}"
        text = translator(key, **error.params) if translator.has(key) else str(error)
        await _reply(event, text)

    @router.error()
    async def unexpected_error(event: ErrorEvent, tr: Translator | None = None) -> None:
        """Anything else: log the traceback under an id the user can quote."""
        error_id = uuid.uuid4().hex[:8]
        log.error(
            "error %s while handling update %s",
            error_id,
            event.update.update_id,
            exc_info=event.exception,
        )
        await _reply(event, _translator(event, tr)("errors.unexpected", error_id=error_id))

    return router
