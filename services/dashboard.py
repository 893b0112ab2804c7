"""The head of sales' view: aggregates kept when segments are recomputed, and their reads.

Counting new, lost and returned clients and splitting revenue into new vs existing clients
needs every client's whole purchase history (the deal cycle known after each purchase).
That is too slow to do on each request for a real distributor's base, so
`refresh_aggregates` does it once, at the end of every segment recompute, and stores:

- `dashboard_days`: per day and owner, the figures of
  `services.analytics.accounting.daily_accounting` for the current month and the
  `DAILY_MONTHS - 1` before it; any run of days within a month sums to distinct clients,
  so month to date compares with the same days of the previous month;
- `dashboard_segments`: clients, revenue, clients at risk and revenue at risk per ABC×XYZ
  segment and owner, from the segment state of the latest run (owner 0 is everyone);
- `dashboard_state`: as of which day, and from which snapshot.

Owners are the clients' owners when the aggregates were computed. Calls and overdue
contacts are not aggregated: `services.team` counts them live through their indexes, so
a logged call shows at once. Client lists (a matrix cell, the top at risk) are read live
from the segment state of the same run, page by page.

Every read is for heads and admins only (`DashboardNotAllowed` otherwise).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Select,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import text as sql_text

from services.access import Viewer
from services.analytics.accounting import daily_accounting
from services.analytics.settings import SEGMENTS
from services.calendar import load_calendar
from services.db.models import (
    Client,
    ClientSegment,
    DashboardDay,
    DashboardSegment,
    DashboardState,
    Role,
    Transaction,
    User,
)
from services.errors import AccessDenied, InvalidValue
from services.settings_store import load_segmentation_settings
from services.team import ManagerCalls, active_managers, calls_period, overdue_counts
from services.uow import UnitOfWork
from services.users import UserDTO, to_user_dto

log = logging.getLogger(__name__)

_Rows = Select[*tuple[Any, ...]]

DASHBOARD_ROLES = frozenset({Role.HEAD, Role.ADMIN})
OWNER_ALL = 0  # `owner_id` of the whole company's rows
NO_SEGMENT = ""  # `segment` of clients without one (no purchase in the window)
TREND_MONTHS = 12
DAILY_MONTHS = TREND_MONTHS + 1  # the trend and the month before it
STATE_ID = 1
CLIENTS_PAGE_SIZE = 20
TOP_AT_RISK = 20
INSERT_CHUNK = 5_000
_LOCK_KEY = 0x0DA5B0A2D  # pg_advisory_xact_lock: one refresh at a time
_EPOCH = date(1970, 1, 1)
_ZERO = Decimal("0.00")


class DashboardNotAllowed(AccessDenied):
    """Only the head of sales (and admins) see the dashboard."""

    code = "dashboard_not_allowed"

    def __init__(self) -> None:
        super().__init__("dashboard")


def ensure_dashboard_viewer(viewer: Viewer) -> None:
    if viewer.role not in DASHBOARD_ROLES:
        raise DashboardNotAllowed()


async def dashboard_users(uow: UnitOfWork) -> list[UserDTO]:
    """Active heads and admins with a Telegram account: whom the dashboard is for."""
    async with uow:
        users = await uow.session.scalars(
            select(User)
            .where(
                User.role.in_([role.value for role in DASHBOARD_ROLES]),
                User.is_active.is_(True),
                User.telegram_id.is_not(None),
            )
            .order_by(User.id)
        )
        return [to_user_dto(user) for user in users]


def _money(value: Any) -> Decimal:
    if value is None:
        return _ZERO
    return Decimal(str(round(float(value), 2))).quantize(Decimal("0.01"))


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month_start(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def months_back(day: date, months: int) -> date:
    """The first day of the month `months` before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return months_back(day, -1) - timedelta(days=1)


# --- refreshing the aggregates ------------------------------------------------------------


