"""Text normalisation for lookup: one canonical form of a word, for the index and the query.

* lower case, ё = е;
* Latin is transliterated to Cyrillic ("Ivanov", "Kuznetsov"/"Kuznecov", "Yakovlev"/"Jakovlev");
* letters that transliterations disagree on are merged (й/ы -> и, я -> иа, ю -> иу,
  щ -> ш, soft and hard signs dropped, и before a vowel dropped, doubled letters once),
  so "Belyaev" = "Беляев" and "Yulia" = "Юлия";
* common Russian case and surname endings are stripped ("Иванова", "Иванову",
  "Ивановым" -> the stem of "Иванов"; "Петровская" = "Петровский").

Beside that key, a word has a *surface* form (lower case, ё = е, Latin read as Cyrillic, no
stemming) so that an exact "Баранова" ranks above "Баранов"; words written as one
("МонолитПлюс") are also split into their parts; characters that do not show
(zero-width spaces pasted from messengers, soft hyphens) are dropped first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from services.normalize import normalize_phone

_LATIN_RULES = (
    ("shch", "щ"),
    ("sch", "щ"),
    ("yo", "ё"),
    ("jo", "ё"),
    ("yu", "ю"),
    ("ju", "ю"),
    ("ya", "я"),
    ("ja", "я"),
    ("ye", "е"),
    ("je", "е"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("tz", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("th", "т"),
    ("ph", "ф"),
    ("ck", "к"),
    ("ou", "у"),
    ("a", "а"),
    ("b", "б"),
    ("c", "ц"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("j", "й"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "в"),
    ("x", "кс"),
    ("y", "ы"),
    ("z", "з"),
)
_LATIN_MAP = dict(_LATIN_RULES)
_LATIN_PATTERN = re.compile("|".join(sorted(_LATIN_MAP, key=len, reverse=True)))

_CYRILLIC_TO_LATIN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
_SKELETON = str.maketrans({"ё": "е", "э": "е", "й": "и", "ы": "и", "щ": "ш", "ь": "", "ъ": ""})
_SKELETON_PAIRS = str.maketrans({"я": "иа", "ю": "иу"})
_I_BEFORE_VOWEL = re.compile(r"(?<=.)и(?=[аеиоу])")
_DOUBLES = re.compile(r"(.)\1+")
_WORDS = re.compile(r"[0-9a-zа-яё]+")
_CASED_WORDS = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+")
# "МонолитПлюс" -> Монолит, Плюс; "АБВГрупп" -> АБВ, Групп; "Склад12" -> Склад, 12
_COMPOUND_PARTS = re.compile(
    r"[A-ZА-ЯЁ]+(?=[A-ZА-ЯЁ][a-zа-яё])|[A-ZА-ЯЁ]?[a-zа-яё]+|[A-ZА-ЯЁ]+|[0-9]+"
)
# Characters that take no room on screen: zero-width spaces and joiners, marks of text
# direction, the soft hyphen and the byte order mark.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c"
        "\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff",
    )
)
_HAS_LATIN = re.compile(r"[a-z]")
_DIGIT = re.compile(r"\d")

# Endings in the canonical alphabet (ая -> "аиа" -> "аа" -> "а" and so on), longest first.
_ENDINGS = (
    "ого",
    "его",
    "ому",
    "ему",
    "ими",
    "ами",
    "ои",
    "еи",
    "их",
    "им",
    "ом",
    "ем",
    "ам",
    "ах",
    "а",
    "е",
    "и",
    "у",
)
MIN_STEM_LENGTH = 2
_PATRONYMIC_ENDINGS = ("ович", "евич", "овна", "евна", "ична", "ьич", "ич")
# Legal forms say nothing about which client is meant.
STOP_WORDS = frozenset(
    {
        "ооо",
        "оао",
        "зао",
        "пао",
        "ао",
        "ип",
        "нко",
        "ано",
        "чп",
        "ooo",
        "zao",
        "oao",
        "pao",
        "llc",
        "ltd",
        "inc",
        "corp",
        "gmbh",
    }
)


def clean_text(text: str) -> str:
    """Drop characters that do not show: "Гранд", a zero-width space, "Ремонт" is "ГрандРемонт"."""
    return text.translate(_INVISIBLE)


def transliterate_to_cyrillic(text: str) -> str:
    """Latin letters as a Russian reader would spell them ("Kuznetsov" -> "кузнецов")."""
    return _LATIN_PATTERN.sub(lambda m: _LATIN_MAP[m.group(0)], text.lower())


def transliterate_to_latin(text: str) -> str:
    """Cyrillic letters in a simple passport-like Latin spelling ("Щукин" -> "shchukin")."""
    return "".join(_CYRILLIC_TO_LATIN.get(ch, ch) for ch in text.lower())


def stem(token: str) -> str:
    """Strip common Russian case and surname endings from a canonical token."""
    for _ in range(2):
        for ending in _ENDINGS:
            if token.endswith(ending) and len(token) - len(ending) >= MIN_STEM_LENGTH:
                token = token[: -len(ending)]
                break
        else:
            break
    return token


@lru_cache(maxsize=200_000)
def canonical_token(word: str) -> str:
    """The key one word is indexed and looked up by (see the module docstring)."""
    token = word.lower().replace("ё", "е")
    if token.isdigit():
        return token
    if _HAS_LATIN.search(token):
        token = transliterate_to_cyrillic(token)
    token = token.translate(_SKELETON).translate(_SKELETON_PAIRS)
    token = _I_BEFORE_VOWEL.sub("", token)
    token = _DOUBLES.sub(r"\1", token)
    return stem(token)


@lru_cache(maxsize=200_000)
def surface_token(word: str) -> str:
    """The word as written, only folded: lower case, ё = е, Latin read as Cyrillic."""
    token = word.lower().replace("ё", "е")
    if _HAS_LATIN.search(token):
        token = transliterate_to_cyrillic(token).replace("ё", "е")
    return token


def compound_parts(word: str) -> list[str]:
    """The parts of a word written as one: "МонолитПлюс" -> ["Монолит", "Плюс"]; else []."""
    parts = _COMPOUND_PARTS.findall(word)
    return parts if len(parts) > 1 else []


def key_variants(word: str) -> tuple[str, ...]:
    """The canonical keys a typed word may stand for: Latin "c" is ц in "Kuznecov", к in "Cola"."""
    word = word.lower()
    key = canonical_token(word)
    if "c" in word:
        alternative = canonical_token(re.sub(r"c(?![hk])", "k", word))
        if alternative != key:
            return (key, alternative)
    return (key,)


_COMPANY_QUOTES = frozenset('«»"“”„')
_PERSON_FORMS = frozenset({"ип", "чп"})


def is_company_name(text: str) -> bool:
    """Quotes or a legal form other than a sole trader's: "ООО Монолит Строй", "«Лютик»"."""
    if not _COMPANY_QUOTES.isdisjoint(text):
        return True
    return any(w in STOP_WORDS and w not in _PERSON_FORMS for w in _WORDS.findall(text.lower()))


