"""The in-memory name index and the store that keeps it in step with the database.

A typed word matches, best first: a word of the name exactly as written ("Баранова" is
not "Баранов"), a word of the name in another form ("Баранову"), a part of a word
written as one ("плюс" in "МонолитПлюс") or two words written together, the beginning
of any of these (three letters or more), or, when none of that finds anything, the
word with one typo (two in long words: a dropped, a wrong or two swapped letters).
Every word must match, except that a word which names a city, or a person of the team,
narrows the others instead when it matches no name among them ("Сорокин Подольск").
Phone numbers are kept by their last digits, for numbers copied from a sticky note.

`SearchIndexStore` owns one process's index of one database. Everything that changes
client names, owners, cities or phones bumps the `clients` stamp in `data_versions` in
its own transaction (`services.db.versions.clients_changed`), whichever process it runs
in; the store compares that stamp on each lookup, adds clients created since at once,
and rebuilds the whole index in the background while the previous one keeps answering.
An import run from the command line therefore shows in the bot's search within seconds.
The index built last is kept in the database too (`search_snapshots`), so a restarted
bot answers its first search from it instead of waiting for a build.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import heapq
import inspect
import json
import logging
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import Select, delete, select

from services.db.models import Client, ClientPhone, SearchSnapshot, User
from services.db.types import utcnow
from services.db.versions import CLIENTS, read_version
from services.search.normalize import (
    QueryWord,
    cased_words,
    compound_parts,
    is_company_name,
    key_variants,
    query_words,
    surface_token,
)
from services.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MIN_PREFIX_LENGTH = 3
MAX_PREFIX_TOKENS = 400
MAX_FUZZY_TOKENS = 30
MIN_FUZZY_LENGTH = 4
LONG_WORD = 8  # from this length two typos are forgiven
MIN_CITY_PREFIX = 4
PHONE_TAIL = 7  # the local number without its area code
KEEP_EVERY_BUILDS = 20  # each edit rebuilds; writing every build to the database is waste
SHORT_PHONE_TAIL = 4
_QUOTES = frozenset('«»"“”„')

# Scores of one word's match; a client's score is the sum over the words.
SURFACE, EXACT, PART, PREFIX, QUALIFIER = 4.0, 3.0, 2.5, 2.0, 1.5
JOINED = 1.0  # bonus: two typed words are one word of the name ("монолит плюс")
MAX_JOINED_WORDS = 4
SURFACE_TYPO, STEM_TYPO = 1.0, 0.7  # minus 0.1 per typo

_Groups = list[tuple[float, set[int]]]


def _rules_fingerprint() -> str:
    """Which rules built a kept index: one built by other code is not read back."""
    digest = hashlib.sha256()
    for path in (Path(__file__), Path(inspect.getfile(cased_words))):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


SNAPSHOT_FORMAT = _rules_fingerprint()


def _keys(word: str) -> tuple[str, ...]:
    return tuple(key for key in key_variants(word) if len(key) >= 2 or key.isdigit())


@dataclass
class _WordMatch:
    """The clients one query word matched, by how well."""

    tiers: list[tuple[float, set[int]]]
    qualifier: set[int] | None = None  # clients in the city or of the person it names

    def all(self) -> set[int]:
        return set().union(*(ids for _, ids in self.tiers))


@lru_cache(maxsize=200_000)
def _word_entry(word: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """A word of a name as written: its surface form, its keys and the keys of its parts."""
    low = word.lower()
    parts = tuple(key for part in compound_parts(word) for key in _keys(part.lower()))
    return surface_token(low), _keys(low), parts


@lru_cache(maxsize=10_000)
def _city_keys(city: str) -> tuple[str, ...]:
    return tuple(key for word in cased_words(city) for key in _keys(word.lower()))


def _collect(
    words: Sequence[str], surfaces: set[str], keys: set[str], parts: set[str], *, together: bool
) -> None:
    """The keys of one text; `together`: a company name, also typed with its words joined."""
    for word in words:
        surface, word_keys, part_keys = _word_entry(word)
        surfaces.add(surface)
        keys.update(word_keys)
        parts.update(part_keys)
    if together:  # "Монолит Плюс" -> "монолитплюс"
        for first, second in pairwise(words):
            parts.update(_keys((first + second).lower()))


@dataclass
class SearchIndex:
    """Name tokens -> client ids, with what is needed to filter and rank in memory."""

    words: dict[str, list[int]] = field(default_factory=dict)  # canonical key of a word
    surfaces: dict[str, list[int]] = field(default_factory=dict)  # a word as written
    parts: dict[str, list[int]] = field(default_factory=dict)  # parts, words written together
    cities: dict[str, set[int]] = field(default_factory=dict)  # canonical key of a city word
    team: dict[str, set[int]] = field(default_factory=dict)  # a word of a user's name -> ids
    sort_names: dict[int, str] = field(default_factory=dict)
    by_owner: dict[int | None, set[int]] = field(default_factory=dict)
    max_id: int = 0
    sorted_tokens: list[str] = field(default_factory=list)
    words_by_length: dict[int, list[str]] = field(default_factory=dict)
    surfaces_by_length: dict[int, list[str]] = field(default_factory=dict)
    _tails: Any = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _tail_clients: Any = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _new_phones: list[tuple[int, int]] = field(default_factory=list)
    _finalized: bool = False

    # --- building ---------------------------------------------------------------------

    def add(
        self,
        client_id: int,
        name: str,
        company: str | None,
        owner_id: int | None,
        city: str | None = None,
        phones: Iterable[str] = (),
    ) -> None:
        words = cased_words(name)
        self.sort_names[client_id] = " ".join(words).casefold() or name.casefold()
        self.by_owner.setdefault(owner_id, set()).add(client_id)
        if client_id > self.max_id:
            self.max_id = client_id
        surfaces: set[str] = set()
        keys: set[str] = set()
        parts: set[str] = set()
        _collect(words, surfaces, keys, parts, together=is_company_name(name))
        if company and company != name:
            _collect(cased_words(company), surfaces, keys, parts, together=True)
        parts -= keys
        if self._finalized:
            self._add_live(client_id, surfaces, keys, parts)
        else:
            for postings, found in ((self.surfaces, surfaces), (self.words, keys)):
                for key in found:
                    postings.setdefault(key, []).append(client_id)
            for key in parts:
                self.parts.setdefault(key, []).append(client_id)
        if city:
            for key in _city_keys(city):
                self.cities.setdefault(key, set()).add(client_id)
        for phone in phones:
            if len(phone) >= PHONE_TAIL and phone.isdigit():
                self._new_phones.append((int(phone[-PHONE_TAIL:]), client_id))
        if self._finalized:
            self._merge_phones()

    def _add_live(
        self, client_id: int, surfaces: set[str], keys: set[str], parts: set[str]
    ) -> None:
        """Add to a finalized index, keeping the prefix and typo lookups in step."""
        for surface in surfaces:
            if surface not in self.surfaces:
                self.surfaces_by_length.setdefault(len(surface), []).append(surface)
            self.surfaces.setdefault(surface, []).append(client_id)
        for postings, found in ((self.words, keys), (self.parts, parts)):
            for key in found:
                if key not in postings:
                    position = bisect.bisect_left(self.sorted_tokens, key)
                    if position == len(self.sorted_tokens) or self.sorted_tokens[position] != key:
                        self.sorted_tokens.insert(position, key)
                    if postings is self.words:
                        self.words_by_length.setdefault(len(key), []).append(key)
                postings.setdefault(key, []).append(client_id)

    def add_team_member(self, user_id: int, display_name: str) -> None:
        """A person whose name, typed after a client's, narrows to their clients."""
        for word in cased_words(display_name):
            for key in _keys(word.lower()):
                self.team.setdefault(key, set()).add(user_id)

    def finalize(self) -> None:
        self.sorted_tokens = sorted(self.words.keys() | self.parts.keys())
        self.words_by_length = _by_length(self.words)
        self.surfaces_by_length = _by_length(self.surfaces)
        self._merge_phones()
        self._finalized = True

    def _merge_phones(self) -> None:
        if not self._new_phones:
            return
        tails = np.fromiter((tail for tail, _ in self._new_phones), dtype=np.int64)
        owners = np.fromiter((cid for _, cid in self._new_phones), dtype=np.int64)
        self._tails = np.concatenate([self._tails, tails])
        self._tail_clients = np.concatenate([self._tail_clients, owners])
        self._new_phones = []

    def __len__(self) -> int:
        return len(self.sort_names)

    # --- looking up -------------------------------------------------------------------

    def phone_tail(self, digits: str, owner_id: int | None = None) -> list[int]:
        """Clients with a phone ending in these 7 (or 4) digits, in id order."""
        if not digits.isdigit() or len(digits) not in (PHONE_TAIL, SHORT_PHONE_TAIL):
            return []
        value = int(digits)
        tails = self._tails if len(digits) == PHONE_TAIL else self._tails % 10**SHORT_PHONE_TAIL
        found = {int(cid) for cid in self._tail_clients[tails == value]}
        if owner_id is not None:
            found &= self.by_owner.get(owner_id, set())
        return sorted(found)

    def _prefixed(self, key: str) -> Iterable[str]:
        start = bisect.bisect_left(self.sorted_tokens, key)
        for token in self.sorted_tokens[start : start + MAX_PREFIX_TOKENS]:
            if not token.startswith(key):
                break
            yield token

    @staticmethod
    def _fuzzy(key: str, by_length: dict[int, list[str]]) -> list[tuple[str, int]]:
        if len(key) < MIN_FUZZY_LENGTH or key.isdigit():
            return []
        limit = 2 if len(key) >= LONG_WORD else 1
        choices: list[str] = []
        for length in range(len(key) - limit, len(key) + limit + 1):
            choices.extend(by_length.get(length, ()))
        found = process.extract(
            key, choices, scorer=OSA.distance, score_cutoff=limit, limit=MAX_FUZZY_TOKENS
        )
        return [(str(token), int(distance)) for token, distance, _ in found]

    def _qualifier(self, word: QueryWord) -> set[int] | None:
        """Clients in the city, or of the team member, that the word names; None if none."""
        found: set[int] = set()
        for key in word.keys:
            found |= self.cities.get(key, set())
            if len(key) >= MIN_CITY_PREFIX:
                for city_key in self.cities:
                    if city_key != key and city_key.startswith(key):
                        found |= self.cities[city_key]
            for user_id in self.team.get(key, ()):
                found |= self.by_owner.get(user_id, set())
        return found or None

    def _match(self, word: QueryWord, *, may_qualify: bool) -> _WordMatch:
        surface = set(self.surfaces.get(word.surface, ()))
        exact: set[int] = set()
        part: set[int] = set()
        prefix: set[int] = set()
        for key in word.keys:
            exact.update(self.words.get(key, ()))
            part.update(self.parts.get(key, ()))
            if len(key) >= MIN_PREFIX_LENGTH and not word.is_number:
                for token in self._prefixed(key):
                    if token != key:
                        prefix.update(self.words.get(token, ()))
                        prefix.update(self.parts.get(token, ()))
        exact -= surface
        part -= surface | exact
        prefix -= surface | exact | part
        tiers = [(SURFACE, surface), (EXACT, exact), (PART, part), (PREFIX, prefix)]
        qualifier = self._qualifier(word) if may_qualify else None
        if not (surface or exact or part or prefix) and qualifier is None:
            tiers += self._typos(word)
        return _WordMatch([(score, ids) for score, ids in tiers if ids], qualifier)

    def _typos(self, word: QueryWord) -> list[tuple[float, set[int]]]:
        """One typo (two in long words) in the word as written, else in its canonical key."""
        found: dict[float, set[int]] = {}
        for token, distance in self._fuzzy(word.surface, self.surfaces_by_length):
            found.setdefault(SURFACE_TYPO - 0.1 * distance, set()).update(self.surfaces[token])
        for key in word.keys:  # "Ивоновой": the typo in another form of the name
            for token, distance in self._fuzzy(key, self.words_by_length):
                found.setdefault(STEM_TYPO - 0.1 * distance, set()).update(self.words[token])
        tiers: list[tuple[float, set[int]]] = []
        seen: set[int] = set()
        for score, ids in sorted(found.items(), reverse=True):
            tiers.append((score, ids - seen))
            seen |= ids
        return tiers

    @staticmethod
    def _joined(words: Sequence[QueryWord]) -> list[tuple[int, QueryWord]]:
        """Each two neighbouring words written as one, with the position of the first."""
        if not 1 < len(words) <= MAX_JOINED_WORDS:
            return []
        found = []
        for position, (first, second) in enumerate(pairwise(words)):
            if first.is_number or second.is_number:
                continue
            together = query_words(first.text + second.text)
            if together:
                found.append((position, together[0]))
        return found

    def candidates(
        self, words: Sequence[QueryWord], owner_id: int | None
    ) -> tuple[set[int], list[_WordMatch]]:
        """Who matches every word (a qualifying word may narrow instead), and how each did."""
        may_qualify = len(words) > 1
        matches = [self._match(word, may_qualify=may_qualify) for word in words]
        plain = [m for m in matches if m.qualifier is None]
        qualifying = [m for m in matches if m.qualifier is not None]
        if not plain:  # "Смирнова Москва": the first word is a name all the same
            plain, qualifying = qualifying[:1], qualifying[1:]
            plain[0].qualifier = None
        found = sorted((m.all() for m in plain), key=len)
        base = found[0].intersection(*found[1:])
        if owner_id is not None:
            base &= self.by_owner.get(owner_id, set())
        for match in qualifying:
            assert match.qualifier is not None
            narrowed = base & match.all()
            if narrowed:
                base, match.qualifier = narrowed, None
            else:
                base &= match.qualifier
                match.tiers = [(QUALIFIER, match.qualifier)]
        return base, matches

    def top(
        self, query: str | Sequence[QueryWord], owner_id: int | None, limit: int
    ) -> tuple[list[tuple[int, float]], int]:
        """The best `limit` matches as (client id, score), and how many matched in all.

        Clients are grouped by score with set operations, so ranking costs little even
        when a short prefix matches thousands; inside a group, by name.
        """
        words = query_words(query) if isinstance(query, str) else list(query)
        if not words:
            return [], 0
        candidates, matches = self.candidates(words, owner_id)
        joined = self._joined(words)
        if not candidates and joined:  # "монолит плюс" for a company written "Монолитплюс"
            for first, together in joined:
                rest = [*words[:first], together, *words[first + 2 :]]
                candidates, matches = self.candidates(rest, owner_id)
                if candidates:
                    break
        if not candidates:
            return [], 0
        for _, together in joined:  # the words as one word of the name rank first
            whole = set(self.surfaces.get(together.surface, ()))
            for key in together.keys:
                whole.update(self.words.get(key, ()))
            if whole & candidates:
                matches.append(_WordMatch([(JOINED, whole), (0.0, candidates)]))
        groups: _Groups = [(0.0, candidates)]
        for match in matches:
            split: _Groups = []
            for score, ids in groups:
                for tier_score, tier in match.tiers:
                    common = ids & tier
                    if common:
                        split.append((score + tier_score, common))
                        ids = ids - common
            groups = split
        groups.sort(key=lambda group: -group[0])
        best: list[tuple[int, float]] = []
        names = self.sort_names

        def by_name(client_id: int) -> tuple[str, int]:
            return names[client_id], client_id

        for score, ids in groups:
            room = limit - len(best)
            if room <= 0:
                break
            chosen = (
                sorted(ids, key=by_name)
                if len(ids) <= room
                else heapq.nsmallest(room, ids, key=by_name)
            )
            best.extend((client_id, score) for client_id in chosen)
        return best, len(candidates)

    def find(self, query: str, owner_id: int | None = None) -> list[tuple[int, float]]:
        """All clients matching every word of `query`, best first, as (client id, score)."""
        return self.top(query, owner_id, len(self.sort_names))[0]

    # --- keeping it in the database -------------------------------------------------------

    def to_payload(self) -> bytes:
        """The built index as compressed JSON (data only: safe to read back)."""
        owners = {str(owner): sorted(ids) for owner, ids in self.by_owner.items()}
        data = {
            "format": SNAPSHOT_FORMAT,
            "words": self.words,
            "surfaces": self.surfaces,
            "parts": self.parts,
            "cities": {key: sorted(ids) for key, ids in self.cities.items()},
            "team": {key: sorted(ids) for key, ids in self.team.items()},
            "names": [[cid, name] for cid, name in self.sort_names.items()],
            "owners": owners,
            "tails": self._tails.tolist(),
            "tail_clients": self._tail_clients.tolist(),
        }
        return zlib.compress(json.dumps(data, ensure_ascii=False).encode(), 1)

    @classmethod
    def from_payload(cls, payload: bytes) -> SearchIndex | None:
        """An index read back by `to_payload`; None for another format."""
        data = json.loads(zlib.decompress(payload))
        if data.get("format") != SNAPSHOT_FORMAT:
            return None
        index = cls(
            words=data["words"],
            surfaces=data["surfaces"],
            parts=data["parts"],
            cities={key: set(ids) for key, ids in data["cities"].items()},
            team={key: {int(i) for i in ids} for key, ids in data["team"].items()},
            sort_names={int(cid): name for cid, name in data["names"]},
            by_owner={
                (None if owner == "None" else int(owner)): set(ids)
                for owner, ids in data["owners"].items()
            },
        )
        index.max_id = max(index.sort_names, default=0)
        index._tails = np.asarray(data["tails"], dtype=np.int64)
        index._tail_clients = np.asarray(data["tail_clients"], dtype=np.int64)
        index.finalize()
        return index


