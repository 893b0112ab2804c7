"""Recomputing segments from the database: read the sales, run the analytics, store the state.

The rules live in `services.analytics` (pure pandas); this service moves data in and
out at the speed of the database:

- **read** through its fast path (`services.db.bulk`): one scan of the sales as
  fixed-width numbers (client, day, cents, category code), the clients, and the
  latest logged contact per client. Categories travel as codes of a dictionary read
  just before; a category first seen in a sale committed in between counts as
  uncategorised until the next run. Nothing is written before the reads are done.
- **cross-sell** gets the net amount per client and category, aggregated in numpy
  from the same scan: exact, since a category counts as bought by its net amount.
- **write** the clients' states (`services.segment_state.store_states`: the
  current row of every client, a history row only where the tracked state changed)
  and set `clients.next_due_on` set-wise, only where it changes and only where no
  one changed it while the run computed.

One unit of work, committed once. Recomputing a date replaces what that date wrote.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Integer, String, case, column, func, literal, select, text, true, values
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics import analyze_clients, cross_sell, segment_migrations
from services.analytics.settings import SegmentationSettings
from services.dashboard import store_aggregates
from services.db import bulk
from services.db.models import Client, Interaction, SegmentationRun, Transaction
from services.model_check import has_check, quarter_backtest, store_check
from services.segment_state import (
    NULL_DAY,
    STATE_COLUMNS,
    complete_states,
    run_dates,
    store_states,
)
from services.settings_store import load_segmentation_settings
from services.uow import UnitOfWork
from services.zones import DEFAULT_TIMEZONE

_NEXT_DUE = "scratch_next_due"
# Up to this many categories a CASE codes them (faster than a join, measured at 8:
# 8.4 s against 10.7 s on 20 M sales); more go through a join with the dictionary.
_CATEGORIES_INLINE = 32
# Above this many (client, category) cells the per-category sums are sorted, not binned.
_DENSE_BASKET_CELLS = 1 << 26
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Migration:
    client_id: int
    abc_from: str | None
    abc_to: str | None
    xyz_from: str | None
    xyz_to: str | None
    status_from: str | None
    status_to: str | None


@dataclass(frozen=True)
class SegmentationOutcome:
    as_of: date
    run_id: int
    clients: int
    segment_counts: dict[str, int]
    status_counts: dict[str, int]
    previous_as_of: date | None
    migrations: list[Migration]
    model: dict[str, Any]
    changed: int = 0  # clients whose tracked state changed (history rows written)
    # seconds per phase: read, analytics, cross_sell, write, next_due
    phases: dict[str, float] = field(default_factory=dict)


class _Phases:
    """Seconds spent per phase, for the outcome (a monotonic timer, not the business clock)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._mark
        self._mark = now


def _to_datetime(days: np.ndarray) -> np.ndarray:
    return cast(np.ndarray, (days.astype(np.int64) * _SECONDS_PER_DAY).view("datetime64[s]"))


async def _category_names(connection: AsyncConnection, as_of: date) -> list[str]:
    """The categories sold up to `as_of`, by name: their codes are 1, 2, ... in this order."""
    rows = await connection.execute(
        select(Transaction.category)
        .where(Transaction.category.is_not(None), Transaction.date <= as_of)
        .distinct()
        .order_by(Transaction.category)
    )
    return [str(name) for (name,) in rows]