@dataclass(frozen=True)
class AggregatesRefresh:
    """What `refresh_aggregates` did."""

    as_of: date
    refreshed: bool  # False: the stored aggregates are of a later day and were kept
    segments_as_of: date | None = None
    clients: int = 0
    day_rows: int = 0
    segment_rows: int = 0


async def refresh_aggregates(uow: UnitOfWork, as_of: date) -> AggregatesRefresh:
    """Recompute every dashboard aggregate as known on `as_of` and store it (commits)."""
    async with uow:
        refresh = await store_aggregates(uow, as_of)
        await uow.commit()
    return refresh


async def store_aggregates(
    uow: UnitOfWork, as_of: date, sales: pd.DataFrame | None = None
) -> AggregatesRefresh:
    """Every dashboard aggregate as known on `as_of`, written in the caller's transaction.

    The segment recompute calls it last, so its figures and the aggregates commit
    together. A recompute of an earlier day than the stored aggregates (an analysis of
    the past) leaves them as they are. Reads the sales as one SQL aggregate per client
    and day (unless the caller has the sales frame already: `client_id`, `date`,
    `amount`, one row per sale or per day), and every client's current segment state.
    """
    await _serialize(uow)
    state = await uow.session.get(DashboardState, STATE_ID)
    if state is not None and state.as_of > as_of:
        log.info("dashboard aggregates are as of %s; kept (asked for %s)", state.as_of, as_of)
        return AggregatesRefresh(as_of=state.as_of, refreshed=False)
    settings = await load_segmentation_settings(uow)
    if sales is None:
        sales = await _daily_sales(uow, as_of)
    owners = await _owners(uow)
    daily = daily_accounting(sales, as_of, settings, owners, months=DAILY_MONTHS)
    day_rows = _day_rows(daily)
    segments_as_of = await uow.session.scalar(
        select(func.max(ClientSegment.as_of)).where(ClientSegment.as_of <= as_of)
    )
    segment_rows = [] if segments_as_of is None else await _segment_rows(uow, segments_as_of)
    clients = int(await uow.session.scalar(select(func.count(Client.id))) or 0)

    await uow.session.execute(delete(DashboardDay))
    await uow.session.execute(delete(DashboardSegment))
    for table, rows in ((DashboardDay, day_rows), (DashboardSegment, segment_rows)):
        for start in range(0, len(rows), INSERT_CHUNK):
            await uow.session.execute(insert(table), rows[start : start + INSERT_CHUNK])
    # a new row rather than an update: `refreshed_at` is stamped on insert
    await uow.session.execute(delete(DashboardState))
    uow.session.add(
        DashboardState(
            id=STATE_ID,
            as_of=as_of,
            segments_as_of=segments_as_of,
            first_day=months_back(as_of, DAILY_MONTHS - 1),
            clients=clients,
        )
    )
    return AggregatesRefresh(
        as_of=as_of,
        refreshed=True,
        segments_as_of=segments_as_of,
        clients=clients,
        day_rows=len(day_rows),
        segment_rows=len(segment_rows),
    )


