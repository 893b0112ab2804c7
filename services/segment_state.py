"""A client's segment state now and on any past date: the reads and the one write.

Two tables (see `services.db.models`):

- `client_segments`: one row per client, rewritten by every run — what lists, cards,
  pushes and the digest read (`ClientSegment`, joined by `current_segment_join()`);
- `segment_history`: a row only on the dates a client's *tracked* state (`TRACKED`)
  changed. The state of a client as of a date is its row with the greatest `as_of`
  not after that date; on every run date this is exactly what the run computed, so
  migrations between two dates, the state of every client as of a date and a
  client's trend are answered from it without a row per client and day.

`next_due` is NULL while a client has nothing to count a cadence from (no purchase,
no logged contact): it is then due on each run's date, which would otherwise make a
new history row every day for every such client.

Runs may come in any order: re-running a date replaces what that date wrote, and a
run for a date before the latest one is woven into the history so that the states
on the later dates stay what they were (`store_states`).

The columns stored are those of `ClientSegment` (`STATE_COLUMNS`): a new column of
`analyze_clients`' result is kept by adding a column of the same name to the model
(and a migration); the recompute maps result columns to state columns by name. The
churn-risk band is part of the tracked state; it is the analysis' band, decided with
the status, so a lost client has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    column,
    func,
    insert,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.analytics import ABC_CLASSES, SEGMENTS, STATUSES, XYZ_CLASSES
from services.analytics import segment_migrations as _segment_migrations
from services.db import bulk
from services.db.models import Client, ClientSegment, SegmentationRun, SegmentHistory


class ChurnRisk(StrEnum):
    """The churn risk bands: the vocabulary of `risk`, decided by the analysis
    (`services.analytics.segmentation.status_and_risk`), never re-derived here."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


TRACKED: tuple[str, ...] = (
    "abc",
    "xyz",
    "segment",
    "status",
    "risk",
    "at_risk",
    "reactivation",
    "cadence_days",
    "next_due",
)
"""The columns whose change makes a history row."""

_BOOKKEEPING = frozenset({"client_id", "run_id", "as_of", "previous_revenue"})
_CURRENT = cast(Table, ClientSegment.__table__)
_HISTORY = cast(Table, SegmentHistory.__table__)
STATE_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in _CURRENT.columns if c.name not in _BOOKKEEPING
)
"""Every stored column of a client's state, in table order: the one list to extend."""

_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "abc": ABC_CLASSES,
    "xyz": XYZ_CLASSES,
    "segment": SEGMENTS,
    "status": STATUSES,
    "risk": tuple(band.value for band in ChurnRisk),
}
_FLAGS = ("at_risk", "reactivation")
# Codes of the tracked state: 1 + position in the vocabulary, 0 for NULL, -1 for a value
# outside it (written by hand: always counted as a change). Floating next due: NULL_DAY.
NULL_DAY = bulk.NULL_DAY
_UNKNOWN = -1
_SCRATCH = "scratch_client_segments"


def current_segment_join() -> ColumnElement[bool]:
    """Join condition of `ClientSegment` to `Client`: the client's current segment state."""
    return ClientSegment.client_id == Client.id


async def current_segment(session: AsyncSession, client_id: int) -> ClientSegment | None:
    """The client's current segment state, or None before its first run."""
    return await session.get(ClientSegment, client_id)


async def run_dates(
    session: AsyncSession, *, before: date | None = None, limit: int = 2
) -> list[date]:
    """The latest distinct dates of runs that segmented anyone, newest first."""
    query = select(SegmentationRun.as_of).where(SegmentationRun.n_clients > 0)
    if before is not None:
        query = query.where(SegmentationRun.as_of < before)
    query = query.distinct().order_by(SegmentationRun.as_of.desc()).limit(limit)
    return list((await session.scalars(query)).all())


# --- history reads ---------------------------------------------------------------------


def _history_columns() -> list[Any]:
    return [SegmentHistory.client_id, SegmentHistory.as_of, *(_HISTORY.c[c] for c in TRACKED)]


