"""Finding a client by whatever a manager types: a name in any case or script, a phone, a tax id.

Names go through one canonical form on both sides (the index and the query), so
matching is a dictionary lookup:

* lower case, ё = е;
* Latin is transliterated to Cyrillic ("Ivanov", "Kuznetsov"/"Kuznecov", "Yakovlev"/"Jakovlev");
* letters that transliterations disagree on are merged (й/ы -> и, я -> иа, ю -> иу,
  щ -> ш, soft and hard signs dropped, и before a vowel dropped, doubled letters once),
  so "Belyaev" = "Беляев" and "Yulia" = "Юлия";
* common Russian case and surname endings are stripped ("Иванова", "Иванову",
  "Ивановым" -> the stem of "Иванов"; "Петровская" = "Петровский").

A query token matches an indexed token exactly, as a prefix (three letters or
more), or, when neither finds anything, within one or two typos (rapidfuzz
Levenshtein over the tokens of similar length). Every query token must match.

Phones, tax ids and external ids are exact lookups through the database indexes.
The name index lives in memory, one per database per process: built from one
query, extended with clients added since (a cheap `max(id)` check per search),
and rebuilt after `INDEX_TTL_SECONDS` or `invalidate_search_index()`.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import Select, func, select, union

from services.access import Viewer, visible_clients
from services.clients import ClientCard, build_card
from services.db.models import Client, ClientPhone, User
from services.errors import AccessDenied, ClientNotFound
from services.normalize import normalize_phone, normalize_tax_id
from services.uow import UnitOfWork

PAGE_SIZE = 10
MAX_RESULTS = 100  # beyond this a list of buttons helps nobody: ask to refine
INDEX_TTL_SECONDS = 300.0
NEW_CLIENTS_CHECK_SECONDS = 1.0  # a client added a second ago is found
MIN_PREFIX_LENGTH = 3
MAX_PREFIX_TOKENS = 400
MAX_FUZZY_TOKENS = 30

# --- Normalization -----------------------------------------------------------------------

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


# --- The in-memory name index -------------------------------------------------------------


_Groups = list[tuple[float, set[int]]]


@dataclass
class _KeyMatch:
    """The clients one query word matched, by how well: exact, by prefix, by typos."""

    exact: set[int]
    prefix: set[int]
    typos: dict[int, set[int]]  # Levenshtein distance -> clients

    def tiers(self) -> list[tuple[float, set[int]]]:
        found = [(3.0, self.exact), (2.0, self.prefix)]
        found += [(1.0 - 0.1 * distance, ids) for distance, ids in sorted(self.typos.items())]
        return [(score, ids) for score, ids in found if ids]

    def all(self) -> set[int]:
        return self.exact.union(self.prefix, *self.typos.values())


@dataclass
class SearchIndex:
    """Canonical name tokens -> client ids, with what is needed to filter and rank in memory."""

    postings: dict[str, list[int]] = field(default_factory=dict)
    sorted_tokens: list[str] = field(default_factory=list)
    tokens_by_length: dict[int, list[str]] = field(default_factory=dict)
    sort_names: dict[int, str] = field(default_factory=dict)
    by_owner: dict[int | None, set[int]] = field(default_factory=dict)
    max_id: int = 0

    def add(self, client_id: int, name: str, company: str | None, owner_id: int | None) -> None:
        self.sort_names[client_id] = name.casefold()
        self.by_owner.setdefault(owner_id, set()).add(client_id)
        self.max_id = max(self.max_id, client_id)
        keys = [key for variants in query_keys(name) for key in variants]
        if company and company != name:
            keys += [key for variants in query_keys(company) for key in variants]
        for key in dict.fromkeys(keys):
            ids = self.postings.get(key)
            if ids is None:
                self.postings[key] = [client_id]
                if self.sorted_tokens:  # already finalized: keep the lookups in step
                    bisect.insort(self.sorted_tokens, key)
                    self.tokens_by_length.setdefault(len(key), []).append(key)
            else:
                ids.append(client_id)

    def finalize(self) -> None:
        self.sorted_tokens = sorted(self.postings)
        by_length: dict[int, list[str]] = {}
        for token in self.sorted_tokens:
            by_length.setdefault(len(token), []).append(token)
        self.tokens_by_length = by_length

    def __len__(self) -> int:
        return len(self.sort_names)

    def _prefixed(self, key: str) -> Iterable[str]:
        start = bisect.bisect_left(self.sorted_tokens, key)
        for token in self.sorted_tokens[start : start + MAX_PREFIX_TOKENS]:
            if not token.startswith(key):
                break
            yield token

    def _fuzzy(self, key: str) -> list[tuple[str, int]]:
        if len(key) < 4 or key.isdigit():
            return []
        limit = 1 if len(key) <= 6 else 2
        choices: list[str] = []
        for length in range(len(key) - limit, len(key) + limit + 1):
            choices.extend(self.tokens_by_length.get(length, ()))
        found = process.extract(
            key,
            choices,
            scorer=Levenshtein.distance,
            score_cutoff=limit,
            limit=MAX_FUZZY_TOKENS,
        )
        return [(str(token), int(distance)) for token, distance, _ in found]

    def _match(self, variants: tuple[str, ...]) -> _KeyMatch:
        exact: set[int] = set()
        prefix: set[int] = set()
        for key in variants:
            exact.update(self.postings.get(key, ()))
            if len(key) >= MIN_PREFIX_LENGTH:
                for token in self._prefixed(key):
                    if token != key:
                        prefix.update(self.postings[token])
        prefix -= exact
        typos: dict[int, set[int]] = {}
        if not exact and not prefix:
            for key in variants:
                for token, distance in self._fuzzy(key):
                    typos.setdefault(distance, set()).update(self.postings[token])
        return _KeyMatch(exact, prefix, typos)

    def top(
        self, query: str, owner_id: int | None, limit: int
    ) -> tuple[list[tuple[int, float]], int]:
        """The best `limit` matches as (client id, score), and how many matched in all.

        Every word must match. Clients are grouped by score with set operations
        (exact 3, prefix 2, typo 0.9/0.8 per word), so ranking costs little even
        when a short prefix matches thousands; inside a group, by name.
        """
        matches = [self._match(variants) for variants in query_keys(query)]
        if not matches:
            return [], 0
        found = sorted((match.all() for match in matches), key=len)
        candidates = found[0].intersection(*found[1:])
        if owner_id is not None:
            candidates &= self.by_owner.get(owner_id, set())
        if not candidates:
            return [], 0
        groups: _Groups = [(0.0, candidates)]
        for match in matches:
            split: _Groups = []
            for score, ids in groups:
                for tier_score, tier in match.tiers():
                    common = ids & tier
                    if common:
                        split.append((score + tier_score, common))
                        ids = ids - common
            groups = split
        groups.sort(key=lambda group: -group[0])
        best: list[tuple[int, float]] = []
        names = self.sort_names.__getitem__
        for score, ids in groups:
            room = limit - len(best)
            if room <= 0:
                break
            chosen = (
                sorted(ids, key=names)
                if len(ids) <= room
                else heapq.nsmallest(room, ids, key=names)
            )
            best.extend((client_id, score) for client_id in chosen)
        return best, len(candidates)

    def find(self, query: str, owner_id: int | None = None) -> list[tuple[int, float]]:
        """All clients matching every word of `query`, best first, as (client id, score)."""
        return self.top(query, owner_id, len(self.sort_names))[0]


@dataclass
class _CachedIndex:
    index: SearchIndex | None = None
    built_at: float = 0.0
    checked_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


_CACHE: dict[str, _CachedIndex] = {}


def invalidate_search_index() -> None:
    """Forget every cached index (after bulk renames, imports, reassignments)."""
    for cached in _CACHE.values():
        cached.index = None
        cached.checked_at = 0.0


def _index_rows(after_id: int = 0) -> Select[int, str, str | None, int | None]:
    return (
        select(Client.id, Client.name, Client.company, Client.owner_id)
        .where(Client.id > after_id)
        .order_by(Client.id)
    )


def _index_from(rows: list[tuple[int, str, str | None, int | None]]) -> SearchIndex:
    index = SearchIndex()
    for client_id, name, company, owner_id in rows:
        index.add(client_id, name, company, owner_id)
    index.finalize()
    return index


async def _build_index(uow: UnitOfWork) -> SearchIndex:
    """One query; the tokenizing (about 2 s per 100,000 clients) runs in a worker thread
    so the bot keeps answering other people meanwhile."""
    result = await uow.session.execute(_index_rows())
    rows = [(row[0], row[1], row[2], row[3]) for row in result]
    return await asyncio.to_thread(_index_from, rows)


def _cache_key(uow: UnitOfWork) -> str:
    return uow.session.get_bind().engine.url.render_as_string(hide_password=True)


async def name_index(uow: UnitOfWork) -> SearchIndex:
    """This database's name index, fresh enough to show clients added a moment ago.

    The first search builds it and everyone waits; after the TTL one search rebuilds
    it while the others keep using the old one. Clients added since the last build
    (a higher id) are added on the way, under the same lock.
    """
    cached = _CACHE.setdefault(_cache_key(uow), _CachedIndex())
    if cached.index is None or (
        time.monotonic() - cached.built_at > INDEX_TTL_SECONDS and not cached.lock.locked()
    ):
        async with cached.lock:
            if cached.index is None or time.monotonic() - cached.built_at > INDEX_TTL_SECONDS:
                cached.index = await _build_index(uow)
                cached.built_at = cached.checked_at = time.monotonic()
            return cached.index
    index = cached.index
    if cached.lock.locked():  # being rebuilt or extended right now: the old one will do
        return index
    if time.monotonic() - cached.checked_at < NEW_CLIENTS_CHECK_SECONDS:
        return index
    async with cached.lock:
        cached.checked_at = time.monotonic()
        newest = await uow.session.scalar(select(func.max(Client.id)))
        if newest is not None and newest > index.max_id:
            for client_id, name, company, owner_id in await uow.session.execute(
                _index_rows(index.max_id)
            ):
                index.add(client_id, name, company, owner_id)
    return index


# --- The service --------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    client_id: int
    name: str
    company: str | None
    owner_id: int | None
    owner_name: str | None
    is_vip: bool


@dataclass(frozen=True)
class SearchPage:
    """One page of what a query found; `card` is set when exactly one client matched."""

    query: str
    hits: tuple[SearchHit, ...]
    page: int
    pages: int
    total: int
    truncated: bool
    show_owner: bool
    card: ClientCard | None = None


async def _exact_ids(uow: UnitOfWork, query: str) -> list[int]:
    """Clients whose phone, tax id or external id is exactly what was typed.

    One UNION of index lookups: an OR across columns would scan the table on SQLite.
    """
    lookups: list[Select[int]] = [select(Client.id).where(Client.external_id == query)]
    phone = query_phone(query)
    if phone is not None:
        lookups.append(select(ClientPhone.client_id).where(ClientPhone.phone == phone))
    tax_id = normalize_tax_id(query)
    if tax_id is not None:
        lookups.append(select(Client.id).where(Client.tax_id == tax_id))
    statement = union(*lookups) if len(lookups) > 1 else lookups[0]
    rows = await uow.session.scalars(statement.limit(MAX_RESULTS))
    return sorted(set(rows))


async def _load_hits(uow: UnitOfWork, viewer: Viewer, ids: list[int]) -> list[SearchHit]:
    if not ids:
        return []
    rows = await uow.session.execute(
        select(
            Client.id,
            Client.name,
            Client.company,
            Client.owner_id,
            User.display_name,
            Client.is_vip,
        )
        .outerjoin(User, User.id == Client.owner_id)
        .where(Client.id.in_(ids), visible_clients(viewer))
    )
    by_id = {row[0]: SearchHit(*row) for row in rows}
    return [by_id[cid] for cid in ids if cid in by_id]


def _hit(card: ClientCard) -> SearchHit:
    return SearchHit(
        card.client_id, card.name, card.company, card.owner_id, card.owner_name, card.is_vip
    )


async def _card_if_visible(
    uow: UnitOfWork, viewer: Viewer, client_id: int, now: datetime
) -> ClientCard | None:
    """The card, or None for a client the viewer may not see (not even hinted at)."""
    try:
        return await build_card(uow, viewer, client_id, now)
    except (AccessDenied, ClientNotFound):
        return None


def _is_identifier_like(query: str) -> bool:
    """Digits and phone punctuation only: a name search would find nothing sensible."""
    return bool(re.fullmatch(r"[\d\s()+\-.]+", query))


async def search_clients(
    uow: UnitOfWork,
    viewer: Viewer,
    query: str,
    *,
    page: int = 0,
    now: datetime | None = None,
    page_size: int = PAGE_SIZE,
) -> SearchPage:
    """Find the clients the viewer may see; with exactly one match and `now`, include its card."""
    query = " ".join(query.split())
    hits: list[SearchHit] = []
    card = None
    async with uow:
        # External ids, phones and tax ids all have digits; names rarely do.
        ids = await _exact_ids(uow, query) if _DIGIT.search(query) else []
        total = len(ids)
        if not ids and query and not _is_identifier_like(query):
            index = await name_index(uow)
            ranked, total = index.top(query, viewer.scope_owner_id, MAX_RESULTS)
            ids = [cid for cid, _ in ranked]
        if len(ids) == 1 and now is not None:
            card = await _card_if_visible(uow, viewer, ids[0], now)
            hits = [_hit(card)] if card is not None else []
        else:
            hits = await _load_hits(uow, viewer, ids)
            if len(hits) == 1 and now is not None:
                card = await build_card(uow, viewer, hits[0].client_id, now)
        if len(hits) != len(ids):  # the index was stale (owner changed, client deleted)
            total = max(len(hits), total - (len(ids) - len(hits)))
    pages = max(1, -(-len(hits) // page_size))
    page = min(max(page, 0), pages - 1)
    return SearchPage(
        query=query,
        hits=tuple(hits[page * page_size : (page + 1) * page_size]),
        page=page,
        pages=pages,
        total=total,
        truncated=total > len(hits),
        show_owner=viewer.sees_all,
        card=card,
    )


__all__ = [
    "MAX_RESULTS",
    "PAGE_SIZE",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "canonical_token",
    "invalidate_search_index",
    "key_variants",
    "name_index",
    "query_keys",
    "query_phone",
    "search_clients",
    "search_keys",
    "stem",
    "transliterate_to_cyrillic",
    "transliterate_to_latin",
]
