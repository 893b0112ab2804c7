"""Telegram HTML: plain text, entities in UTF-16 units, and Telegram's parse errors."""

from __future__ import annotations

import pytest

from sandbox.telegram_html import EntityParseError, parse_html, utf16_length


def test_tags_become_entities_and_references_are_decoded() -> None:
    plain, entities = parse_html('<b>Deal</b> &amp; <a href="https://x.org/?a=1&amp;b=2">link</a>')

    assert plain == "Deal & link"
    assert entities == [
        {"offset": 0, "length": 4, "type": "bold"},
        {"offset": 7, "length": 4, "type": "text_link", "url": "https://x.org/?a=1&b=2"},
    ]


def test_offsets_count_utf16_units_like_telegram() -> None:
    plain, entities = parse_html("📞 <i>Анна</i>")

    assert plain == "📞 Анна"
    assert utf16_length("📞") == 2
    assert entities == [{"offset": 3, "length": 4, "type": "italic"}]


def test_nested_tags_and_pre_with_language() -> None:
    plain, entities = parse_html(
        '<b>a<i>b</i></b><pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>'
    )

    assert plain == "abx = 1sq"
    assert entities == [
        {"offset": 0, "length": 2, "type": "bold"},
        {"offset": 1, "length": 1, "type": "italic"},
        {"offset": 2, "length": 5, "type": "pre", "language": "python"},
        {"offset": 7, "length": 1, "type": "spoiler"},
        {"offset": 8, "length": 1, "type": "expandable_blockquote"},
    ]


def test_numeric_and_unknown_references() -> None:
    plain, _ = parse_html("&#33;&#x41;&nbsp;&quot;&lt;&gt;")

    # Telegram decodes numeric references and only lt, gt, amp and quot by name.
    assert plain == '!A&nbsp;"<>'


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("ACME <Ltd>", 'Unsupported start tag "Ltd" at byte offset 5'),
        ("1 < 2", 'Unsupported start tag " " at byte offset 2'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("Привет <br>", 'Unsupported start tag "br" at byte offset 13'),
    ],
)
def test_invalid_markup_is_refused_with_telegrams_words(source: str, message: str) -> None:
    with pytest.raises(EntityParseError) as refused:
        parse_html(source)

    assert str(refused.value) == message


def test_empty_tags_and_links_without_href_make_no_entity() -> None:
    assert parse_html("<b></b>x<a>y</a>") == ("xy", [])