async def _read_sales(
    connection: AsyncConnection, as_of: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = await _category_names(connection, as_of)
    sales = Transaction.__table__.c
    source: Any = Transaction.__table__
    code: Any = literal(0)
    # The dictionary travels inside the query (no scratch table: on SQLite a write here
    # would pin the read snapshot and fail the run when someone writes meanwhile).
    if 0 < len(names) <= _CATEGORIES_INLINE:
        code = case(
            *((sales.category == name, index + 1) for index, name in enumerate(names)), else_=0
        )
    elif names:
        codes = (
            values(column("code", Integer), column("name", String), name="codes")
            .data([(index + 1, name) for index, name in enumerate(names)])
            .cte("codes")
        )
        source = source.outerjoin(codes, codes.c.name == sales.category)
        code = func.coalesce(codes.c.code, 0)
    query = (
        select(
            sales.client_id.label("client_id"),
            sales.date.label("day"),
            bulk.cents(sales.amount).label("cents"),
            code.label("category"),
        )
        .select_from(source)
        .where(sales.date <= as_of)
    )
    data = await bulk.read_arrays(
        connection, query, {"client_id": "i4", "day": "date", "cents": "i8", "category": "i4"}
    )
    baskets = _baskets(data["client_id"], data["category"], data["cents"], names, as_of)
    # The frame `analyze_clients` has always been given: one row per sale, categorised.
    transactions = pd.DataFrame(
        {
            "client_id": data.pop("client_id"),
            "date": _to_datetime(data.pop("day")),
            "amount": data.pop("cents") / 100.0,
            "category": pd.Categorical.from_codes(data.pop("category") - 1, categories=names),
        }
    )
    return transactions, baskets


def _baskets(
    client: np.ndarray, category: np.ndarray, cents: np.ndarray, names: list[str], as_of: date
) -> pd.DataFrame:
    """Net amount per client and category (positive nets only: what counts as bought)."""
    empty = pd.DataFrame(
        {
            "client_id": np.zeros(0, np.int64),
            "date": np.zeros(0, "datetime64[s]"),
            "amount": np.zeros(0),
            "category": pd.Categorical([], categories=names),
        }
    )
    if len(client) == 0 or not names:
        return empty
    first = int(client.min())
    width = len(names) + 1  # code 0: no category
    span = (int(client.max()) - first + 1) * width
    key = (client.astype(np.int64) - first) * width + category
    weights = cents.astype(np.float64)  # sums of cents stay exact below 2**53
    if span <= _DENSE_BASKET_CELLS:
        net = np.bincount(key, weights=weights, minlength=span)
        net[::width] = 0.0  # the uncategorised column
        cells = np.flatnonzero(net > 0)
        amounts = net[cells]
    else:
        unique, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=weights)
        keep = (sums > 0) & (unique % width != 0)
        cells, amounts = unique[keep], sums[keep]
    if len(cells) == 0:
        return empty
    return pd.DataFrame(
        {
            "client_id": cells // width + first,
            "date": np.full(len(cells), np.datetime64(as_of, "s")),
            "amount": amounts / 100.0,
            "category": pd.Categorical.from_codes(cells % width - 1, categories=names),
        }
    )


async def _read_clients(connection: AsyncConnection) -> tuple[pd.DataFrame, pd.Series]:
    clients = Client.__table__.c
    data = await bulk.read_arrays(
        connection,
        select(
            clients.id.label("client_id"),
            case((clients.is_vip.is_(True), 1), else_=0).label("vip"),
            clients.next_due_on.label("next_due_on"),
        ),
        {"client_id": "i4", "vip": "i2", "next_due_on": "date?"},
    )
    ids = data["client_id"].astype(np.int64)
    frame = pd.DataFrame({"client_id": ids, "vip": data["vip"].astype(bool)})
    return frame, pd.Series(data["next_due_on"].astype(np.int64), index=ids)


def _latest_contact_query(cutoff: datetime, *, postgres: bool) -> Any:
    """Per client its latest interaction before `cutoff` (ties: the later logged one)."""
    calls = Interaction.__table__.c
    picked = Interaction.__table__.alias("picked")
    order = (picked.c.occurred_at.desc(), picked.c.id.desc())
    mine = (picked.c.client_id == Client.__table__.c.id, picked.c.occurred_at < cutoff)
    if postgres:  # one index probe per client
        wanted = (
            picked.c.client_id,
            picked.c.occurred_at,
            picked.c.next_contact_on,
            picked.c.user_id,
        )
        latest = select(*wanted).where(*mine).order_by(*order).limit(1).lateral("latest")
        return select(
            latest.c.client_id.label("client_id"),
            latest.c.occurred_at.label("at"),
            latest.c.next_contact_on.label("planned"),
            func.coalesce(latest.c.user_id, 0).label("planned_by"),
        ).select_from(Client.__table__.join(latest, true()))
    latest_id = select(picked.c.id).where(*mine).order_by(*order).limit(1).scalar_subquery()
    return select(
        calls.client_id.label("client_id"),
        calls.occurred_at.label("at"),
        calls.next_contact_on.label("planned"),
        func.coalesce(calls.user_id, 0).label("planned_by"),
    ).select_from(Client.__table__.join(Interaction.__table__, calls.id == latest_id))


async def _read_contacts(connection: AsyncConnection, as_of: date, timezone: str) -> pd.DataFrame:
    """Per client: the local date of its latest contact up to `as_of`, the next one it set
    and who set it (`planned_by`, a user id)."""
    zone = ZoneInfo(timezone)
    cutoff = datetime.combine(as_of + timedelta(days=1), day_start(0), tzinfo=zone).astimezone(UTC)
    data = await bulk.read_arrays(
        connection,
        _latest_contact_query(cutoff, postgres=bulk.is_postgres(connection)),
        {"client_id": "i4", "at": "timestamp", "planned": "date?", "planned_by": "i4"},
    )
    if len(data["client_id"]) == 0:
        return pd.DataFrame(
            columns=["client_id", "last_contact", "planned_next_contact", "planned_by"]
        )
    moments = pd.to_datetime(data["at"], unit="us", utc=True).tz_convert(zone)
    planned = data["planned"]
    planned_at = _to_datetime(np.where(planned == NULL_DAY, 0, planned))
    planned_at[planned == NULL_DAY] = np.datetime64("NaT")
    return pd.DataFrame(
        {
            "client_id": data["client_id"].astype(np.int64),
            "last_contact": moments.tz_localize(None).normalize().to_numpy(),
            "planned_next_contact": planned_at,
            # who logged the contact that set the date (0: a removed user)
            "planned_by": data["planned_by"].astype(np.int64),
        }
    )