def _latest_rows(
    not_after: date | None = None, before: date | None = None, clients: Any = None
) -> Any:
    """History rows in force as of a date: the greatest `as_of` per client in range."""
    latest = select(
        SegmentHistory.client_id, func.max(SegmentHistory.as_of).label("as_of")
    ).group_by(SegmentHistory.client_id)
    if not_after is not None:
        latest = latest.where(SegmentHistory.as_of <= not_after)
    if before is not None:
        latest = latest.where(SegmentHistory.as_of < before)
    if clients is not None:
        latest = latest.where(SegmentHistory.client_id.in_(clients))
    in_force = latest.subquery("in_force")
    return select(*_history_columns()).join(
        in_force,
        and_(
            in_force.c.client_id == SegmentHistory.client_id,
            in_force.c.as_of == SegmentHistory.as_of,
        ),
    )


async def _frame(session_or_connection: Any, query: Any) -> pd.DataFrame:
    rows = (await session_or_connection.execute(query)).all()
    frame = pd.DataFrame(rows, columns=["client_id", "as_of", *TRACKED])
    return frame.sort_values("client_id", kind="stable").reset_index(drop=True)


async def states_as_of(session: AsyncSession, day: date) -> pd.DataFrame:
    """The tracked state of every client as of `day` (as the latest run up to it left it).

    Columns ``client_id``, ``since`` (the date the state took effect), then `TRACKED`;
    ``next_due`` is a date (due on that run's date when nothing set it). Sorted by
    client; clients without a run up to `day` are absent.
    """
    runs = await run_dates(session, before=day + timedelta(days=1), limit=1)
    frame = await _frame(session, _latest_rows(not_after=day))
    frame = frame.rename(columns={"as_of": "since"})
    if runs:
        frame["next_due"] = frame["next_due"].where(frame["next_due"].notna(), runs[0])
    return frame


async def migrations_between(session: AsyncSession, earlier: date, later: date) -> pd.DataFrame:
    """Clients whose ABC, XYZ or status differ between the states as of two dates.

    The columns of `services.analytics.segment_migrations`. Only clients with a
    history row after `earlier` can differ, so only they are read.
    """
    moved = (
        select(SegmentHistory.client_id)
        .where(SegmentHistory.as_of > earlier, SegmentHistory.as_of <= later)
        .distinct()
    )
    before = await _frame(session, _latest_rows(not_after=earlier, clients=moved))
    after = await _frame(session, _latest_rows(not_after=later, clients=moved))
    columns = ["client_id", "abc", "xyz", "status"]
    return _segment_migrations(before[columns], after[columns])


@dataclass(frozen=True)
class LatestMigrations:
    """Migrations between the two latest run dates, with the revenue before the move."""

    dates: tuple[date, date] | None  # (earlier, later)
    migrations: pd.DataFrame  # segment_migrations columns + revenue_from (Decimal or None)


async def latest_migrations(session: AsyncSession) -> LatestMigrations:
    """What moved between the two latest runs; `revenue_from` is the window revenue then."""
    dates = await run_dates(session, limit=2)
    if len(dates) < 2:
        empty = _segment_migrations(
            pd.DataFrame(columns=["client_id", "abc", "xyz", "status"]),
            pd.DataFrame(columns=["client_id", "abc", "xyz", "status"]),
        )
        return LatestMigrations(None, empty.assign(revenue_from=pd.Series([], dtype=object)))
    later, earlier = dates
    moved = await migrations_between(session, earlier, later)
    revenue: dict[int, Any] = {}
    if len(moved):
        ids = [int(i) for i in moved["client_id"]]
        rows = await session.execute(
            select(ClientSegment.client_id, ClientSegment.previous_revenue).where(
                ClientSegment.client_id.in_(ids), ClientSegment.as_of == later
            )
        )
        revenue = dict(rows.all())
    moved = moved.assign(
        revenue_from=pd.Series([revenue.get(c) for c in moved["client_id"]], dtype=object)
    )
    return LatestMigrations((earlier, later), moved)


@dataclass(frozen=True)
class SegmentChange:
    """A client's tracked state from `since` on (one step of its trend)."""

    since: date
    abc: str | None
    xyz: str | None
    segment: str | None
    status: str
    risk: str | None
    at_risk: bool
    reactivation: bool
    cadence_days: int
    next_due: date | None  # None: due on each run's date


