"""Client search: normalization, transliteration, stemming, typos and ranking in memory."""

from __future__ import annotations

import pytest

from services.search import (
    SearchIndex,
    canonical_token,
    key_variants,
    query_phone,
    search_keys,
    stem,
    transliterate_to_cyrillic,
    transliterate_to_latin,
)


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("Ivanov", "иванов"),
        ("Kuznetsov", "кузнецов"),
        ("Shcherbakov", "щербаков"),
        ("Zhukov", "жуков"),
        ("Khokhlov", "хохлов"),
        ("Yakovlev", "яковлев"),
        ("Chernyshev", "черышев".replace("ры", "рны")),
    ],
)
def test_latin_is_read_as_russian(latin: str, cyrillic: str) -> None:
    assert transliterate_to_cyrillic(latin) == cyrillic


def test_cyrillic_to_latin() -> None:
    assert transliterate_to_latin("Щукин Юрий") == "shchukin yuriy"
    assert transliterate_to_latin("Ёлкин") == "elkin"


@pytest.mark.parametrize(
    "forms",
    [
        ("Иванов", "Иванова", "Иванову", "Ивановым", "Ивановой", "ИВАНОВ", "Ivanov", "ivanova"),
        ("Кузнецов", "Kuznetsov", "Kuznecov", "Kuznetzov"),
        ("Щербаков", "Shcherbakov", "Scherbakov"),
        ("Беляев", "Belyaev", "Beliaev"),
        ("Яковлев", "Yakovlev", "Jakovlev", "Iakovlev"),
        ("Юлия", "Yulia", "Julia", "Yuliya", "Юлии", "Юлию"),
        ("Петровский", "Петровская", "Петровского", "Петровской", "Petrovskiy"),
        ("Алёна", "Алена", "Alena", "Алёне"),
        ("Васильев", "Vasiliev", "Vasilyev"),
        ("Ромашка", "Ромашки", "Ромашкой", "Romashka"),
    ],
)
def test_forms_of_one_name_share_a_key(forms: tuple[str, ...]) -> None:
    keys = {canonical_token(form.lower()) for form in forms}
    assert len(keys) == 1, dict(
        zip(forms, (canonical_token(f.lower()) for f in forms), strict=True)
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("Иванов", "Петров"), ("Иванов", "Иванович"), ("Сидоров", "Сидоренко"), ("Анна", "Инна")],
)
def test_different_names_keep_different_keys(first: str, second: str) -> None:
    assert canonical_token(first.lower()) != canonical_token(second.lower())


def test_stem_keeps_short_words() -> None:
    assert stem("иванова") == "иванов"
    assert stem("ана") == "ан"
    assert stem("ан") == "ан"


def test_search_keys_drop_legal_forms_quotes_and_initials() -> None:
    assert search_keys("ООО «Ромашка-Плюс», Иванов И. П.") == ["ромашк", "плус", "иванов"]
    assert search_keys("") == [] and search_keys(None) == []
    assert search_keys("Склад №12") == ["склад", "12"]


def test_latin_c_is_tried_both_ways() -> None:
    assert key_variants("Cola") == (canonical_token("цола"), canonical_token("кола"))
    assert key_variants("Chekhov") == (canonical_token("чехов"),)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("8 (912) 345-67-89", "79123456789"),
        ("+7 912 345 67 89", "79123456789"),
        ("9123456789", "79123456789"),
        ("89123456789", "79123456789"),
        ("Иванов", None),
        ("12345", None),
    ],
)
def test_query_phone(typed: str, expected: str | None) -> None:
    assert query_phone(typed) == expected


@pytest.fixture
def index() -> SearchIndex:
    built = SearchIndex()
    rows = [
        (1, "Иванов Пётр Сергеевич", "ООО «Ромашка»", 10),
        (2, "Иванова Мария", None, 10),
        (3, "Петров Иван", "Ромашка-Юг", 20),
        (4, "Кузнецов Алексей", "Kuznetsov Trading", 20),
        (5, "Smith John", "Cola Distribution", 10),
        (6, "Иваненко Олег", None, 10),
    ]
    for row in rows:
        built.add(*row)
    built.finalize()
    return built


def _ids(index: SearchIndex, query: str, owner: int | None = None) -> list[int]:
    return [client_id for client_id, _ in index.find(query, owner)]


def test_exact_matches_rank_above_prefixes(index: SearchIndex) -> None:
    assert _ids(index, "Иванов") == [1, 2]  # both stems are "иванов"; Иваненко is not a prefix
    assert _ids(index, "Иван")[0] == 3  # the first name exactly, then the surnames by prefix
    assert set(_ids(index, "Иван")) == {1, 2, 3, 6}


def test_latin_typos_and_case_forms(index: SearchIndex) -> None:
    assert _ids(index, "ivanova") == [1, 2]
    assert _ids(index, "Ивонов") == [1, 2]  # one typo
    assert _ids(index, "Кузнецову") == [4]
    assert _ids(index, "kuznecov") == [4]
    assert _ids(index, "Смит") == [5]
    assert _ids(index, "кола") == [5]


def test_every_word_must_match(index: SearchIndex) -> None:
    assert _ids(index, "Иванова Мария") == [2]
    assert _ids(index, "Ромашка Петров") == [3]
    assert _ids(index, "Ромашка") == [1, 3]
    assert _ids(index, "Иванов Сидор") == []
    assert _ids(index, "ООО") == []


def test_owner_filter_and_incremental_add(index: SearchIndex) -> None:
    assert _ids(index, "Ромашка", owner=20) == [3]
    index.add(7, "Ромашкин Илья", None, 20)
    assert _ids(index, "Ромашкин", owner=20) == [7]
    assert set(_ids(index, "Ромашк", owner=20)) == {3, 7}
    best, total = index.top("Иван", None, 2)
    assert total == 4 and len(best) == 2 and best[0][0] == 3