async def _serialize(uow: UnitOfWork) -> None:
    """Two refreshes at once (a manual recompute during the nightly one) take turns.

    SQLite allows one writer anyway; PostgreSQL gets a transaction-scoped advisory lock.
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        await uow.session.execute(
            sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
        )


def _epoch_days(uow: UnitOfWork, column: Any) -> Any:
    """A DATE column as days since 1970-01-01, computed by the database."""
    if uow.session.get_bind().dialect.name == "postgresql":
        return column - cast(literal(_EPOCH), Date)
    return cast(func.julianday(column) - 2440587.5, Integer)


async def _read_frame(uow: UnitOfWork, query: _Rows, columns: list[str]) -> pd.DataFrame:
    """The rows of an all-numeric `query` as a frame; PostgreSQL streams them with COPY.

    A million rows through the driver's row objects take tens of seconds; COPY ... TO
    STDOUT as CSV and one `read_csv` take one or two.
    """
    connection = await uow.session.connection()
    if connection.dialect.name != "postgresql":
        return pd.DataFrame((await connection.execute(query)).all(), columns=columns)
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = (await connection.get_raw_connection()).driver_connection  # asyncpg's
    assert driver is not None
    buffer = io.BytesIO()
    await driver.copy_from_query(sql, output=buffer, format="csv")
    if not buffer.getbuffer().nbytes:
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in columns})
    buffer.seek(0)
    return pd.read_csv(buffer, header=None, names=columns)


async def _daily_sales(uow: UnitOfWork, as_of: date) -> pd.DataFrame:
    """Net sales per client and day up to `as_of`, summed by the database (exact cents)."""
    day = _epoch_days(uow, Transaction.date)
    cents = cast(func.round(func.sum(Transaction.amount) * 100), BigInteger)
    query = (
        select(Transaction.client_id, day, cents)
        .where(Transaction.date <= as_of)
        .group_by(Transaction.client_id, Transaction.date)
    )
    frame = await _read_frame(uow, query, ["client_id", "day", "cents"])
    return pd.DataFrame(
        {
            "client_id": frame["client_id"].astype("int64"),
            "date": pd.to_datetime(frame["day"].astype("int64"), unit="D"),
            "amount": frame["cents"].astype("float64") / 100.0,
        }
    )


async def _owners(uow: UnitOfWork) -> pd.DataFrame:
    query = select(Client.id, Client.owner_id).where(Client.owner_id.is_not(None))
    frame = await _read_frame(uow, query, ["client_id", "manager_id"])
    return frame.astype({"client_id": "int64", "manager_id": "int64"})


def _day_rows(daily: pd.DataFrame) -> list[dict[str, Any]]:
    figures = ["new_clients", "lost_clients", "returned_clients", "revenue_new", "revenue_existing"]
    nonzero = daily[(daily[figures] != 0).any(axis=1)]
    return [
        {
            "day": record["day"].date(),
            "owner_id": OWNER_ALL if pd.isna(record["manager_id"]) else int(record["manager_id"]),
            "new_clients": int(record["new_clients"]),
            "lost_clients": int(record["lost_clients"]),
            "returned_clients": int(record["returned_clients"]),
            "revenue_new": _money(record["revenue_new"]),
            "revenue_existing": _money(record["revenue_existing"]),
        }
        for record in nonzero.to_dict("records")
    ]


def _segment_state(segments_as_of: date) -> Any:
    """The segment state the dashboard counts: each client's current state (one row each)."""
    return ClientSegment.as_of <= segments_as_of