def _by_length(postings: dict[str, list[int]]) -> dict[int, list[str]]:
    by_length: dict[int, list[str]] = {}
    for token in postings:
        by_length.setdefault(len(token), []).append(token)
    return by_length


@dataclass(frozen=True)
class IndexRow:
    """What the index knows of one client."""

    client_id: int
    name: str
    company: str | None
    owner_id: int | None
    city: str | None = None
    phones: tuple[str, ...] = ()


def _client_rows(after_id: int = 0) -> Select[int, str, str | None, int | None, str | None]:
    return (
        select(Client.id, Client.name, Client.company, Client.owner_id, Client.city)
        .where(Client.id > after_id)
        .order_by(Client.id)
    )


async def load_rows(uow: UnitOfWork, after_id: int = 0) -> list[IndexRow]:
    """The index rows of clients with an id above `after_id` (inside `async with uow`)."""
    phones: dict[int, list[str]] = {}
    phone_rows = select(ClientPhone.client_id, ClientPhone.phone).order_by(ClientPhone.id)
    if after_id:
        phone_rows = phone_rows.where(ClientPhone.client_id > after_id)
    for client_id, phone in await uow.session.execute(phone_rows):
        phones.setdefault(client_id, []).append(phone)
    return [
        IndexRow(cid, name, company, owner_id, city, tuple(phones.get(cid, ())))
        for cid, name, company, owner_id, city in await uow.session.execute(_client_rows(after_id))
    ]


