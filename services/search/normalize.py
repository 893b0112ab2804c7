"""Text normalisation for lookup: one canonical form of a word, for the index and the query.

* lower case, ё = е;
* Latin is transliterated to Cyrillic ("Ivanov", "Kuznetsov"/"Kuznecov", "Yakovlev"/"Jakovlev");
* letters that transliterations disagree on are merged (й/ы -> и, я -> иа, ю -> иу,
  щ -> ш, soft and hard signs dropped, и before a vowel dropped, doubled letters once),
  so "Belyaev" = "Беляев" and "Yulia" = "Юлия";
* common Russian case and surname endings are stripped ("Иванова", "Иванову",
  "Ивановым" -> the stem of "Иванов"; "Петровская" = "Петровский").
"""

from __future__ import annotations

import re
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


def key_variants(word: str) -> tuple[str, ...]:
    """The canonical keys a typed word may stand for: Latin "c" is ц in "Kuznecov", к in "Cola"."""
    word = word.lower()
    key = canonical_token(word)
    if "c" in word:
        alternative = canonical_token(re.sub(r"c(?![hk])", "k", word))
        if alternative != key:
            return (key, alternative)
    return (key,)


def _is_patronymic(word: str, position: int) -> bool:
    """ "Сергеевич", "Петровна" after the first word: indexing them only adds noise."""
    return position > 0 and len(word) >= 5 and word.endswith(_PATRONYMIC_ENDINGS)


def _words(text: str) -> list[str]:
    words = [w for w in _WORDS.findall(text.lower().replace("ё", "е")) if w not in STOP_WORDS]
    return [w for position, w in enumerate(words) if not _is_patronymic(w, position)]


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


def query_phone(query: str) -> str | None:
    """The normalized phone number a query spells, if it is one ("8 (912) 345-67-89")."""
    if not re.fullmatch(r"[\d\s()+\-.]+", query):
        return None
    return normalize_phone(query)