async def client_trend(
    session: AsyncSession, client_id: int, *, limit: int = 12
) -> tuple[SegmentChange, ...]:
    """The client's latest `limit` state changes, oldest first."""
    rows = (
        await session.execute(
            select(*_history_columns())
            .where(SegmentHistory.client_id == client_id)
            .order_by(SegmentHistory.as_of.desc())
            .limit(limit)
        )
    ).all()
    return tuple(
        SegmentChange(
            since=row.as_of,
            abc=row.abc,
            xyz=row.xyz,
            segment=row.segment,
            status=row.status,
            risk=row.risk,
            at_risk=bool(row.at_risk),
            reactivation=bool(row.reactivation),
            cadence_days=int(row.cadence_days),
            next_due=row.next_due,
        )
        for row in reversed(rows)
    )


# --- the write -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRun:
    """What `store_states` did."""

    previous: pd.DataFrame  # client_id, abc, xyz, status before this date (clients with one)
    changed: int  # history rows written for this date
    changed_ids: np.ndarray  # their clients: the only ones that can have migrated
    current: np.ndarray | None  # client ids whose current state is now this run's (None: all)


def _default(name: str) -> Any:
    default = _CURRENT.c[name].default
    if default is None:
        return None
    arg = getattr(default, "arg", None)
    return arg(None) if callable(arg) else arg


def complete_states(states: pd.DataFrame) -> pd.DataFrame:
    """`client_id` + every `STATE_COLUMNS` column, missing values as the column defaults."""
    if "client_id" not in states.columns:
        raise ValueError("states need a client_id column")
    if states["client_id"].duplicated().any():
        raise ValueError("states hold one row per client")
    unknown = set(states.columns) - {"client_id", *STATE_COLUMNS}
    if unknown:
        raise ValueError(f"not a segment state column: {sorted(unknown)[0]!r}")
    out: dict[str, Any] = {"client_id": states["client_id"].to_numpy(dtype=np.int64)}
    for name in STATE_COLUMNS:
        column = _CURRENT.c[name]
        default = _default(name)
        if name not in states.columns:
            if not column.nullable and default is None:
                raise ValueError(f"states need a {name!r} column")
            out[name] = pd.Series([_default(name) for _ in range(len(states))], dtype=object)
            continue
        values = states[name].reset_index(drop=True)
        if not column.nullable and default is not None:
            missing = values.isna().to_numpy()
            if missing.any():
                values = values.astype(object)
                values[missing] = [_default(name) for _ in range(int(missing.sum()))]
        out[name] = values
    return pd.DataFrame(out)


def _text_codes(values: pd.Series, vocabulary: Sequence[str]) -> np.ndarray:
    known = pd.Index(list(vocabulary))
    if isinstance(values.dtype, pd.CategoricalDtype):  # the analysis' columns: map the codes
        positions = known.get_indexer(values.cat.categories).astype(np.int64) + 1
        positions[positions == 0] = _UNKNOWN
        categories = values.cat.codes.to_numpy()
        return np.where(categories >= 0, positions[np.maximum(categories, 0)], 0)
    codes = known.get_indexer(values).astype(np.int64) + 1
    codes[codes == 0] = _UNKNOWN
    codes[values.isna().to_numpy()] = 0
    return codes


def _day_codes(values: pd.Series) -> np.ndarray:
    days = pd.to_datetime(values).to_numpy().astype("datetime64[D]")
    codes = days.view(np.int64).copy()
    codes[np.isnat(days)] = NULL_DAY
    return codes


def _state_codes(frame: pd.DataFrame) -> np.ndarray:
    """The tracked state as an integer matrix (rows as `frame`, columns as `TRACKED`)."""
    columns = []
    for name in TRACKED:
        values = frame[name]
        if name in _VOCABULARIES:
            columns.append(_text_codes(values, _VOCABULARIES[name]))
        elif name == "next_due":
            columns.append(_day_codes(values))
        else:
            columns.append(values.astype(np.int64).to_numpy())
    return np.column_stack(columns) if len(frame) else np.zeros((0, len(TRACKED)), np.int64)


def _decoded(codes: np.ndarray, name: str) -> np.ndarray:
    vocabulary = np.array([None, *_VOCABULARIES[name]], dtype=object)
    out = vocabulary[np.clip(codes, 0, None)]
    out[codes == _UNKNOWN] = None
    return cast(np.ndarray, out)


