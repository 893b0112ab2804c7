"""Bot tokens never reach the sandbox's logs.

Every Bot API path carries the token (``/bot123:abcSECRET/getMe``); the access log, aiohttp's
error log and the sandbox's own messages show it as ``/bot123:***/getMe``.
"""

from __future__ import annotations

import logging
import re

from aiohttp.abc import BaseRequest, StreamResponse
from aiohttp.web_log import AccessLogger

# The id stays (it tells bots apart); the secret part goes, wherever it appears.
_TOKEN = re.compile(r"(?<![0-9])([0-9]{1,20}):[A-Za-z0-9_-]{20,}")
_PATH_TOKEN = re.compile(r"(/(?:file/)?bot[0-9]{1,20}):[^/\s?\"']+")
REDACTED_LOGGERS = (
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.client",
    "aiohttp.internal",
    "sandbox",
    "sandbox.bot_api",
    "sandbox.control",
    "sandbox.server",
    "sandbox.state",
    "sandbox.webhook",
    "sandbox.standalone",
)


def redact(text: str) -> str:
    """``/bot123:SECRET/getMe`` → ``/bot123:***/getMe``; bare tokens likewise."""
    return _TOKEN.sub(r"\1:***", _PATH_TOKEN.sub(r"\1:***", text))


class RedactingAccessLogger(AccessLogger):
    """aiohttp's access log (same format and fields) with tokens redacted."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        try:
            values = []
            extra: dict[str, object] = {}
            for key, value in self._format_line(request, response, time):
                value = redact(str(value))
                values.append(value)
                if isinstance(key, str):
                    extra[key] = value
                else:
                    group = extra.setdefault(key[0], {})
                    assert isinstance(group, dict)
                    group[key[1]] = value
            self.logger.info(self._log_format % tuple(values), extra=extra)
        except Exception:
            self.logger.exception("Error in logging")


class TokenRedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback so no token is left in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = TokenRedactingFilter()


def install_token_redaction() -> None:
    """Attach the filter to every logger that may see a request path (idempotent).

    Filters on a logger do not apply to its children, hence the explicit list.
    """
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
