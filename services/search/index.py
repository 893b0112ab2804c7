"""The in-memory name index and the store that keeps it in step with the database.

A query token matches an indexed token exactly, as a prefix (three letters or more), or,
when neither finds anything, within one or two typos (rapidfuzz Levenshtein over the
tokens of similar length). Every query token must match.

`SearchIndexStore` owns one process's index of one database. Everything that changes
client names or owners bumps the `clients` stamp in `data_versions` in its own
transaction (`services.db.versions.clients_changed`), whichever process it runs in; the
store compares that stamp on each lookup, adds clients created since at once, and rebuilds
the whole index in the background while the previous one keeps answering. An import run
from the command line therefore shows in the bot's search within seconds.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import Select, select

from services.db.models import Client
from services.db.versions import CLIENTS, read_version
from services.search.normalize import query_keys
from services.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MIN_PREFIX_LENGTH = 3
MAX_PREFIX_TOKENS = 400
MAX_FUZZY_TOKENS = 30


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


_Row = tuple[int, str, str | None, int | None]


def _index_rows(after_id: int = 0) -> Select[int, str, str | None, int | None]:
    return (
        select(Client.id, Client.name, Client.company, Client.owner_id)
        .where(Client.id > after_id)
        .order_by(Client.id)
    )


def build_index(rows: Iterable[_Row]) -> SearchIndex:
    """A finalized index of (id, name, company, owner id) rows; CPU-bound."""
    index = SearchIndex()
    for client_id, name, company, owner_id in rows:
        index.add(client_id, name, company, owner_id)
    index.finalize()
    return index


class SearchIndexStore:
    """One process's name index of one database, kept in step with the `clients` stamp.

    Injected into the handlers (and the benchmark) by the composition root; `start()`
    builds the index in the background so the first search after a start rarely waits.
    Each lookup compares the stamp (one primary-key read in the lookup's own transaction):
    clients created since are added at once, and any other change starts a rebuild in the
    background while the previous index keeps answering.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory
        self._index: SearchIndex | None = None
        self._version: int | None = None
        self._rebuild: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Build the index in the background (at the bot's start)."""
        if self._rebuild is None:
            self._rebuild = asyncio.create_task(self._rebuild_now())

    async def close(self) -> None:
        if self._rebuild is not None and not self._rebuild.done():
            self._rebuild.cancel()
            await asyncio.gather(self._rebuild, return_exceptions=True)

    async def index(self, uow: UnitOfWork) -> SearchIndex:
        """The index as of the stamp `uow` sees (call inside `async with uow`)."""
        if self._index is None:
            if self._rebuild is None or self._rebuild.done():
                self._rebuild = asyncio.create_task(self._rebuild_now())
            await asyncio.shield(self._rebuild)
        index = self._index
        assert index is not None
        version = await read_version(uow, CLIENTS)
        if version != self._version:
            for client_id, name, company, owner_id in await uow.session.execute(
                _index_rows(index.max_id)
            ):
                index.add(client_id, name, company, owner_id)
            if self._rebuild is None or self._rebuild.done():
                self._rebuild = asyncio.create_task(self._rebuild_now())
        return index

    async def _rebuild_now(self) -> None:
        try:
            async with self._uow_factory() as uow:
                version = await read_version(uow, CLIENTS)
                rows = [tuple(row) for row in await uow.session.execute(_index_rows())]
            # tokenizing takes about 2 s per 100,000 clients: keep answering meanwhile
            index = await asyncio.to_thread(build_index, rows)  # type: ignore[arg-type]
        except Exception:
            log.exception("could not build the search index")
            raise
        self._index, self._version = index, version