def _sql_code(column: Any, vocabulary: Sequence[str]) -> Any:
    return case(
        (column.is_(None), 0),
        *((column == value, index + 1) for index, value in enumerate(vocabulary)),
        else_=_UNKNOWN,
    )


@dataclass(frozen=True)
class _Current:
    """`client_segments` as arrays, sorted by client id."""

    client_id: np.ndarray
    as_of: np.ndarray  # epoch days
    codes: np.ndarray  # the tracked state, see `_state_codes`


async def _read_current(connection: AsyncConnection) -> _Current:
    c = _CURRENT.c
    columns: list[Any] = [c.client_id.label("client_id"), c.as_of.label("as_of")]
    dtypes = {"client_id": "i8", "as_of": "date"}
    for name in TRACKED:
        if name in _VOCABULARIES:
            columns.append(_sql_code(c[name], _VOCABULARIES[name]).label(name))
            dtypes[name] = "i2"
        elif name == "next_due":
            columns.append(c.next_due.label(name))
            dtypes[name] = "date?"
        elif name in _FLAGS:
            columns.append(case((c[name].is_(True), 1), else_=0).label(name))
            dtypes[name] = "i2"
        else:
            columns.append(c[name].label(name))
            dtypes[name] = "i4"
    data = await bulk.read_arrays(connection, select(*columns), dtypes)
    order = np.argsort(data["client_id"], kind="stable")
    codes = np.zeros((len(order), len(TRACKED)), dtype=np.int64)
    for index, name in enumerate(TRACKED):
        codes[:, index] = data[name][order]
    return _Current(client_id=data["client_id"][order], as_of=data["as_of"][order], codes=codes)