async def _segment_rows(uow: UnitOfWork, segments_as_of: date) -> list[dict[str, Any]]:
    s = ClientSegment
    rows = (
        await uow.session.execute(
            select(
                Client.owner_id,
                s.segment,
                func.count(),
                func.coalesce(func.sum(s.revenue), 0),
                func.coalesce(func.sum(case((s.at_risk.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((s.at_risk.is_(True), s.revenue_at_risk), else_=0)), 0),
            )
            .join(Client, Client.id == s.client_id)
            .where(_segment_state(segments_as_of))
            .group_by(Client.owner_id, s.segment)
        )
    ).all()
    cells: dict[tuple[int, str], list[Any]] = {}
    for owner_id, segment, clients, revenue, at_risk, at_risk_revenue in rows:
        keys = [(OWNER_ALL, segment or NO_SEGMENT)]
        if owner_id is not None:
            keys.append((int(owner_id), segment or NO_SEGMENT))
        for key in keys:
            cell = cells.setdefault(key, [0, Decimal(0), 0, Decimal(0)])
            cell[0] += int(clients)
            cell[1] += Decimal(str(revenue))
            cell[2] += int(at_risk)
            cell[3] += Decimal(str(at_risk_revenue))
    return [
        {
            "owner_id": owner_id,
            "segment": segment,
            "clients": clients,
            "revenue": _money(revenue),
            "at_risk_clients": at_risk,
            "revenue_at_risk": _money(at_risk_revenue),
        }
        for (owner_id, segment), (clients, revenue, at_risk, at_risk_revenue) in sorted(
            cells.items()
        )
    ]


# --- client flows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFlow:
    """New, lost and returned clients and revenue new vs existing over the days [start, end]."""

    start: date
    end: date  # the last day included
    new: int = 0
    lost: int = 0
    returned: int = 0
    revenue_new: Decimal = _ZERO
    revenue_existing: Decimal = _ZERO

    @property
    def revenue(self) -> Decimal:
        return self.revenue_new + self.revenue_existing


@dataclass(frozen=True)
class MonthToDate:
    """This month up to the day the figures are known, and the same days of the last one.

    `through` is the last day counted: today, or the day of the latest recompute when
    that is earlier. `as_of` is None before the first recompute (all figures are zero).
    """

    this: ClientFlow
    previous: ClientFlow
    through: date
    as_of: date | None


async def aggregates_state(uow: UnitOfWork) -> DashboardState | None:
    """The stored state of the aggregates (None before the first recompute); in `async with`."""
    return await uow.session.get(DashboardState, STATE_ID)


async def client_flows(uow: UnitOfWork, start: date, end: date) -> dict[int, ClientFlow]:
    """Per owner (`OWNER_ALL` included when any), the flow over [start, end]; in `async with`."""
    d = DashboardDay
    rows = (
        await uow.session.execute(
            select(
                d.owner_id,
                func.sum(d.new_clients),
                func.sum(d.lost_clients),
                func.sum(d.returned_clients),
                func.sum(d.revenue_new),
                func.sum(d.revenue_existing),
            )
            .where(d.day >= start, d.day <= end)
            .group_by(d.owner_id)
        )
    ).all()
    return {
        int(owner_id): ClientFlow(
            start, end, int(new), int(lost), int(returned), _money(rev_new), _money(rev_existing)
        )
        for owner_id, new, lost, returned, rev_new, rev_existing in rows
    }


async def client_flow(
    uow: UnitOfWork, start: date, end: date, owner_id: int = OWNER_ALL
) -> ClientFlow:
    """The flow over the days [start, end] (zeros where nothing is stored); in `async with`."""
    return (await client_flows(uow, start, end)).get(owner_id, ClientFlow(start, end))


def same_days_last_month(through: date) -> tuple[date, date]:
    """The days of the previous month that match the 1st..`through` of this one."""
    start = previous_month_start(through)
    return start, min(start + timedelta(days=through.day - 1), month_end(start))


async def month_to_date(uow: UnitOfWork, today: date, owner_id: int = OWNER_ALL) -> MonthToDate:
    """This month to date against the same days of the last one; in `async with uow`."""
    state = await aggregates_state(uow)
    through = today if state is None else min(today, state.as_of)
    start, end = same_days_last_month(through)
    return MonthToDate(
        this=await client_flow(uow, month_start(through), through, owner_id),
        previous=await client_flow(uow, start, end, owner_id),
        through=through,
        as_of=None if state is None else state.as_of,
    )


# --- the dashboard's pages ------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentCell:
    segment: str  # "AX"... or NO_SEGMENT
    clients: int
    revenue: Decimal
    at_risk_clients: int
    revenue_at_risk: Decimal
    clients_share: float  # of all clients counted
    revenue_share: float  # of the revenue of all clients counted

    @property
    def abc(self) -> str | None:
        return self.segment[0] if self.segment else None

    @property
    def xyz(self) -> str | None:
        return self.segment[1] if self.segment else None


@dataclass(frozen=True)
class Matrix:
    as_of: date | None
    segments_as_of: date | None
    owner_id: int | None
    cells: tuple[SegmentCell, ...]  # the nine segments in SEGMENTS order
    unsegmented: SegmentCell
    clients: int
    revenue: Decimal
    at_risk_clients: int
    revenue_at_risk: Decimal


async def load_matrix(uow: UnitOfWork, viewer: Viewer, owner_id: int | None = None) -> Matrix:
    """The ABC×XYZ matrix of the whole company, or of one owner's clients."""
    ensure_dashboard_viewer(viewer)
    async with uow:
        state = await aggregates_state(uow)
        rows = (
            await uow.session.scalars(
                select(DashboardSegment).where(DashboardSegment.owner_id == (owner_id or OWNER_ALL))
            )
        ).all()
    by_segment = {row.segment: row for row in rows}
    clients = sum(row.clients for row in rows)
    revenue = sum((row.revenue for row in rows), _ZERO)

    def cell(segment: str) -> SegmentCell:
        row = by_segment.get(segment)
        if row is None:
            return SegmentCell(segment, 0, _ZERO, 0, _ZERO, 0.0, 0.0)
        return SegmentCell(
            segment=segment,
            clients=row.clients,
            revenue=_money(row.revenue),
            at_risk_clients=row.at_risk_clients,
            revenue_at_risk=_money(row.revenue_at_risk),
            clients_share=row.clients / clients if clients else 0.0,
            revenue_share=float(row.revenue / revenue) if revenue > 0 else 0.0,
        )

    return Matrix(
        as_of=None if state is None else state.as_of,
        segments_as_of=None if state is None else state.segments_as_of,
        owner_id=owner_id,
        cells=tuple(cell(segment) for segment in SEGMENTS),
        unsegmented=cell(NO_SEGMENT),
        clients=clients,
        revenue=_money(revenue),
        at_risk_clients=sum(row.at_risk_clients for row in rows),
        revenue_at_risk=_money(sum((row.revenue_at_risk for row in rows), _ZERO)),
    )


@dataclass(frozen=True)
class DashboardClient:
    client_id: int
    name: str
    owner_id: int | None
    owner_name: str | None
    is_vip: bool
    segment: str | None
    status: str
    revenue: Decimal  # over the segmentation window
    p_alive: float | None
    at_risk: bool
    revenue_at_risk: Decimal
    next_due: date | None
    value_at_risk: Decimal | None = None  # value_12m × (1 − P(alive)): the at-risk ranking


@dataclass(frozen=True)
class ClientsPage:
    segment: str | None  # None: the clients at risk
    owner_id: int | None
    page: int
    pages: int
    total: int
    clients: tuple[DashboardClient, ...]
    segments_as_of: date | None


def parse_segment(value: str) -> str:
    """A segment code from a request ("ax" → "AX"; "none" or "" → NO_SEGMENT)."""
    code = value.strip().upper()
    if code in ("", "NONE", "-"):
        return NO_SEGMENT
    if code not in SEGMENTS:
        raise InvalidValue("segment", value, f"expected one of {', '.join(SEGMENTS)} or none")
    return code


def _client_rows(segments_as_of: date, owner_id: int | None) -> _Rows:
    s = ClientSegment
    query: _Rows = (
        select(
            Client.id,
            Client.name,
            Client.owner_id,
            User.display_name,
            Client.is_vip,
            s.segment,
            s.status,
            s.revenue,
            s.p_alive,
            s.at_risk,
            s.revenue_at_risk,
            Client.next_due_on,
            s.value_at_risk,
        )
        .join(Client, Client.id == s.client_id)
        .outerjoin(User, User.id == Client.owner_id)
        .where(_segment_state(segments_as_of))
    )
    if owner_id:
        query = query.where(Client.owner_id == owner_id)
    return query


def _dashboard_client(row: Sequence[Any]) -> DashboardClient:
    cid, name, owner_id, owner, vip, segment, status, revenue, p_alive, at_risk, var = row[:11]
    due, value = row[11], row[12]
    return DashboardClient(
        client_id=cid,
        name=name,
        owner_id=owner_id,
        owner_name=owner,
        is_vip=bool(vip),
        segment=segment,
        status=status,
        revenue=_money(revenue),
        p_alive=p_alive,
        at_risk=bool(at_risk),
        revenue_at_risk=_money(var),
        next_due=due,
        value_at_risk=None if value is None else _money(value),
    )


async def _page(
    uow: UnitOfWork, query: _Rows, page: int, page_size: int, counted: int
) -> tuple[int, int, int, tuple[DashboardClient, ...]]:
    """One page of `query`; `counted` is how many rows the aggregates say it has.

    Counting the rows again would read them all; the stored count can only be behind by
    clients moved between managers since the recompute, so one row more than a page is
    read to tell whether another page follows, and a page past the end gives the last one.
    """

    async def rows_of(number: int) -> list[Any]:
        window = query.limit(page_size + 1).offset(number * page_size)
        return list((await uow.session.execute(window)).all())

    pages = max(1, -(-counted // page_size))
    page = max(page, 0)
    rows = await rows_of(page)
    if not rows and page > 0:
        page = min(page, pages - 1)
        rows = await rows_of(page)
    more = len(rows) > page_size
    rows = rows[:page_size]
    seen = page * page_size + len(rows)
    if more:
        pages, total = max(pages, page + 2), max(counted, seen + 1)
    else:  # the end is in sight: exact figures
        pages, total = page + 1, seen
    return total, pages, page, tuple(_dashboard_client(row) for row in rows)


async def _counted(
    uow: UnitOfWork, owner_id: int | None, *, segment: str | None = None, at_risk: bool = False
) -> int:
    """Clients of a cell (or at risk) as the aggregates counted them."""
    figure = DashboardSegment.at_risk_clients if at_risk else DashboardSegment.clients
    query = select(func.coalesce(func.sum(figure), 0)).where(
        DashboardSegment.owner_id == (owner_id or OWNER_ALL)
    )
    if segment is not None:
        query = query.where(DashboardSegment.segment == segment)
    return int(await uow.session.scalar(query) or 0)


async def segment_clients(
    uow: UnitOfWork,
    viewer: Viewer,
    segment: str,
    *,
    owner_id: int | None = None,
    page: int = 0,
    page_size: int = CLIENTS_PAGE_SIZE,
) -> ClientsPage:
    """The clients of one matrix cell (`parse_segment`), the largest revenue first."""
    ensure_dashboard_viewer(viewer)
    code = parse_segment(segment)
    async with uow:
        state = await aggregates_state(uow)
        if state is None or state.segments_as_of is None:
            return ClientsPage(code, owner_id, 0, 1, 0, (), None)
        s = ClientSegment
        query = _client_rows(state.segments_as_of, owner_id)
        query = query.where(s.segment.is_(None) if code == NO_SEGMENT else s.segment == code)
        query = query.order_by(s.revenue.desc(), Client.id)
        counted = await _counted(uow, owner_id, segment=code)
        total, pages, page, clients = await _page(uow, query, page, page_size, counted)
    return ClientsPage(code, owner_id, page, pages, total, clients, state.segments_as_of)


def _at_risk_rows(segments_as_of: date, owner_id: int | None) -> _Rows:
    s = ClientSegment
    return (
        _client_rows(segments_as_of, owner_id)
        .where(s.at_risk.is_(True))
        .order_by(s.value_at_risk.desc().nulls_last(), s.revenue_at_risk.desc(), Client.id)
    )


async def top_at_risk(
    uow: UnitOfWork, limit: int
) -> tuple[int, Decimal, tuple[DashboardClient, ...]]:
    """Clients at risk in all, the money they put at stake, and the `limit` with the most
    (the digest's list); from the same segment state as the dashboard. The money is what
    each row shows: value at risk, or revenue at risk without a spend model. Inside
    `async with uow`."""
    state = await aggregates_state(uow)
    if state is None or state.segments_as_of is None:
        return 0, _ZERO, ()
    s = ClientSegment
    count, amount = (
        await uow.session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(func.coalesce(s.value_at_risk, s.revenue_at_risk)), 0),
            ).where(_segment_state(state.segments_as_of), s.at_risk.is_(True))
        )
    ).one()
    rows = (await uow.session.execute(_at_risk_rows(state.segments_as_of, None).limit(limit))).all()
    return int(count), _money(amount), tuple(_dashboard_client(row) for row in rows)


@dataclass(frozen=True)
class OwnerRisk:
    owner_id: int
    name: str
    clients: int
    revenue_at_risk: Decimal


@dataclass(frozen=True)
class RiskOverview:
    as_of: date | None
    segments_as_of: date | None
    clients: int
    revenue_at_risk: Decimal
    revenue: Decimal  # of every client counted, to put the risk in proportion
    by_owner: tuple[OwnerRisk, ...]  # active managers, the most at risk first
    top: ClientsPage


async def value_at_risk(
    uow: UnitOfWork,
    viewer: Viewer,
    *,
    owner_id: int | None = None,
    page: int = 0,
    page_size: int = TOP_AT_RISK,
) -> RiskOverview:
    """Revenue at risk: the total, per manager, and the clients at risk by revenue at risk."""
    ensure_dashboard_viewer(viewer)
    async with uow:
        state = await aggregates_state(uow)
        totals = (
            await uow.session.execute(
                select(
                    DashboardSegment.owner_id,
                    func.sum(DashboardSegment.at_risk_clients),
                    func.sum(DashboardSegment.revenue_at_risk),
                    func.sum(DashboardSegment.revenue),
                ).group_by(DashboardSegment.owner_id)
            )
        ).all()
        managers = await active_managers(uow)
        top = ClientsPage(None, owner_id, 0, 1, 0, (), None)
        if state is not None and state.segments_as_of is not None:
            query = _at_risk_rows(state.segments_as_of, owner_id)
            counted = await _counted(uow, owner_id, at_risk=True)
            total, pages, page, rows = await _page(uow, query, page, page_size, counted)
            top = ClientsPage(None, owner_id, page, pages, total, rows, state.segments_as_of)
    sums = {int(o): (int(c or 0), _money(r), _money(v)) for o, c, r, v in totals}
    clients, at_risk, revenue = sums.get(owner_id or OWNER_ALL, (0, _ZERO, _ZERO))
    by_owner = sorted(
        (OwnerRisk(m.id, m.display_name, *sums.get(m.id, (0, _ZERO, _ZERO))[:2]) for m in managers),
        key=lambda o: (-o.revenue_at_risk, o.name),
    )
    return RiskOverview(
        as_of=None if state is None else state.as_of,
        segments_as_of=None if state is None else state.segments_as_of,
        clients=clients,
        revenue_at_risk=at_risk,
        revenue=revenue,
        by_owner=tuple(by_owner),
        top=top,
    )


@dataclass(frozen=True)
class Trends:
    """Month by month, the oldest first; the last month is to date (`through`)."""

    months: tuple[ClientFlow, ...]
    owner_id: int | None
    through: date
    as_of: date | None


async def trends(
    uow: UnitOfWork,
    viewer: Viewer,
    today: date,
    *,
    owner_id: int | None = None,
    months: int = TREND_MONTHS,
) -> Trends:
    """New, lost and returned clients and revenue new vs existing over the last `months`."""
    ensure_dashboard_viewer(viewer)
    if not 1 <= months <= DAILY_MONTHS:
        raise InvalidValue("months", months, f"expected 1 to {DAILY_MONTHS}")
    async with uow:
        state = await aggregates_state(uow)
        through = today if state is None else min(today, state.as_of)
        first = months_back(through, months - 1)
        d = DashboardDay
        rows = (
            await uow.session.execute(
                select(
                    d.day,
                    d.new_clients,
                    d.lost_clients,
                    d.returned_clients,
                    d.revenue_new,
                    d.revenue_existing,
                ).where(d.owner_id == (owner_id or OWNER_ALL), d.day >= first, d.day <= through)
            )
        ).all()
    totals: dict[date, list[Any]] = {}
    for day, new, lost, returned, rev_new, rev_existing in rows:
        month = totals.setdefault(month_start(day), [0, 0, 0, _ZERO, _ZERO])
        month[0] += new
        month[1] += lost
        month[2] += returned
        month[3] += Decimal(rev_new)
        month[4] += Decimal(rev_existing)
    flows = []
    for index in range(months - 1, -1, -1):
        start = months_back(through, index)
        end = min(month_end(start), through)
        new, lost, returned, rev_new, rev_existing = totals.get(start, [0, 0, 0, _ZERO, _ZERO])
        flows.append(
            ClientFlow(start, end, new, lost, returned, _money(rev_new), _money(rev_existing))
        )
    return Trends(tuple(flows), owner_id, through, None if state is None else state.as_of)


@dataclass(frozen=True)
class ManagerKpi:
    user_id: int
    name: str
    daily_plan: int
    today: ManagerCalls
    week: ManagerCalls  # Monday to today
    month: ManagerCalls  # the 1st to today
    overdue: int
    flow: ClientFlow  # this month to date
    at_risk_clients: int
    revenue_at_risk: Decimal


@dataclass(frozen=True)
class TeamKpis:
    today: date
    week_start: date
    month_start: date
    working_day: bool  # is today a working day
    managers: tuple[ManagerKpi, ...]
    flow: ClientFlow  # the whole company, this month to date
    as_of: date | None


async def team_kpis(uow: UnitOfWork, viewer: Viewer, now: datetime) -> TeamKpis:
    """Each active manager: calls against plan today, this week and this month (plans up to
    and including today), overdue contacts, this month's clients, revenue at risk."""
    ensure_dashboard_viewer(viewer)
    zone = viewer.zone
    day = viewer.local_today(now)
    week_start, tomorrow = day - timedelta(days=day.weekday()), day + timedelta(days=1)
    async with uow:
        calendar = await load_calendar(uow)
        managers = await active_managers(uow)
        today = await calls_period(uow, managers, day, tomorrow, zone, calendar)
        week = await calls_period(uow, managers, week_start, tomorrow, zone, calendar)
        month = await calls_period(uow, managers, month_start(day), tomorrow, zone, calendar)
        overdue = {o.user_id: o.overdue for o in await overdue_counts(uow, managers, day)}
        state = await aggregates_state(uow)
        through = day if state is None else min(day, state.as_of)
        flows = await client_flows(uow, month_start(through), through)
        risk = {
            int(owner): (int(count or 0), _money(amount))
            for owner, count, amount in (
                await uow.session.execute(
                    select(
                        DashboardSegment.owner_id,
                        func.sum(DashboardSegment.at_risk_clients),
                        func.sum(DashboardSegment.revenue_at_risk),
                    ).group_by(DashboardSegment.owner_id)
                )
            ).all()
        }
    empty = ClientFlow(month_start(through), through)
    items = []
    for manager in managers:
        at_risk, amount = risk.get(manager.id, (0, _ZERO))
        items.append(
            ManagerKpi(
                user_id=manager.id,
                name=manager.display_name,
                daily_plan=manager.daily_call_plan,
                today=_calls_of(today.of(manager.id), manager.id),
                week=_calls_of(week.of(manager.id), manager.id),
                month=_calls_of(month.of(manager.id), manager.id),
                overdue=overdue.get(manager.id, 0),
                flow=flows.get(manager.id, empty),
                at_risk_clients=at_risk,
                revenue_at_risk=amount,
            )
        )
    return TeamKpis(
        today=day,
        week_start=week_start,
        month_start=month_start(day),
        working_day=calendar.is_working_day(day),
        managers=tuple(items),
        flow=flows.get(OWNER_ALL, empty),
        as_of=None if state is None else state.as_of,
    )


def _calls_of(calls: ManagerCalls | None, user_id: int) -> ManagerCalls:
    return calls if calls is not None else ManagerCalls(user_id, "", 0, 0)