def _is_patronymic(word: str, position: int) -> bool:
    """ "Сергеевич", "Петровна" after the first word: indexing them only adds noise."""
    return position > 0 and len(word) >= 5 and word.endswith(_PATRONYMIC_ENDINGS)


def _words(text: str) -> list[str]:
    return [word.lower() for word in cased_words(text)]


def cased_words(text: str) -> list[str]:
    """The words of a name as written, without legal forms and patronymics."""
    words = [
        w
        for w in _CASED_WORDS.findall(clean_text(text).replace("ё", "е").replace("Ё", "Е"))
        if w.lower() not in STOP_WORDS
    ]
    return [w for position, w in enumerate(words) if not _is_patronymic(w.lower(), position)]


def search_keys(text: str | None) -> list[str]:
    """The canonical tokens of a name: no legal forms, patronymics or one-letter initials."""
    if not text:
        return []
    keys: list[str] = []
    for word in _words(text):
        key = canonical_token(word)
        if len(key) >= 2 or key.isdigit():
            keys.append(key)
    return keys


def query_keys(query: str) -> list[tuple[str, ...]]:
    """Per typed word, the canonical keys it may stand for (see `key_variants`)."""
    keys: list[tuple[str, ...]] = []
    for word in _words(query):
        variants = tuple(key for key in key_variants(word) if len(key) >= 2 or key.isdigit())
        if variants and variants not in keys:
            keys.append(variants)
    return keys


@dataclass(frozen=True)
class QueryWord:
    """One typed word: its surface form and the canonical keys it may stand for."""

    text: str  # as typed, lower case
    surface: str
    keys: tuple[str, ...]

    @property
    def is_number(self) -> bool:
        return self.text.isdigit()


def query_words(query: str) -> list[QueryWord]:
    """The words of a query, each once, with what the index looks them up by."""
    words: list[QueryWord] = []
    seen: set[str] = set()
    for word in _words(query):
        keys = tuple(key for key in key_variants(word) if len(key) >= 2 or key.isdigit())
        if not keys or word in seen:
            continue
        seen.add(word)
        words.append(QueryWord(word, surface_token(word), keys))
    return words


def query_phone(query: str) -> str | None:
    """The normalized phone number a query spells, if it is one ("8 (912) 345-67-89")."""
    if not re.fullmatch(r"[\d\s()+\-.]+", query):
        return None
    return normalize_phone(query)
