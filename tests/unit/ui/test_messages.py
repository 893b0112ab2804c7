"""Telegram's length limits: long screens split at lines, captions cut, keyboards kept."""

from __future__ import annotations

from ui.messages import CAPTION_LIMIT, TEXT_LIMIT, fit_caption, split_text, text_parts


def test_split_text_keeps_lines_whole_and_under_the_limit() -> None:
    lines = [f"<b>{i}</b> " + "ж" * (i % 97) for i in range(400)]
    text = "\n".join(lines)
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(chunk) <= TEXT_LIMIT for chunk in chunks)
    assert "\n".join(chunks).split("\n") == lines


def test_split_text_short_text_is_one_message() -> None:
    assert split_text("one\ntwo") == ["one\ntwo"]


def test_a_too_long_line_is_cut_at_spaces_and_never_inside_a_tag_or_entity() -> None:
    line = " ".join(["<b>слово</b> &amp;"] * 800)
    chunks = split_text(line, limit=1000)
    assert all(len(chunk) <= 1000 for chunk in chunks)
    for chunk in chunks:
        assert chunk.count("<b>") == chunk.count("</b>")
        assert not chunk.rstrip().endswith("&")
    assert " ".join(chunks).split() == line.split()


def test_fit_caption() -> None:
    assert fit_caption("short") == "short"
    long = "\n".join(["строка " * 10] * 40)
    fitted = fit_caption(long)
    assert len(fitted) <= CAPTION_LIMIT
    assert fitted.endswith("…")


def test_keyboard_goes_with_the_last_part() -> None:
    parts = text_parts("a\n" * 3000, reply_markup="kb")  # type: ignore[arg-type]
    assert len(parts) == 2
    assert [p.reply_markup for p in parts] == [None, "kb"]


# --- pacing ----------------------------------------------------------------------------------
