from __future__ import annotations

import pytest

from services.normalize import (
    normalize_name,
    normalize_phone,
    normalize_phones,
    normalize_tax_id,
    split_phones,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ООО «Ромашка»", "ооо ромашка"),
        ('  ООО   "Ромашка"  ', "ооо ромашка"),
        ("Пётр  Ёлкин", "петр елкин"),
        ("ИП 'Сидоров'", "ип сидоров"),
        ("„Лютик“\tи\nко", "лютик и ко"),
        ("ACME Corp", "acme corp"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_name(text: str | None, expected: str) -> None:
    assert normalize_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8 (916) 123-45-67", "79161234567"),
        ("+7 916 123 45 67", "79161234567"),
        ("7-916-123-45-67", "79161234567"),
        ("9161234567", "79161234567"),
        ("8 495 123-45-67 доб. 12", "74951234567"),
        ("+375 29 123-45-67", "375291234567"),
        ("+49 30 1234567", "49301234567"),
        ("123-45-67", None),
        ("нет", None),
        ("", None),
        (None, None),
        ("+7 916 123 45 67 8 916 123 45 67", None),
    ],
)
def test_normalize_phone(text: str | None, expected: str | None) -> None:
    assert normalize_phone(text) == expected


def test_split_phones_on_commas_semicolons_and_slashes() -> None:
    assert split_phones("8 916 123-45-67, +7 495 000-00-00; 9031112233 / 89031112233") == [
        "8 916 123-45-67",
        "+7 495 000-00-00",
        "9031112233",
        "89031112233",
    ]
    assert split_phones("") == []
    assert split_phones(" , ;") == []


def test_normalize_phones_drops_repeats_and_junk() -> None:
    assert normalize_phones("9031112233 / 89031112233, мобильный") == ["79031112233"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7707083893", "7707083893"),
        ("500100732259", "500100732259"),
        (" 7707 083 893 ", "7707083893"),
        ("77-07-08-38-93", "7707083893"),
        ("123", None),
        ("77070838931", None),
        ("77070838ab", None),
        ("７７０７０８３８９３", None),  # full-width digits are not a tax id
        ("", None),
        (None, None),
    ],
)
def test_normalize_tax_id(text: str | None, expected: str | None) -> None:
    assert normalize_tax_id(text) == expected
