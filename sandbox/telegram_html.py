"""Telegram's ``parse_mode=HTML``: the plain text and entities a message ends up with.

Telegram rejects markup it does not support (``<br>``, an unescaped ``<``, an unclosed tag) with
``Bad Request: can't parse entities: ...``; reproducing that catches the classic bug of a client
name with ``<`` or ``&`` pasted into a message unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_OTHER_TAGS = {"a", "span", "tg-emoji"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTRIBUTE = re.compile(
    r"""\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(error)`` is Telegram's wording."""


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int
    byte_offset: int
    language: str | None = None


def utf16_length(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and the message entities of ``text`` in Telegram HTML."""
    plain: list[str] = []
    offset = 0  # UTF-16 position in the plain text
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    position = 0
    length = len(text)

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    while position < length:
        char = text[position]
        if char == "<":
            if text.startswith("</", position):
                position = _close_tag(text, position, stack, entities, offset, byte_offset)
            else:
                position, tag = _open_tag(text, position, offset, byte_offset)
                stack.append(tag)
            continue
        if char == "&":
            match = _CHAR_REF.match(text, position)
            decoded = _decode_reference(match.group(1)) if match else None
            if match and decoded is not None:
                plain.append(decoded)
                offset += utf16_length(decoded)
                position = match.end()
                continue
        plain.append(char)
        offset += utf16_length(char)
        position += 1

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(plain), entities


def _open_tag(
    text: str, position: int, offset: int, byte_offset: Callable[[int], int]
) -> tuple[int, _OpenTag]:
    start = position
    match = _TAG_NAME.match(text, position + 1)
    name = match.group(0).lower() if match else ""
    if not name or (name not in _SIMPLE_TAGS and name not in _OTHER_TAGS):
        found = match.group(0) if match else text[position + 1 : position + 2]
        raise EntityParseError(
            f'Unsupported start tag "{found}" at byte offset {byte_offset(start)}'
        )
    position = match.end() if match else position + 1
    attrs: dict[str, str] = {}
    while True:
        closing = text.find(">", position)
        if closing < 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(start)}")
        rest = text[position:closing].strip()
        if not rest or rest == "/":
            position = closing + 1
            break
        attribute = _ATTRIBUTE.match(text, position)
        if attribute is None or attribute.end() == position:
            raise EntityParseError(
                f"Expected equal sign in declaration of an attribute of a tag at byte offset "
                f"{byte_offset(position)}"
            )
        value = next((group for group in attribute.groups()[1:] if group is not None), "")
        attrs[attribute.group(1).lower()] = _unescape(value)
        position = attribute.end()
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(start)}'
        )
    return position, _OpenTag(name=name, attrs=attrs, offset=offset, byte_offset=byte_offset(start))


def _close_tag(
    text: str,
    position: int,
    stack: list[_OpenTag],
    entities: list[dict[str, Any]],
    offset: int,
    byte_offset: Callable[[int], int],
) -> int:
    start = position
    closing = text.find(">", position)
    if closing < 0:
        raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(start)}")
    name = text[position + 2 : closing].strip().lower()
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(start)}")
    tag = stack.pop()
    if name != tag.name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {byte_offset(start)}, "
            f'expected "</{tag.name}>", found "</{name}>"'
        )
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-python"> is one pre entity with a language, as in Telegram.
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].language = language.removeprefix("language-")
            return closing + 1
    entity = _entity_for(tag, offset)
    if entity is not None:
        entities.append(entity)
    return closing + 1


def _entity_for(tag: _OpenTag, end_offset: int) -> dict[str, Any] | None:
    length = end_offset - tag.offset
    if length <= 0:
        return None
    entity: dict[str, Any] = {"offset": tag.offset, "length": length}
    if tag.name in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[tag.name]
        if tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        if tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
    elif tag.name == "span":
        entity["type"] = "spoiler"
    elif tag.name == "a":
        href = tag.attrs.get("href")
        if not href:
            return None
        entity["type"] = "text_link"
        entity["url"] = href
    elif tag.name == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    return entity


def _decode_reference(name: str) -> str | None:
    if name.startswith(("#x", "#X")):
        code = int(name[2:], 16)
    elif name.startswith("#"):
        code = int(name[1:])
    else:
        return _NAMED_ENTITIES.get(name)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _unescape(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        decoded = _decode_reference(match.group(1))
        return match.group(0) if decoded is None else decoded

    return _CHAR_REF.sub(replace, value)
