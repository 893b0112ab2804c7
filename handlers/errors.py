"""One place that turns failures into short, translated replies."""

from __future__ import annotations

import html
import logging
import uuid
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from services.errors import DomainError
from ui.i18n import Translator
from ui.messages import ALERT_LIMIT

log = logging.getLogger(__name__)


async def _reply(event: ErrorEvent, render: Any) -> None:
    """Answer where the user acted: an alert for a button, a message otherwise.

    `render(escape)` builds the text; messages are HTML, alerts are plain text.
    """
    update = event.update
    try:
        if update.callback_query is not None:
            text = render(lambda value: value)
            await update.callback_query.answer(text[:ALERT_LIMIT], show_alert=True)
        elif update.message is not None:
            await update.message.answer(render(lambda value: html.escape(str(value))))
    except TelegramAPIError:
        log.warning("could not deliver the error reply for update %s", update.update_id)


def _translator(event: ErrorEvent, tr: Translator | None) -> Translator:
    return tr or Translator()


async def domain_error(event: ErrorEvent, tr: Translator | None = None) -> None:
    """A rule said no: tell the user why, in their language."""
    error = event.exception
    assert isinstance(error, DomainError)
    translator = _translator(event, tr)
    key = f"errors.{error.code}"

    def render(escape: Any) -> str:
        if not translator.has(key):
            return str(escape(str(error)))
        return translator(key, **{name: escape(v) for name, v in error.params.items()})

    await _reply(event, render)


async def unexpected_error(event: ErrorEvent, tr: Translator | None = None) -> None:
    """Anything else: log the traceback under an id the user can quote."""
    error_id = uuid.uuid4().hex[:8]
    log.error(
        "error %s while handling update %s",
        error_id,
        event.update.update_id,
        exc_info=event.exception,
    )
    text = _translator(event, tr)("errors.unexpected", error_id=error_id)
    await _reply(event, lambda escape: text)


def create_router() -> Router:
    router = Router(name=__name__)
    router.error.register(domain_error, ExceptionTypeFilter(DomainError))
    router.error.register(unexpected_error)
    return router