def _day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _positions(known: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions of `ids` in the sorted array `known`, -1 where absent."""
    if len(known) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
    return np.where(known[at] == ids, at, -1)


@dataclass
class _States:
    """Tracked states aligned with the run's clients: text, codes, and whether known."""

    text: pd.DataFrame  # client_id + TRACKED, one row per run client (NA where unknown)
    codes: np.ndarray
    known: np.ndarray

    @classmethod
    def read(cls, rows: pd.DataFrame, ids: np.ndarray) -> _States:
        at = _positions(rows["client_id"].to_numpy(dtype=np.int64), ids)
        known = at >= 0
        text_rows = rows.iloc[np.maximum(at, 0)].reset_index(drop=True) if len(rows) else None
        if text_rows is None:
            text_rows = pd.DataFrame({"client_id": ids, **{n: [None] * len(ids) for n in TRACKED}})
        text_rows = text_rows[["client_id", *TRACKED]].astype(object)
        text_rows["client_id"] = ids
        codes = (
            _state_codes(text_rows) if len(rows) else np.zeros((len(ids), len(TRACKED)), np.int64)
        )
        return cls(text_rows, codes, known)

    def overlay(self, other: _States) -> None:
        """Take `other`'s state wherever it is known."""
        hit = other.known
        self.text.loc[hit, list(TRACKED)] = other.text.loc[hit, list(TRACKED)].to_numpy()
        self.codes[hit] = other.codes[hit]
        self.known |= hit


def _unknown_values(codes: np.ndarray) -> np.ndarray:
    columns = [TRACKED.index(n) for n in _VOCABULARIES]
    return cast(np.ndarray, (codes[:, columns] == _UNKNOWN).any(axis=1))


async def _rows_on(connection: AsyncConnection, day: date) -> pd.DataFrame:
    return await _frame(connection, select(*_history_columns()).where(_HISTORY.c.as_of == day))


async def store_states(
    session: AsyncSession, run: SegmentationRun, states: pd.DataFrame
) -> StoredRun:
    """Record the states a run computed for its clients on `run.as_of` (the caller commits).

    `states` has `client_id` and any `STATE_COLUMNS` (missing ones take their defaults;
    `next_due` NaT = nothing to count a cadence from). Writes the current rows of the
    clients whose latest run this is, a history row for each client whose tracked
    state differs from its state before this date, and sets `run.n_clients` and
    `run.n_changed`. Re-running a date replaces what it wrote; a date before a later
    run leaves the states of the later dates as they were.
    """
    connection = await session.connection()
    frame = complete_states(states).sort_values("client_id", kind="stable")
    frame = frame.reset_index(drop=True)
    rows = frame.assign(run_id=run.id, as_of=pd.Timestamp(run.as_of), previous_revenue=None)
    postgres = bulk.is_postgres(connection)
    scratch = await bulk.create_scratch(connection, _SCRATCH, _CURRENT)
    await bulk.write_rows(
        connection, _SCRATCH, list(rows.columns), scratch.rows(rows, postgres=postgres)
    )
    not_alone = await session.scalar(
        select(func.count()).where(
            SegmentationRun.as_of >= run.as_of,
            SegmentationRun.n_clients > 0,
            SegmentationRun.id != run.id,
        )
    )
    if not_alone:
        stored = await _store_among_runs(session, connection, scratch, run.as_of, frame)
    else:
        stored = await _store_latest(connection, run.as_of)
    await _upsert_current(connection, list(rows.columns))
    await bulk.drop_scratch_table(connection, _SCRATCH)
    run.n_clients = len(frame)
    run.n_changed = stored.changed
    return stored


def _changed_since(current: Any, new: Any) -> Any:
    """SQL: the new tracked state differs from the current one (or there is none)."""
    return or_(
        current.c.client_id.is_(None),
        *(new.c[name].is_distinct_from(current.c[name]) for name in TRACKED),
    )


async def _store_latest(connection: AsyncConnection, day: date) -> StoredRun:
    """The usual night: a date after every run. The changes are found in SQL, set-wise."""
    new = table(_SCRATCH, *(column(name) for name in ("client_id", "as_of", *TRACKED)))
    current = _CURRENT.alias("current")
    joined = new.outerjoin(current, current.c.client_id == new.c.client_id)
    moved = (
        await connection.execute(
            select(
                new.c.client_id,
                current.c.client_id.is_not(None).label("known"),
                current.c.abc,
                current.c.xyz,
                current.c.status,
            )
            .select_from(joined)
            .where(_changed_since(current, new))
        )
    ).all()
    await connection.execute(
        insert(SegmentHistory).from_select(
            ["client_id", "as_of", *TRACKED],
            select(new.c.client_id, new.c.as_of, *(new.c[name] for name in TRACKED))
            .select_from(joined)
            .where(_changed_since(current, new)),
        )
    )
    frame = pd.DataFrame(moved, columns=["client_id", "known", "abc", "xyz", "status"])
    known = frame["known"].astype(bool).to_numpy()
    ids = frame["client_id"].to_numpy(dtype=np.int64)
    return StoredRun(
        previous=frame.loc[known, ["client_id", "abc", "xyz", "status"]].reset_index(drop=True),
        changed=len(frame),
        changed_ids=ids,
        current=None,
    )


async def _store_among_runs(
    session: AsyncSession,
    connection: AsyncConnection,
    scratch: bulk.Scratch,
    day: date,
    frame: pd.DataFrame,
) -> StoredRun:
    """A re-run, or a date before a later run: the states around it are read and woven in."""
    day_no = _day_number(day)
    ids = frame["client_id"].to_numpy(dtype=np.int64)
    new_codes = _state_codes(frame)
    current = await _read_current(connection)
    at = _positions(current.client_id, ids)
    has = at >= 0
    safe = np.maximum(at, 0)
    no_day = np.iinfo(np.int64).min
    cur_as_of = np.where(has, current.as_of[safe] if len(current.as_of) else no_day, no_day)
    rerun = has & (cur_as_of == day_no)
    later = has & (cur_as_of > day_no)

    on_day = await _rows_on(connection, day)
    if later.any():
        # A date before the latest run: the state before it comes from the history.
        prior = _States.read(await _frame(connection, _latest_rows(before=day)), ids)
    else:
        codes = current.codes[safe] if len(current.codes) else new_codes * 0
        # Only the codes are needed here: the text is never written on this path.
        prior = _States(frame[["client_id", *TRACKED]], np.where(has[:, None], codes, 0), has)
        if len(on_day):
            # Clients that changed on this very date: their state before is the row before.
            before = await _frame(
                connection,
                _latest_rows(
                    before=day,
                    clients=select(SegmentHistory.client_id).where(SegmentHistory.as_of == day),
                ),
            )
            changed_today = _States.read(on_day, ids).known & rerun
            earlier_rows = _States.read(before, ids)
            prior.codes[changed_today] = earlier_rows.codes[changed_today]
            prior.known[changed_today] = earlier_rows.known[changed_today]

    changed = ~prior.known | (new_codes != prior.codes).any(axis=1) | _unknown_values(new_codes)
    await _replace_history(
        connection, day, frame.loc[changed, ["client_id", *TRACKED]].reset_index(drop=True)
    )
    if later.any():
        await _keep_later_states(session, connection, scratch, day, ids, new_codes, prior, on_day)
    known = prior.known
    previous = pd.DataFrame(
        {
            "client_id": ids[known],
            **{
                name: _decoded(prior.codes[known, TRACKED.index(name)], name)
                for name in ("abc", "xyz", "status")
            },
        }
    )
    return StoredRun(
        previous=previous, changed=int(changed.sum()), changed_ids=ids[changed], current=ids[~later]
    )


async def _replace_history(
    connection: AsyncConnection, day: date, rows: pd.DataFrame, *, replace: bool = True
) -> None:
    """The history rows of the scratch table's clients on `day` become `rows`."""
    if replace:
        await connection.execute(
            text(
                f"DELETE FROM {_HISTORY.name} WHERE as_of = :day "
                f"AND client_id IN (SELECT client_id FROM {_SCRATCH})"
            ),
            {"day": day},
        )
    rows = rows.assign(as_of=pd.Timestamp(day))[["client_id", "as_of", *TRACKED]]
    postgres = bulk.is_postgres(connection)
    await bulk.write_rows(
        connection,
        _HISTORY.name,
        list(rows.columns),
        bulk.frame_rows(rows, _HISTORY, postgres=postgres),
    )


async def _keep_later_states(
    session: AsyncSession,
    connection: AsyncConnection,
    scratch: bulk.Scratch,
    day: date,
    ids: np.ndarray,
    new_codes: np.ndarray,
    prior: _States,
    old_on_day: pd.DataFrame,
) -> None:
    """After writing a date before the latest run: the next run date keeps its states."""
    following = await session.scalar(
        select(func.min(SegmentationRun.as_of)).where(
            SegmentationRun.as_of > day, SegmentationRun.n_clients > 0
        )
    )
    if following is None:
        return
    # The state each client had on the next run date before this write.
    state = _States(prior.text.copy(), prior.codes.copy(), prior.known.copy())
    state.overlay(_States.read(old_on_day, ids))
    state.overlay(_States.read(await _rows_on(connection, following), ids))
    keep = state.known & (state.codes != new_codes).any(axis=1)
    await _replace_history(connection, following, state.text.loc[keep].reset_index(drop=True))
    # This date is now the run before the next one: its revenue is the one before.
    await connection.execute(
        text(
            f"UPDATE {_CURRENT.name} SET previous_revenue = "
            f"(SELECT {scratch.expression('revenue', 's')} FROM {_SCRATCH} s "
            f"WHERE s.client_id = {_CURRENT.name}.client_id) "
            f"WHERE as_of = :day AND client_id IN (SELECT client_id FROM {_SCRATCH})"
        ),
        {"day": following},
    )


async def _upsert_current(connection: AsyncConnection, names: Sequence[str]) -> None:
    """Scratch rows into `client_segments`, except over a client's state of a later date.

    `previous_revenue` becomes the revenue of the row replaced when that row is of an
    earlier date, and stays what it was when the same date is computed again.
    """
    scratch = bulk.Scratch.of(connection, _SCRATCH, _CURRENT)
    target = _CURRENT.name
    columns = ", ".join(names)
    values = ", ".join(scratch.expression(n) for n in names)
    updates = [f"{n} = excluded.{n}" for n in names if n not in ("client_id", "previous_revenue")]
    updates.append(
        f"previous_revenue = CASE WHEN {target}.as_of < excluded.as_of THEN {target}.revenue "
        f"ELSE {target}.previous_revenue END"
    )
    await connection.execute(
        text(
            f"INSERT INTO {target} ({columns}) SELECT {values} FROM {_SCRATCH} WHERE true "
            f"ON CONFLICT (client_id) DO UPDATE SET {', '.join(updates)} "
            f"WHERE {target}.as_of <= excluded.as_of"
        )
    )