async def load_team(uow: UnitOfWork) -> list[tuple[int, str]]:
    """Everyone who may own clients, by id and name."""
    return [
        (uid, name) for uid, name in await uow.session.execute(select(User.id, User.display_name))
    ]


def build_index(
    rows: Iterable[IndexRow | tuple[Any, ...]], team: Iterable[tuple[int, str]] = ()
) -> SearchIndex:
    """A finalized index of client rows (and the team's names); CPU-bound."""
    index = SearchIndex()
    for row in rows:
        if isinstance(row, IndexRow):
            index.add(row.client_id, row.name, row.company, row.owner_id, row.city, row.phones)
        else:
            index.add(*row)
    for user_id, display_name in team:
        index.add_team_member(user_id, display_name)
    index.finalize()
    return index


async def _read_snapshot(uow: UnitOfWork) -> tuple[int, bytes] | None:
    """The kept index, if the code of this process built it."""
    row = (
        await uow.session.execute(
            select(SearchSnapshot.version, SearchSnapshot.payload).where(
                SearchSnapshot.name == CLIENTS, SearchSnapshot.rules == SNAPSHOT_FORMAT
            )
        )
    ).first()
    return (int(row[0]), bytes(row[1])) if row is not None else None


async def _write_snapshot(uow: UnitOfWork, version: int, payload: bytes) -> None:
    """Replace the kept index unless one as new, by the same code, is there; commits."""
    kept = (
        await uow.session.execute(
            select(SearchSnapshot.version, SearchSnapshot.rules).where(
                SearchSnapshot.name == CLIENTS
            )
        )
    ).first()
    if kept is not None and int(kept[0]) >= version and kept[1] == SNAPSHOT_FORMAT:
        return
    await uow.session.execute(delete(SearchSnapshot).where(SearchSnapshot.name == CLIENTS))
    uow.session.add(
        SearchSnapshot(
            name=CLIENTS,
            version=version,
            rules=SNAPSHOT_FORMAT,
            payload=payload,
            created_at=utcnow(),
        )
    )
    await uow.commit()