@dataclass(frozen=True)
class _Suggestions:
    """Cross-sell per client: JSON lists (best first) and the first suggestion's reason."""

    lists: np.ndarray  # JSON text per client, "[]" if none
    source: np.ndarray  # object: the bought category behind the first suggestion, or None
    lift: np.ndarray  # float: its lift, NaN if none


def _suggestions(
    baskets: pd.DataFrame, ids: np.ndarray, as_of: date, settings: SegmentationSettings
) -> _Suggestions:
    """Cross-sell suggestions per client of `ids`, with why the first one is suggested."""
    out = _Suggestions(
        np.full(len(ids), "[]", dtype=object),
        np.full(len(ids), None, dtype=object),
        np.full(len(ids), np.nan),
    )
    if baskets.empty or settings.cross_sell_max_suggestions == 0:
        return out
    suggested = cross_sell(baskets, as_of, settings.cross_sell_max_suggestions)
    if suggested.empty:
        return out
    categories = pd.Categorical(suggested["category"])
    owners, owner = np.unique(suggested["client_id"].to_numpy(dtype=np.int64), return_inverse=True)
    ranks = suggested["rank"].to_numpy(dtype=np.int64)
    grid = np.full((len(owners), int(ranks.max())), -1, dtype=np.int64)
    grid[owner.reshape(-1), ranks - 1] = categories.codes
    # Clients share few distinct suggestion lists: encode each list once.
    lists, which = np.unique(grid, axis=0, return_inverse=True)
    names = list(categories.categories)
    texts = np.array(
        [json.dumps([names[c] for c in row if c >= 0], ensure_ascii=False) for row in lists],
        dtype=object,
    )
    at = np.searchsorted(ids, owners)
    out.lists[at] = texts[which.reshape(-1)]
    first = ranks == 1
    first_at = np.searchsorted(ids, suggested["client_id"].to_numpy(dtype=np.int64)[first])
    out.source[first_at] = suggested["source_category"].astype(object).to_numpy()[first]
    out.lift[first_at] = suggested["lift"].to_numpy(dtype=np.float64)[first]
    return out


def _user_ids(values: pd.Series) -> pd.Series:
    """Who set each next due date as nullable user ids (0, a removed user, is unknown)."""
    ids = pd.to_numeric(values, errors="coerce").astype("Float64").astype("Int64")
    return ids.mask(ids == 0)


def _states(result: pd.DataFrame, suggestions: _Suggestions) -> pd.DataFrame:
    """The state columns from the analysis: every result column that is a state column."""
    p_alive = result["p_alive"].to_numpy(dtype=np.float64)
    derived: dict[str, Any] = {
        "churn_probability": 1.0 - p_alive,
        # the model's band, consistent with the status: none for lost and potential clients
        "risk": result["churn_risk"],
        "cross_sell": suggestions.lists,
        "cross_sell_from": suggestions.source,
        "cross_sell_lift": suggestions.lift,
        "cadence_source": result["cadence_source"].astype(object),
        "next_due_source": result["next_due_source"].astype(object),
        "next_due_set_by": _user_ids(result["next_due_set_by"]),
        # nothing to count a cadence from yet: due on every run's date
        "next_due": result["next_due"].where(result["last_touch"].notna()),
    }
    columns: dict[str, Any] = {"client_id": result["client_id"]}
    for name in STATE_COLUMNS:
        if name in derived:
            columns[name] = derived[name]
        elif name in result.columns:
            columns[name] = result[name]
    return complete_states(pd.DataFrame(columns))


