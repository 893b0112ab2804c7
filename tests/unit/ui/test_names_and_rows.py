"""Names inside Russian sentences, the reply keyboard's texts, rows that look alike."""

from __future__ import annotations

import pytest

from services.search import SearchHit, SearchPage
from ui.declension import Case, Gender, decline, gender_of, gendered, in_case
from ui.i18n import Translator
from ui.keyboards.clients import hit_label
from ui.keyboards.menu import main_keyboard, reply_action
from ui.texts.admin import joined_text


@pytest.mark.parametrize(
    ("name", "gender", "genitive", "dative", "accusative"),
    [
        ("Анна Смирнова", Gender.FEMALE, "Анны Смирновой", "Анне Смирновой", "Анну Смирнову"),
        ("Иван Петров", Gender.MALE, "Ивана Петрова", "Ивану Петрову", "Ивана Петрова"),
        ("Ольга Власова", Gender.FEMALE, "Ольги Власовой", "Ольге Власовой", "Ольгу Власову"),
        ("Никита Кузьмин", Gender.MALE, "Никиты Кузьмина", "Никите Кузьмину", "Никиту Кузьмина"),
        ("Смирнова Анна", Gender.FEMALE, "Смирновой Анны", "Смирновой Анне", "Смирнову Анну"),
        (
            "Иванов Иван Иванович",
            Gender.MALE,
            "Иванова Ивана Ивановича",
            "Иванову Ивану Ивановичу",
            "Иванова Ивана Ивановича",
        ),
        ("John Carter", Gender.UNKNOWN, "John Carter", "John Carter", "John Carter"),
    ],
)
def test_names_decline_with_their_gender(
    name: str, gender: Gender, genitive: str, dative: str, accusative: str
) -> None:
    assert gender_of(name) is gender
    assert decline(name, Case.GENITIVE) == genitive
    assert decline(name, Case.DATIVE) == dative
    assert decline(name, Case.ACCUSATIVE) == accusative
    assert decline(name, Case.NOMINATIVE) == name


def test_only_russian_declines_and_odd_names_stay_as_written() -> None:
    assert in_case("Анна Смирнова", Case.GENITIVE, Translator("en")) == "Анна Смирнова"
    assert in_case(None, Case.GENITIVE, Translator("ru")) == ""
    for odd in ("ООО «Ромашка»", "Анна-Мария Смирнова-Петрова Иван Ильич", "", "  "):
        assert decline(odd, Case.DATIVE) == " ".join(odd.split())


def test_gendered_texts_fall_back_to_a_neutral_wording() -> None:
    ru = Translator("ru")
    joined = {
        name: gendered(ru, "admin.invite.joined", name, name=name, role="менеджер")
        for name in ("Анна Смирнова", "Иван Петров", "Alex Kim")
    }
    assert joined == {
        "Анна Смирнова": "👋 Анна Смирнова присоединилась как менеджер.",
        "Иван Петров": "👋 Иван Петров присоединился как менеджер.",
        "Alex Kim": "👋 В команде новый сотрудник: Alex Kim (менеджер).",
    }


def test_joined_text_escapes_the_name() -> None:
    from services.db.models import Role
    from services.users import UserDTO

    user = UserDTO(1, 5, "<b>Мария</b>", Role.MANAGER, None, None, 20, True)
    assert "&lt;b&gt;" in joined_text(user, Translator("ru"))


def test_reply_keyboard_texts_work_in_both_languages() -> None:
    for language in ("ru", "en"):
        tr = Translator(language)
        keyboard = main_keyboard(tr)
        texts = [button.text for row in keyboard.keyboard for button in row]
        assert [reply_action(text) for text in texts] == [
            "today",
            "find",
            "reactivate",
            "risk",
            "settings",
        ]
    assert reply_action("сегодня") == "today" and reply_action("  TODAY ") == "today"
    assert reply_action("Ромашка") is None and reply_action("") is None
    assert reply_action("сегодня " * 20) is None


def _page(*hits: SearchHit, show_owner: bool = False) -> SearchPage:
    return SearchPage("зодчий", hits, 0, 1, len(hits), False, show_owner)


def test_rows_that_look_alike_carry_what_tells_them_apart() -> None:
    tula = SearchHit(1, "ООО «Зодчий»", None, 10, "Анна Смирнова", False, "Тула", "7137428783")
    tula2 = SearchHit(2, "ООО «Зодчий»", None, 11, "Иван Петров", False, "Тула", "7137428791")
    msk = SearchHit(3, "ООО «Зодчий»", None, 10, "Анна Смирнова", False, "Москва", None)
    page = _page(tula, tula2, msk)
    assert hit_label(tula, page) == "ООО «Зодчий» · Тула · 7137428783"
    assert hit_label(msk, page) == "ООО «Зодчий» · Москва"
    heads = _page(tula, tula2, msk, show_owner=True)
    assert hit_label(tula2, heads) == "ООО «Зодчий» · Тула · 7137428791 · Иван Петров"
