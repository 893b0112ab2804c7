"""Bot tokens are redacted from everything the sandbox logs."""

from __future__ import annotations

import logging
import sys

import pytest

from sandbox.logs import TokenRedactingFilter, redact

REAL_LOOKING = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('"POST /bot123:abcSECRET/getMe HTTP/1.1" 200', '"POST /bot123:***/getMe HTTP/1.1" 200'),
        (
            "GET /file/bot42:x-y_z/documents/file_1.xlsx",
            "GET /file/bot42:***/documents/file_1.xlsx",
        ),
        ("/bot123:abc?offset=5", "/bot123:***?offset=5"),
        (f"token {REAL_LOOKING} leaked", "token 123456789:*** leaked"),
        ("at 12:30:45 the bot polled /sandbox/stats", "at 12:30:45 the bot polled /sandbox/stats"),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_the_filter_redacts_message_arguments_and_tracebacks() -> None:
    try:
        raise RuntimeError("cannot reach /bot123:abcSECRET/sendMessage")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Error handling %s",
        ("/bot1:SECRETX/getMe",),
        exc_info,
    )

    assert TokenRedactingFilter().filter(record)
    shown = logging.Formatter().format(record)

    assert "SECRET" not in shown
    assert "Error handling /bot1:***/getMe" in shown
    assert "cannot reach /bot123:***/sendMessage" in shown
