"""Finding a client by whatever a manager types: a name in any case or script, a phone, a tax id.

Names go through the name index (`services.search.index`); phones, tax ids and external
ids are exact lookups through the database indexes, and the tail of a phone number (the
last 7 digits, or the last 4 when only one of the viewer's clients has them) goes
through the index's phone tails. A label typed or pasted before a number ("ИНН 7701…",
"тел. 723-07-31") is ignored, and so are characters that do not show. A second word
that is a segment ("Петров AX") keeps the clients of that segment.

A manager who finds nothing among their own clients is told whose client it is when a
colleague's matches (never the card itself, unless the company lets everyone see all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, union

from services.access import Viewer, visible_clients
from services.clients import ClientCard, build_card
from services.db.models import Client, ClientPhone, ClientSegment, User
from services.errors import AccessDenied, ClientNotFound
from services.normalize import normalize_tax_id
from services.search.index import PHONE_TAIL, SHORT_PHONE_TAIL, SearchIndex, SearchIndexStore
from services.search.normalize import QueryWord, clean_text, query_phone, query_words
from services.uow import UnitOfWork

PAGE_SIZE = 10
MAX_RESULTS = 100  # beyond this a list of buttons helps nobody: ask to refine
SEGMENT_CANDIDATES = 5000  # how many name matches a segment word filters
LOOKUP_CHUNK = 500
MAX_QUERY_LENGTH = 200
# "ИНН 7701234567", "тел.: 723-07-31", "№ DEMO-12": the label says nothing about whom
_LABEL = re.compile(
    r"^(?:инн|inn|тел(?:ефон)?|tel|phone|моб(?:ильный)?|код|id|№)\.?\s*[:#№-]?\s*",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"[\d\s()+\-.]+")
# A segment as typed: Latin or the Cyrillic letters that look the same ("АХ", "ВУ")
_SEGMENT = re.compile(r"[abcавс][xyzху]")
_SEGMENT_LETTERS = str.maketrans("авсху", "abcxy")


@dataclass(frozen=True)
class SearchHit:
    client_id: int
    name: str
    company: str | None
    owner_id: int | None
    owner_name: str | None
    is_vip: bool
    city: str | None = None
    tax_id: str | None = None


@dataclass(frozen=True)
class OwnerMatches:
    """Clients the viewer may not open that matched, by whose they are."""

    owner_id: int | None
    owner_name: str | None
    count: int
    client_name: str | None  # when it is exactly one client


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
    elsewhere: tuple[OwnerMatches, ...] = ()  # colleagues' clients that matched
    ambiguous_tail: int = 0  # clients sharing the 4 last digits typed
    segment: str | None = None  # the segment a word of the query asked for

    @property
    def identifier_like(self) -> bool:
        """Digits only: offering to add a client named like this makes no sense."""
        return bool(_IDENTIFIER.fullmatch(_LABEL.sub("", self.query)))


def clean_query(query: str) -> str:
    """One line, single spaces, nothing invisible, at most `MAX_QUERY_LENGTH` characters."""
    return " ".join(clean_text(query).split())[:MAX_QUERY_LENGTH]


def _identifier(query: str) -> str:
    """The query without a label before a number ("ИНН 7701234567" -> "7701234567")."""
    stripped = _LABEL.sub("", query, count=1)
    return stripped if stripped and any(ch.isdigit() for ch in stripped) else query


def _segment_of(word: QueryWord) -> str | None:
    if len(word.text) != 2 or not _SEGMENT.fullmatch(word.text):
        return None
    return word.text.translate(_SEGMENT_LETTERS).upper()


def _exact_lookups(query: str) -> list[Select[int]]:
    """Index lookups of clients whose phone, tax id or external id is what was typed.

    A UNION of index lookups: an OR across columns would scan the table on SQLite.
    """
    external = {query, query.upper()}
    lookups: list[Select[int]] = [select(Client.id).where(Client.external_id.in_(external))]
    phone = query_phone(query)
    if phone is not None:
        lookups.append(select(ClientPhone.client_id).where(ClientPhone.phone == phone))
    tax_id = normalize_tax_id(query)
    if tax_id is not None:
        lookups.append(select(Client.id).where(Client.tax_id == tax_id))
    return lookups


async def _exact_ids(uow: UnitOfWork, query: str) -> list[int]:
    lookups = _exact_lookups(query)
    statement = union(*lookups) if len(lookups) > 1 else lookups[0]
    rows = await uow.session.scalars(statement.limit(MAX_RESULTS))
    return sorted(set(rows))


def _phone_digits(query: str) -> str | None:
    """The digits of a query written as a phone fragment ("723-07-31" -> "7230731")."""
    if not _IDENTIFIER.fullmatch(query):
        return None
    digits = re.sub(r"\D", "", query)
    return digits if len(digits) in (PHONE_TAIL, SHORT_PHONE_TAIL) else None


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
            Client.city,
            Client.tax_id,
        )
        .outerjoin(User, User.id == Client.owner_id)
        .where(Client.id.in_(ids), visible_clients(viewer))
    )
    by_id = {row[0]: SearchHit(*row) for row in rows}
    return [by_id[cid] for cid in ids if cid in by_id]


async def _in_segment(uow: UnitOfWork, ids: list[int], segment: str) -> list[int]:
    """The ids (in their order) whose current segment is `segment`."""
    keep: set[int] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        keep.update(
            await uow.session.scalars(
                select(ClientSegment.client_id).where(
                    ClientSegment.client_id.in_(chunk), ClientSegment.segment == segment
                )
            )
        )
    return [cid for cid in ids if cid in keep]


def _hit(card: ClientCard) -> SearchHit:
    return SearchHit(
        card.client_id,
        card.name,
        card.company,
        card.owner_id,
        card.owner_name,
        card.is_vip,
        card.city,
        card.tax_id,
    )


async def _card_if_visible(
    uow: UnitOfWork, viewer: Viewer, client_id: int, now: datetime
) -> ClientCard | None:
    """The card, or None for a client the viewer may not see (not even hinted at)."""
    try:
        return await build_card(uow, viewer, client_id, now)
    except (AccessDenied, ClientNotFound):
        return None


@dataclass
class _Found:
    ids: list[int]
    total: int
    ambiguous_tail: int = 0
    segment: str | None = None


async def _find(
    uow: UnitOfWork,
    store: SearchIndexStore,
    query: str,
    owner_id: int | None,
) -> _Found:
    """Ids of the clients (of `owner_id`, None: anyone's) the query means, best first."""
    identifier = _identifier(query)
    # External ids, phones and tax ids all have digits; names rarely do.
    if any(ch.isdigit() for ch in identifier):
        ids = await _exact_ids(uow, identifier)
        if ids:
            return _Found(ids, len(ids))
        tail = _phone_digits(identifier)
        if tail is not None:
            index = await store.index(uow)
            ids = index.phone_tail(tail, None if store.catching_up else owner_id)
            if store.catching_up and owner_id is not None:
                ids = await _owned_by(uow, ids, owner_id)
            if len(tail) == PHONE_TAIL or len(ids) == 1:
                return _Found(ids, len(ids))
            return _Found([], 0, ambiguous_tail=len(ids))
    if not query or _IDENTIFIER.fullmatch(identifier):
        return _Found([], 0)
    index = await store.index(uow)
    if not store.catching_up:
        return await _find_names(uow, index, query, owner_id)
    # Owners may have changed since the index was built: ask it for anyone's, and the
    # database whose they are now.
    found = await _find_names(uow, index, query, None)
    if owner_id is not None:
        found.ids = await _owned_by(uow, found.ids, owner_id)
        found.total = len(found.ids)
    return found


async def _owned_by(uow: UnitOfWork, ids: list[int], owner_id: int) -> list[int]:
    """The ids (in their order) that `owner_id` owns now."""
    keep: set[int] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        keep.update(
            await uow.session.scalars(
                select(Client.id).where(Client.id.in_(chunk), Client.owner_id == owner_id)
            )
        )
    return [cid for cid in ids if cid in keep]


async def _find_names(
    uow: UnitOfWork, index: SearchIndex, query: str, owner_id: int | None
) -> _Found:
    words = query_words(query)
    segment = None
    if len(words) > 1:
        for word in words[1:]:
            segment = _segment_of(word)
            if segment is not None:
                words = [w for w in words if w is not word]
                break
    if segment is None:
        ranked, total = index.top(words, owner_id, MAX_RESULTS)
        return _Found([cid for cid, _ in ranked], total)
    ranked, _ = index.top(words, owner_id, SEGMENT_CANDIDATES)
    ids = await _in_segment(uow, [cid for cid, _ in ranked], segment)
    return _Found(ids[:MAX_RESULTS], len(ids), segment=segment)


async def _elsewhere(uow: UnitOfWork, ids: list[int], viewer: Viewer) -> tuple[OwnerMatches, ...]:
    """Whose clients these are, for a viewer who may not open them, most first."""
    visible = set(await _visible_ids(uow, viewer, ids))
    hidden = [cid for cid in ids if cid not in visible]
    if not hidden:
        return ()
    rows = (
        await uow.session.execute(
            select(Client.owner_id, User.display_name, func.count(Client.id), func.min(Client.name))
            .outerjoin(User, User.id == Client.owner_id)
            .where(Client.id.in_(hidden[:MAX_RESULTS]))
            .group_by(Client.owner_id, User.display_name)
        )
    ).all()
    found = [
        OwnerMatches(owner_id, owner_name, int(count), name if count == 1 else None)
        for owner_id, owner_name, count, name in rows
    ]
    return tuple(sorted(found, key=lambda m: (-m.count, m.owner_name or "")))


async def _visible_ids(uow: UnitOfWork, viewer: Viewer, ids: list[int]) -> list[int]:
    return list(
        await uow.session.scalars(
            select(Client.id).where(Client.id.in_(ids[:MAX_RESULTS]), visible_clients(viewer))
        )
    )


async def search_clients(
    uow: UnitOfWork,
    index: SearchIndexStore,
    viewer: Viewer,
    query: str,
    *,
    page: int = 0,
    now: datetime | None = None,
    page_size: int = PAGE_SIZE,
) -> SearchPage:
    """Find the clients the viewer may see; with exactly one match and `now`, include its card."""
    query = clean_query(query)
    hits: list[SearchHit] = []
    card = None
    elsewhere: tuple[OwnerMatches, ...] = ()
    async with uow:
        found = await _find(uow, index, query, viewer.scope_owner_id)
        ids, total = found.ids, found.total
        if len(ids) == 1 and now is not None:
            card = await _card_if_visible(uow, viewer, ids[0], now)
            hits = [_hit(card)] if card is not None else []
        else:
            hits = await _load_hits(uow, viewer, ids)
            if len(hits) == 1 and now is not None:
                card = await build_card(uow, viewer, hits[0].client_id, now)
        if len(hits) != len(ids):  # the index was stale (owner changed, client deleted)
            total = max(len(hits), total - (len(ids) - len(hits)))
        if not hits and not found.ambiguous_tail and viewer.scope_owner_id is not None:
            anyone = await _find(uow, index, query, None)
            elsewhere = await _elsewhere(uow, anyone.ids, viewer)
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
        elsewhere=elsewhere,
        ambiguous_tail=found.ambiguous_tail,
        segment=found.segment,
    )
