"""Client search: normalization, transliteration, stemming, typos and ranking in memory."""

from __future__ import annotations

import pytest

from services.search import (
    IndexRow,
    SearchIndex,
    build_index,
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
    assert _ids(index, "ivanova") == [2, 1]  # the feminine form exactly first
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


# --- What people type, as measured on the demo base (services/search, issue cases) -----------

DEMO_LIKE = [
    # id, name, company, owner, city, phones
    (1, "ИП Баранов Андрей Александрович", None, 10, "Подольск", ("79151112233",)),
    (2, "Баранова Марина Михайловна", None, 10, "Подольск", ("79850684429",)),
    (3, "ИП Фёдоров Павел Викторович", None, 10, "Рязань", ("79167943199",)),
    (4, "ИП Фёдоров Илья Александрович", None, 20, "Тула", ()),
    (5, "Фёдорова Татьяна Павловна", None, 20, "Нижний Новгород", ()),
    (6, "ООО «МонолитПлюс»", None, 10, "Москва", ("79290714163", "74950860260")),
    (7, "ООО «ВолгаМонолитГрупп»", None, 20, "Казань", ()),
    (8, "ИП Семёнов Евгений Андреевич", None, 20, "Владимир", ("79527230731",)),
    (9, "Зайцева Светлана Павловна", None, 10, "Москва", ()),
    (10, "ИП Матвеев Илья Борисович", None, 10, "Москва", ()),
    (11, "Борисова Мария Анатольевна", None, 20, "Тюмень", ()),
    (12, "ИП Сорокин Михаил Михайлович", None, 20, "Владимир", ()),
    (13, "ИП Сорокин Илья Васильевич", None, 20, "Подольск", ()),
    (14, "ООО «ГрандРемонтПлюс»", None, 10, "Подольск", ()),
    (15, "ООО «Зодчий»", None, 10, "Екатеринбург", ()),
    (16, "ООО «Зодчий»", None, 20, "Тула", ()),
    (17, "ООО Монолит Строй", None, 10, "Химки", ()),
    (18, "Иванов Сергей Петрович", None, 30, "Москва", ()),
    (19, "Иванов Олег Петрович", None, 30, "Москва", ()),
]
TEAM = [(10, "Анна Смирнова"), (20, "Сергей Морозов"), (30, "Иван Петров")]


@pytest.fixture
def demo_like() -> SearchIndex:
    return build_index([IndexRow(*row) for row in DEMO_LIKE], TEAM)


def test_the_exact_surname_with_its_gender_comes_first(demo_like: SearchIndex) -> None:
    assert _ids(demo_like, "Баранова") == [2, 1]
    assert _ids(demo_like, "Баранов") == [1, 2]
    assert _ids(demo_like, "Фёдорова")[0] == 5
    assert _ids(demo_like, "Федорова")[0] == 5  # without the dots on ё
    assert _ids(demo_like, "Fedorova")[0] == 5


def test_company_names_typed_in_words(demo_like: SearchIndex) -> None:
    assert _ids(demo_like, "монолит плюс") == [6]
    assert _ids(demo_like, "МонолитПлюс") == [6]
    assert set(_ids(demo_like, "монолит")) == {6, 7, 17}  # a part of a word counts
    assert _ids(demo_like, "монолитстрой") == [17]  # two words typed as one
    assert _ids(demo_like, "плюс ремонт") == [14]


def test_invisible_characters_are_ignored(demo_like: SearchIndex) -> None:
    assert _ids(demo_like, "Гранд\u200bРемонт") == [14]
    assert _ids(demo_like, "Зод\u00adчий") == [15, 16]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Зайева Светлана", 9), ("Мавтеев", 10), ("Бориоова", 11), ("Матвеве", 10)],
)
def test_a_dropped_swapped_or_wrong_letter(demo_like: SearchIndex, typed: str, meant: int) -> None:
    assert _ids(demo_like, typed) == [meant]


def test_a_city_or_a_colleague_after_the_name_narrows(demo_like: SearchIndex) -> None:
    assert _ids(demo_like, "Сорокин Подольск") == [13]
    assert _ids(demo_like, "Сорокин Владимир") == [12]
    assert _ids(demo_like, "Зодчий Морозов") == [16]  # the clients of Сергей Морозов
    assert _ids(demo_like, "Зодчий Смирнова") == [15]
    # a word that matches a name among the others keeps its meaning as a name
    assert _ids(demo_like, "Иванов Сергей") == [18]
    assert _ids(demo_like, "Сорокин Казань") == []
    assert _ids(demo_like, "Подольск") == []  # a city alone is not a client


def test_phone_tails(demo_like: SearchIndex) -> None:
    assert demo_like.phone_tail("7230731") == [8]
    assert demo_like.phone_tail("0731") == [8]
    assert demo_like.phone_tail("0731", owner_id=10) == []
    assert demo_like.phone_tail("0860260", owner_id=10) == [6]
    assert demo_like.phone_tail("12345") == []
    demo_like.add(40, "Новиков Пётр", None, 10, None, ("79001110731",))
    assert demo_like.phone_tail("0731") == [8, 40]


def test_kept_index_reads_back_the_same(demo_like: SearchIndex) -> None:
    copy = SearchIndex.from_payload(demo_like.to_payload())
    assert copy is not None
    for query in ("Баранова", "монолит плюс", "Мавтеев", "Сорокин Подольск", "Зодчий Морозов"):
        assert copy.find(query) == demo_like.find(query), query
    assert copy.phone_tail("7230731") == [8]
    copy.add(41, "ООО «Монолит»", None, 10)
    assert _ids(copy, "монолит")[0] == 41