async def _update_next_due(
    connection: AsyncConnection, ids: np.ndarray, due: np.ndarray, seen: pd.Series
) -> int:
    """Set `clients.next_due_on` where it changes, unless it was changed meanwhile."""
    before = seen.reindex(ids).to_numpy()
    changed = (before != due) & ~np.isnan(before.astype(np.float64))
    ids, due, before = ids[changed], due[changed], before[changed].astype(np.int64)
    if len(ids) == 0:
        return 0
    new_days = _to_datetime(due).astype("datetime64[D]")
    old_days = _to_datetime(np.where(before == NULL_DAY, 0, before)).astype("datetime64[D]")
    old_days[before == NULL_DAY] = np.datetime64("NaT")
    driver = await bulk.driver_connection(connection)
    if bulk.is_postgres(connection):
        await bulk.create_scratch_columns(
            connection, _NEXT_DUE, {"id": "INTEGER", "next_due": "DATE", "seen": "DATE"}
        )
        rows = list(zip(ids.tolist(), new_days.tolist(), old_days.tolist(), strict=True))
        await driver.copy_records_to_table(_NEXT_DUE, records=rows)
        await connection.execute(
            text(
                f"UPDATE clients SET next_due_on = s.next_due FROM {_NEXT_DUE} s "
                "WHERE clients.id = s.id AND clients.next_due_on IS NOT DISTINCT FROM s.seen"
            )
        )
        await bulk.drop_scratch_table(connection, _NEXT_DUE)
        return len(rows)
    new_text = np.datetime_as_string(new_days).tolist()
    old_text = [None if d == "NaT" else d for d in np.datetime_as_string(old_days).tolist()]
    await driver.executemany(
        "UPDATE clients SET next_due_on = ? WHERE id = ? AND next_due_on IS ?",
        list(zip(new_text, ids.tolist(), old_text, strict=True)),
    )
    return len(new_text)


def _none(value: Any) -> Any:
    return None if value is None or value is pd.NA or value != value else value


async def recompute_segments(
    uow: UnitOfWork, as_of: date, *, timezone: str = DEFAULT_TIMEZONE
) -> SegmentationOutcome:
    """Segment every client as known on `as_of` and store the result (opens `uow`, commits).

    `timezone` is the company's: a contact logged on a local day counts for that day.
    """
    phases = _Phases()
    async with uow:
        settings: SegmentationSettings = await load_segmentation_settings(uow)
        connection = await uow.session.connection()
        transactions, baskets = await _read_sales(connection, as_of)
        clients, next_due_on = await _read_clients(connection)
        contacts = await _read_contacts(connection, as_of, timezone)
        phases.done("read")
        analysis = analyze_clients(
            transactions, as_of, settings, clients=clients, interactions=contacts
        )
        # the largest frames go before the writes; the sales stay for the head's figures
        del clients, contacts
        transactions = transactions[["client_id", "date", "amount"]]
        result, model = analysis.clients, analysis.model
        ids = result["client_id"].to_numpy(dtype=np.int64)
        phases.done("analytics")
        suggestions = _suggestions(baskets, ids, as_of, settings)
        del baskets
        phases.done("cross_sell")

        previous_dates = await run_dates(uow.session, before=as_of, limit=1)
        run = SegmentationRun(
            as_of=as_of,
            model=model.to_json_dict() if model is not None else {},
            settings=settings.to_dict(),
            n_clients=len(result),
        )
        uow.session.add(run)
        await uow.flush()
        stored = await store_states(uow.session, run, _states(result, suggestions))
        phases.done("write")
        due = result["next_due"].to_numpy().astype("datetime64[D]").view(np.int64)
        current = (
            np.ones(len(ids), bool) if stored.current is None else np.isin(ids, stored.current)
        )
        await _update_next_due(connection, ids[current], due[current], next_due_on)
        await uow.flush()
        phases.done("next_due")
        # the head's figures from the same state, committed with it
        await store_aggregates(uow, as_of, transactions)
        phases.done("aggregates")
        # once a month: how the model did on the last quarter (the head's digest says it)
        if not await has_check(uow, as_of):
            check = quarter_backtest(transactions, as_of)
            if check is not None:
                store_check(uow, check)
            phases.done("model_check")
        del transactions
        await uow.commit()

    previous_as_of = previous_dates[0] if previous_dates else None
    migrations: list[Migration] = []
    if previous_as_of is not None:
        # A client whose ABC, XYZ or status moved has a history row on this date.
        before = stored.previous[stored.previous["client_id"].isin(stored.changed_ids)]
        after = result.loc[np.isin(ids, stored.changed_ids), ["client_id", "abc", "xyz", "status"]]
        moved = segment_migrations(before, after)
        migrations = [
            Migration(
                client_id=int(r["client_id"]),
                abc_from=_none(r["abc_from"]),
                abc_to=_none(r["abc_to"]),
                xyz_from=_none(r["xyz_from"]),
                xyz_to=_none(r["xyz_to"]),
                status_from=_none(r["status_from"]),
                status_to=_none(r["status_to"]),
            )
            for r in moved.astype(object).to_dict("records")
        ]
    segments = result["segment"].dropna().value_counts()
    statuses = result["status"].value_counts()
    return SegmentationOutcome(
        as_of=as_of,
        run_id=run.id,
        clients=len(result),
        segment_counts={str(k): int(v) for k, v in segments.items()},
        status_counts={str(k): int(v) for k, v in statuses.items()},
        previous_as_of=previous_as_of,
        migrations=migrations,
        model=run.model,
        changed=stored.changed,
        phases=phases.seconds,
    )
