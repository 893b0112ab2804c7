"""People's names inside Russian sentences: declined, with the gender the name tells.

"Отключить Анну Смирнову? Она сразу потеряет доступ", "это клиент Анны Смирновой",
"Иван Петров присоединился": the petrovich rules (`pytrovich`, offline) decline Russian
first names, surnames and patronymics. A name that is not in Cyrillic ("John Carter"),
or one the rules cannot place, stays as written, and its gender is unknown, so texts
choose a wording that needs none.

A display name is read as "Имя Фамилия", "Фамилия Имя Отчество" (a patronymic last) or
"Фамилия Имя" when only the first word looks like a surname.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache

from pytrovich.detector import PetrovichGenderDetector
from pytrovich.enums import Case as PetrovichCase
from pytrovich.enums import Gender as PetrovichGender
from pytrovich.enums import NamePart
from pytrovich.maker import PetrovichDeclinationMaker

from ui.i18n import Translator

_CYRILLIC_WORD = re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?")
_SURNAME_ENDINGS = ("ов", "ова", "ев", "ева", "ёв", "ёва", "ин", "ина", "ын", "ына", "ский", "ская")
_PATRONYMIC_ENDINGS = ("вич", "вна", "чна", "ична", "кызы", "оглы")


class Case(StrEnum):
    NOMINATIVE = "nom"
    GENITIVE = "gen"  # кого: клиент Анны Смирновой
    DATIVE = "dat"  # кому: передать Ивану Петрову
    ACCUSATIVE = "acc"  # кого: отключить Анну Смирнову
    INSTRUMENTAL = "ins"  # кем: с Анной Смирновой


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "other"


_CASES = {
    Case.GENITIVE: PetrovichCase.GENITIVE,
    Case.DATIVE: PetrovichCase.DATIVE,
    Case.ACCUSATIVE: PetrovichCase.ACCUSATIVE,
    Case.INSTRUMENTAL: PetrovichCase.INSTRUMENTAL,
}


@cache
def _maker() -> PetrovichDeclinationMaker:
    return PetrovichDeclinationMaker()


@cache
def _detector() -> PetrovichGenderDetector:
    return PetrovichGenderDetector()


def _parts(name: str) -> tuple[str | None, str | None, str | None] | None:
    """(first name, surname, patronymic) of a Cyrillic display name; None otherwise."""
    words = name.split()
    if not 1 <= len(words) <= 3 or not all(_CYRILLIC_WORD.fullmatch(w) for w in words):
        return None
    if len(words) == 3:
        if words[2].lower().endswith(_PATRONYMIC_ENDINGS):
            return words[1], words[0], words[2]
        return None
    if len(words) == 1:
        return words[0], None, None
    first, second = words
    if first.lower().endswith(_SURNAME_ENDINGS) and not second.lower().endswith(_SURNAME_ENDINGS):
        return second, first, None
    return first, second, None


@cache
def gender_of(name: str) -> Gender:
    """The gender a Russian name tells ("Анна Смирнова": female); unknown otherwise."""
    parts = _parts(name.strip())
    if parts is None:
        return Gender.UNKNOWN
    first, last, middle = parts
    try:
        found = _detector().detect(firstname=first, lastname=last, middlename=middle)
    except Exception:  # the rules know nothing of this name
        return Gender.UNKNOWN
    if found is PetrovichGender.MALE:
        return Gender.MALE
    if found is PetrovichGender.FEMALE:
        return Gender.FEMALE
    return Gender.UNKNOWN


@cache
def decline(name: str, case: Case) -> str:
    """The name in `case` ("Анна Смирнова", GENITIVE -> "Анны Смирновой"); else as written."""
    name = " ".join(name.split())
    parts = _parts(name)
    gender = gender_of(name)
    if case is Case.NOMINATIVE or parts is None or gender is Gender.UNKNOWN:
        return name
    first, last, middle = parts
    target = _CASES[case]
    petrovich_gender = PetrovichGender.MALE if gender is Gender.MALE else PetrovichGender.FEMALE
    maker = _maker()
    declined: dict[str | None, str] = {}
    try:
        for part, value in (
            (NamePart.FIRSTNAME, first),
            (NamePart.LASTNAME, last),
            (NamePart.MIDDLENAME, middle),
        ):
            if value:
                declined[value] = maker.make(part, petrovich_gender, target, value)
    except Exception:  # an unusual name: better as written than wrongly declined
        return name
    return " ".join(declined.get(word, word) for word in name.split())


def in_case(name: str | None, case: Case, tr: Translator) -> str:
    """A name for a sentence in the translator's language (only Russian declines)."""
    if not name:
        return ""
    return decline(name, case) if tr.language == "ru" else name


def gendered(tr: Translator, key: str, name: str, /, **params: str) -> str:
    """The text of `key.male`, `key.female` or `key.other`, by the gender of `name`."""
    gender = gender_of(name)
    specific = f"{key}.{gender.value}"
    return tr(specific if tr.has(specific) else f"{key}.{Gender.UNKNOWN.value}", **params)