class SearchIndexStore:
    """One process's name index of one database, kept in step with the `clients` stamp.

    Injected into the handlers (and the benchmark) by the composition root. `start()`
    loads the index kept in the database (or builds one) in the background at the bot's
    start. Each lookup compares the stamp (one primary-key read in the lookup's own
    transaction): clients created since are added at once, and any other change starts a
    rebuild in the background while the previous index keeps answering; each build is
    kept in the database for the next start.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, *, keep: bool = True) -> None:
        self._uow_factory = uow_factory
        self._keep = keep
        self._index: SearchIndex | None = None
        self._version: int | None = None
        self._rebuild: asyncio.Task[None] | None = None
        self.started_from_kept_index = False  # the first index was read from the database
        self.catching_up = False  # a change is being built in: owners may be out of date
        self._builds_since_kept: int | None = None  # None: nothing kept by this process yet

    def start(self) -> None:
        """Load or build the index in the background (at the bot's start)."""
        if self._rebuild is None:
            self._rebuild = asyncio.create_task(self._first_index())

    async def close(self) -> None:
        if self._rebuild is not None and not self._rebuild.done():
            self._rebuild.cancel()
            await asyncio.gather(self._rebuild, return_exceptions=True)

    async def index(self, uow: UnitOfWork) -> SearchIndex:
        """The index as of the stamp `uow` sees (call inside `async with uow`)."""
        if self._index is None:
            if self._rebuild is None or self._rebuild.done():
                self._rebuild = asyncio.create_task(self._first_index())
            await asyncio.shield(self._rebuild)
        index = self._index
        assert index is not None
        version = await read_version(uow, CLIENTS)
        if version != self._version:
            for row in await load_rows(uow, index.max_id):
                index.add(row.client_id, row.name, row.company, row.owner_id, row.city, row.phones)
            self.catching_up = True
            if self._rebuild is None or self._rebuild.done():
                self._rebuild = asyncio.create_task(self._rebuild_now())
        return index

    async def _first_index(self) -> None:
        """The kept index when there is one (a rebuild follows if it is stale), else a build."""
        if self._keep:
            try:
                async with self._uow_factory() as uow:
                    kept = await _read_snapshot(uow)
                if kept is not None:
                    index = await asyncio.to_thread(SearchIndex.from_payload, kept[1])
                    if index is not None:
                        self._index, self._version = index, kept[0]
                        self.started_from_kept_index = True
                        return
            except Exception:
                log.exception("could not read the kept search index; building a new one")
        await self._rebuild_now()

    def _time_to_keep(self) -> bool:
        """Keep the first build of the process, then every `KEEP_EVERY_BUILDS`-th one.

        A kept index only has to be a good start: a stale one is brought up to date
        by a rebuild right after it is read.
        """
        if self._builds_since_kept is not None and self._builds_since_kept < KEEP_EVERY_BUILDS:
            self._builds_since_kept += 1
            return False
        self._builds_since_kept = 1
        return True

    async def _rebuild_now(self) -> None:
        try:
            async with self._uow_factory() as uow:
                version = await read_version(uow, CLIENTS)
                rows = await load_rows(uow)
                team = await load_team(uow)
            # tokenizing takes about a second per 100,000 clients: keep answering meanwhile
            index = await asyncio.to_thread(build_index, rows, team)
        except Exception:
            log.exception("could not build the search index")
            raise
        self._index, self._version = index, version
        self.catching_up = False
        if self._keep and self._time_to_keep():
            try:
                payload = await asyncio.to_thread(index.to_payload)
                async with self._uow_factory() as uow:
                    await _write_snapshot(uow, version, payload)
            except Exception:  # the index works without being kept
                log.exception("could not keep the search index in the database")
