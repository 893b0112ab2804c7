"""Who to call: today's list, the week ahead, clients to win back, clients at risk.

`call_list`, `reactivation_list` and `risk_list` take an owner (None = everyone's) and
run inside an open unit of work, so the scheduled pushes read all three in one; `list_page`
is the viewer-aware, paged use case the bot shows. Segment fields come from each client's
current segment state (`services.segment_state`); `revenue_12m` is its window revenue.

Whom to call first (`CALL_ORDER`, the one rule for `/today` and the morning push): VIP
first, then class A, then everyone else; inside each group the longest overdue first,
then by name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, select

from services.access import Viewer
from services.db.models import Client, ClientSegment, Interaction, User
from services.explanations import LabelReasons, SetBy, reason_columns, reasons_from_row, set_by_join
from services.segment_state import current_segment_join
from services.uow import UnitOfWork

LIST_PAGE_SIZE = 10
WEEK_DAYS = 7

_Rows = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class ClientListItem:
    client_id: int
    name: str
    company: str | None
    owner_id: int | None
    owner_name: str | None
    is_vip: bool
    abc: str | None
    xyz: str | None
    segment: str | None
    next_due: date | None
    overdue_days: int
    revenue_12m: Decimal
    revenue_at_risk: Decimal
    p_alive: float | None
    reasons: LabelReasons | None = None  # the figures behind the labels, for one short line
    call_back_at: datetime | None = None  # the set time of the due contact (UTC), if any


class ListKind(StrEnum):
    TODAY = "today"
    WEEK = "week"
    REACTIVATION = "reactivation"
    RISK = "risk"


@dataclass(frozen=True)
class ListPage:
    kind: ListKind
    items: tuple[ClientListItem, ...]
    page: int  # zero-based, clamped to the pages that exist
    pages: int
    total: int
    show_owner: bool
    today: date
    owner_id: int | None = None  # a head's list narrowed to this manager
    day: date | None = None  # the one day of /week shown
    page_size: int = LIST_PAGE_SIZE
    zone: ZoneInfo | None = None  # the reader's, for call-back times


_snapshot = ClientSegment
_snapshot_join = current_segment_join()
_call_rank = case((Client.is_vip.is_(True), 0), (_snapshot.abc == "A", 1), else_=2)
CALL_ORDER = (_call_rank, Client.next_due_on, Client.name, Client.id)


def _base(owner_id: int | None, *, inner: bool) -> _Rows:
    query: _Rows = (
        select(
            Client.id,
            Client.name,
            Client.company,
            Client.owner_id,
            User.display_name,
            Client.is_vip,
            _snapshot.abc,
            _snapshot.xyz,
            _snapshot.segment,
            Client.next_due_on,
            _snapshot.revenue,
            _snapshot.revenue_at_risk,
            _snapshot.p_alive,
            *reason_columns(),
        )
        .select_from(Client)
        .outerjoin(User, User.id == Client.owner_id)
        .join(_snapshot, _snapshot_join, isouter=not inner)
        .outerjoin(SetBy, set_by_join())
    )
    if owner_id is not None:
        query = query.where(Client.owner_id == owner_id)
    return query


def _due_between(owner_id: int | None, first: date | None, last: date) -> _Rows:
    conditions: list[ColumnElement[bool]] = [
        Client.next_due_on.is_not(None),
        Client.next_due_on <= last,
    ]
    if first is not None:
        conditions.append(Client.next_due_on >= first)
    return _base(owner_id, inner=False).where(*conditions)


def _call_order(query: _Rows) -> _Rows:
    return query.order_by(*CALL_ORDER)


def _week_order(query: _Rows) -> _Rows:
    """Day by day; inside a day, whom to call first."""
    return query.order_by(Client.next_due_on, *CALL_ORDER)


def _reactivation(owner_id: int | None) -> _Rows:
    return (
        _base(owner_id, inner=True)
        .where(_snapshot.reactivation.is_(True))
        .order_by(_snapshot.revenue.desc(), Client.name, Client.id)
    )


def _risk(owner_id: int | None) -> _Rows:
    return (
        _base(owner_id, inner=True)
        .where(_snapshot.at_risk.is_(True))
        .order_by(
            _snapshot.value_at_risk.desc().nulls_last(),
            _snapshot.revenue_at_risk.desc(),
            Client.name,
            Client.id,
        )
    )


_ITEM_COLUMNS = 13  # then `reason_columns()`


def _item(row: Any, today: date) -> ClientListItem:
    (
        client_id,
        name,
        company,
        owner_id,
        owner_name,
        is_vip,
        abc,
        xyz,
        segment,
        next_due,
        revenue,
        revenue_at_risk,
        p_alive,
    ) = row[:_ITEM_COLUMNS]
    return ClientListItem(
        client_id=client_id,
        name=name,
        company=company,
        owner_id=owner_id,
        owner_name=owner_name,
        is_vip=bool(is_vip),
        abc=abc,
        xyz=xyz,
        segment=segment,
        next_due=next_due,
        overdue_days=max(0, (today - next_due).days) if next_due else 0,
        revenue_12m=Decimal(revenue or 0),
        revenue_at_risk=Decimal(revenue_at_risk or 0),
        p_alive=p_alive,
        reasons=reasons_from_row(row[_ITEM_COLUMNS:]),
    )


async def _fetch(uow: UnitOfWork, query: _Rows, today: date) -> list[ClientListItem]:
    rows = (await uow.session.execute(query)).all()
    return [_item(row, today) for row in rows]


async def call_list(
    uow: UnitOfWork, owner_id: int | None, today: date, *, horizon_days: int = 0
) -> list[ClientListItem]:
    """Clients due on or before `today + horizon_days` (overdue included), in call order.

    Call inside `async with uow`.
    """
    last = today + timedelta(days=horizon_days)
    return await _fetch(uow, _call_order(_due_between(owner_id, None, last)), today)


async def reactivation_list(
    uow: UnitOfWork, owner_id: int | None, today: date
) -> list[ClientListItem]:
    """Clients whose latest snapshot says "win back", the most valuable first.

    `today` (the reader's local date) sets `overdue_days`. Call inside `async with uow`.
    """
    return await _fetch(uow, _reactivation(owner_id), today)


async def risk_list(uow: UnitOfWork, owner_id: int | None, today: date) -> list[ClientListItem]:
    """Clients whose latest snapshot says "at risk", the most value at risk first.

    Value at risk is `value_12m × (1 − P(alive))`; clients without a spend model
    (nobody bought twice) follow, by revenue at risk.

    Call inside `async with uow`.
    """
    return await _fetch(uow, _risk(owner_id), today)


def _query_for(kind: ListKind, owner_id: int | None, today: date, day: date | None) -> _Rows:
    if kind == ListKind.TODAY:
        return _call_order(_due_between(owner_id, None, today))
    if kind == ListKind.WEEK and day is not None:  # one day of the week ahead
        return _call_order(_due_between(owner_id, day, day))
    if kind == ListKind.WEEK:
        first = today + timedelta(days=1)
        return _week_order(_due_between(owner_id, first, today + timedelta(days=WEEK_DAYS)))
    if kind == ListKind.REACTIVATION:
        return _reactivation(owner_id)
    return _risk(owner_id)


async def list_page(
    uow: UnitOfWork,
    viewer: Viewer,
    kind: ListKind,
    *,
    page: int = 0,
    now: datetime,
    page_size: int = LIST_PAGE_SIZE,
    owner_id: int | None = None,
    day: date | None = None,
) -> ListPage:
    """One page of a list as the viewer may see it (own clients, or all for heads and admins).

    `/today` is what is due today or overdue; `/week` what falls due in the next seven days
    (with `day`, only that day). `owner_id` narrows a head's list to one manager's clients;
    a manager's list is their own whatever is asked.
    """
    today = viewer.local_today(now)
    scope = viewer.scope_owner_id if viewer.scope_owner_id is not None else owner_id
    query = _query_for(kind, scope, today, day)
    async with uow:
        total = int(
            await uow.session.scalar(
                select(func.count()).select_from(query.order_by(None).subquery())
            )
            or 0
        )
        pages = max(1, -(-total // page_size))
        page = min(max(page, 0), pages - 1)
        rows = (await uow.session.execute(query.limit(page_size).offset(page * page_size))).all()
        items = [_item(row, today) for row in rows]
        if kind in (ListKind.TODAY, ListKind.WEEK):
            items = await _with_call_back_times(uow, items)
    return ListPage(
        kind=kind,
        items=tuple(items),
        page=page,
        pages=pages,
        total=total,
        show_owner=viewer.sees_all and scope is None,
        today=today,
        owner_id=scope if viewer.sees_all else None,
        day=day,
        page_size=page_size,
        zone=viewer.zone,
    )


async def _with_call_back_times(
    uow: UnitOfWork, items: list[ClientListItem]
) -> list[ClientListItem]:
    """The time a call-back was set for, on the rows due that day (one page: a short IN)."""
    ids = [item.client_id for item in items if item.next_due is not None]
    if not ids:
        return items
    rows = await uow.session.execute(
        select(Interaction.client_id, Interaction.next_contact_at)
        .join(Client, Client.id == Interaction.client_id)
        .where(
            Interaction.client_id.in_(ids),
            Interaction.next_contact_at.is_not(None),
            Interaction.next_contact_on == Client.next_due_on,
        )
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    times = {client_id: at for client_id, at in rows}  # the latest call wins
    return [replace(item, call_back_at=times.get(item.client_id)) for item in items]
