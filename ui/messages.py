"""Messages as Telegram takes them: parts within its length limits, sent one by one.

A screen that does not fit one message (a long digest) becomes several `TextPart`s split at
line boundaries; a chart is a `PhotoPart` with a caption. The scheduler's rate-limited
sender and the handlers send the same parts with `send_part`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, LinkPreviewOptions

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ALERT_LIMIT = 200  # answerCallbackQuery text


@dataclass(frozen=True)
class TextPart:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class PhotoPart:
    png: bytes
    filename: str = "chart.png"
    caption: str | None = None
    reply_markup: InlineKeyboardMarkup | None = None


Part = TextPart | PhotoPart


class BotLike(Protocol):
    """The two Bot API calls the sender makes (aiogram's Bot, or a fake in tests)."""

    @property
    def send_message(self) -> Callable[..., Awaitable[Any]]: ...

    @property
    def send_photo(self) -> Callable[..., Awaitable[Any]]: ...


_OPEN_TAG = re.compile(r"<[^>]*$")
_OPEN_ENTITY = re.compile(r"&[#\w]*$")


def _safe_cut(line: str, limit: int) -> int:
    """Where to cut a too long line: a space if there is one, never inside a tag or entity."""
    head = line[:limit]
    cut = head.rfind(" ")
    if cut <= 0:
        cut = limit
    for pattern in (_OPEN_TAG, _OPEN_ENTITY):
        match = pattern.search(line[:cut])
        if match and match.start() > 0:
            cut = match.start()
    return cut


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split `text` into messages of at most `limit` characters, at line boundaries.

    Lines are kept whole; a single line longer than the limit is cut at a space. The limit is
    counted on the HTML source, which is never shorter than what Telegram counts.
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        pieces = []
        while len(line) > limit:
            cut = _safe_cut(line, limit)
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        pieces.append(line)
        for piece in pieces:
            extra = len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                chunks.append("\n".join(current))
                current, size, extra = [], 0, len(piece)
            current.append(piece)
            size += extra
    if current:
        chunks.append("\n".join(current))
    return [chunk.strip("\n") for chunk in chunks if chunk.strip()]


def fit_caption(caption: str, limit: int = CAPTION_LIMIT) -> str:
    """A caption within Telegram's limit; longer ones are cut at a line with an ellipsis."""
    if len(caption) <= limit:
        return caption
    return split_text(caption, limit - 1)[0] + "…"


def text_parts(text: str, reply_markup: InlineKeyboardMarkup | None = None) -> list[TextPart]:
    """`text` as one or more messages; the keyboard goes with the last one."""
    chunks = split_text(text)
    return [
        TextPart(chunk, reply_markup if index == len(chunks) - 1 else None)
        for index, chunk in enumerate(chunks)
    ]


async def send_part(bot: BotLike, chat_id: int, part: Part, **request: Any) -> Any:
    """Send one part; `request` passes Bot API options such as `request_timeout`."""
    if isinstance(part, PhotoPart):
        return await bot.send_photo(
            chat_id,
            BufferedInputFile(part.png, filename=part.filename),
            caption=fit_caption(part.caption) if part.caption else None,
            reply_markup=part.reply_markup,
            **request,
        )
    if len(part.text) > TEXT_LIMIT:
        raise ValueError("text over Telegram's limit: build parts with text_parts()")
    return await bot.send_message(
        chat_id,
        part.text,
        reply_markup=part.reply_markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        **request,
    )


async def send_parts(bot: BotLike, chat_id: int, parts: Sequence[Part]) -> None:
    """Send the parts of one screen in order (a reply; pushes go through the scheduler)."""
    for part in parts:
        await send_part(bot, chat_id, part)
