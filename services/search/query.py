"""Finding a client by whatever a manager types: a name in any case or script, a phone, a tax id.

Names go through the name index (`services.search.index`); phones, tax ids and external
ids are exact lookups through the database indexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, union

from services.access import Viewer, visible_clients
from services.clients import ClientCard, build_card
from services.db.models import Client, ClientPhone, User
from services.errors import AccessDenied, ClientNotFound
from services.normalize import normalize_tax_id
from services.search.index import SearchIndexStore
from services.search.normalize import query_phone
from services.uow import UnitOfWork

PAGE_SIZE = 10
MAX_RESULTS = 100  # beyond this a list of buttons helps nobody: ask to refine


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
    index: SearchIndexStore,
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
        ids = await _exact_ids(uow, query) if any(ch.isdigit() for ch in query) else []
        total = len(ids)
        if not ids and query and not _is_identifier_like(query):
            names = await index.index(uow)
            ranked, total = names.top(query, viewer.scope_owner_id, MAX_RESULTS)
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
