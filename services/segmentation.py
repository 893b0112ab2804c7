"""Recomputing segments from the database: load frames, run the analytics, keep a snapshot.

The rules live in `services.analytics` (pure pandas); this service only moves data
in and out. Each run stores one `SegmentSnapshot` per client for its `as_of` date
(recomputing the same date replaces that date's rows; other dates are history),
and sets every client's `next_due_on`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from services.analytics import analyze_clients, cross_sell, segment_migrations
from services.analytics.settings import SegmentationSettings
from services.db.models import (
    Client,
    Interaction,
    SegmentationRun,
    SegmentSnapshot,
    Transaction,
)
from services.settings_store import load_segmentation_settings
from services.uow import UnitOfWork
from services.zones import DEFAULT_TIMEZONE

INSERT_CHUNK = 5_000


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


def _read_frames(
    connection: Connection, as_of: date, timezone: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    transactions = pd.read_sql_query(
        select(
            Transaction.client_id, Transaction.date, Transaction.amount, Transaction.category
        ).where(Transaction.date <= as_of),
        connection,
    )
    transactions["date"] = pd.to_datetime(transactions["date"])
    transactions["amount"] = transactions["amount"].astype("float64")
    clients = pd.read_sql_query(
        select(Client.id.label("client_id"), Client.is_vip.label("vip")), connection
    )
    clients["vip"] = clients["vip"].astype(bool)
    interactions = pd.read_sql_query(
        select(
            Interaction.client_id,
            Interaction.occurred_at,
            Interaction.next_contact_on,
        ),
        connection,
    )
    return transactions, clients, _latest_contacts(interactions, as_of, timezone)


def _latest_contacts(interactions: pd.DataFrame, as_of: date, timezone: str) -> pd.DataFrame:
    """Per client: the local date of the latest logged contact and the date it planned next."""
    columns = ["client_id", "last_contact", "planned_next_contact"]
    if interactions.empty:
        return pd.DataFrame(columns=columns)
    occurred = pd.to_datetime(interactions["occurred_at"], utc=True).dt.tz_convert(timezone)
    frame = interactions.assign(local_day=occurred.dt.tz_localize(None).dt.normalize())
    frame = frame[frame["local_day"] <= pd.Timestamp(as_of)]
    latest = frame.sort_values(["client_id", "occurred_at"]).groupby("client_id").tail(1)
    return pd.DataFrame(
        {
            "client_id": latest["client_id"].to_numpy(),
            "last_contact": latest["local_day"].to_numpy(),
            "planned_next_contact": pd.to_datetime(latest["next_contact_on"]).to_numpy(),
        }
    )


def _cross_sell_by_client(
    transactions: pd.DataFrame, as_of: date, settings: SegmentationSettings
) -> dict[int, list[str]]:
    """Suggested categories per client, best first (empty when no categories are known)."""
    with_category = transactions.dropna(subset=["category"])
    if with_category.empty or settings.cross_sell_max_suggestions == 0:
        return {}
    suggestions = cross_sell(with_category, as_of, settings.cross_sell_max_suggestions)
    ordered = suggestions.sort_values(["client_id", "rank"])
    return {
        int(client_id): [str(c) for c in group["category"]]
        for client_id, group in ordered.groupby("client_id", sort=False)
    }


def _none_if_missing(value: Any) -> Any:
    if value is None or (not isinstance(value, list | dict | str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _money(value: Any) -> Decimal:
    value = _none_if_missing(value)
    return Decimal(0) if value is None else Decimal(str(round(float(value), 2)))


def _as_date(value: Any) -> date | None:
    value = _none_if_missing(value)
    return None if value is None else pd.Timestamp(value).date()


def _snapshot_rows(
    result: pd.DataFrame, cross_sell: dict[int, list[str]], run_id: int, as_of: date
) -> list[dict[str, Any]]:
    rows = []
    for record in result.to_dict("records"):
        p_alive = _none_if_missing(record.get("p_alive"))
        client_id = int(record["client_id"])
        rows.append(
            {
                "run_id": run_id,
                "client_id": client_id,
                "as_of": as_of,
                "abc": _none_if_missing(record.get("abc")),
                "xyz": _none_if_missing(record.get("xyz")),
                "segment": _none_if_missing(record.get("segment")),
                "status": record["status"],
                "revenue": _money(record.get("revenue")),
                "deal_cycle_days": _none_if_missing(record.get("deal_cycle_days")),
                "p_alive": p_alive,
                "churn_probability": None if p_alive is None else 1.0 - float(p_alive),
                "expected_purchases_90d": _none_if_missing(record.get("expected_purchases_90d")),
                "cadence_days": int(record["cadence_days"]),
                "next_due": _as_date(record.get("next_due")),
                "reactivation": bool(record.get("reactivation", False)),
                "at_risk": bool(record.get("at_risk", False)),
                "revenue_at_risk": _money(record.get("revenue_at_risk")),
                "upsell": bool(record.get("upsell", False)),
                "cross_sell": cross_sell.get(client_id, []),
            }
        )
    return rows


async def _previous_snapshot(uow: UnitOfWork, as_of: date) -> tuple[date | None, pd.DataFrame]:
    previous = (
        await uow.session.execute(
            select(func.max(SegmentSnapshot.as_of)).where(SegmentSnapshot.as_of < as_of)
        )
    ).scalar()
    if previous is None:
        return None, pd.DataFrame(columns=["client_id", "abc", "xyz", "status"])
    rows = (
        await uow.session.execute(
            select(
                SegmentSnapshot.client_id,
                SegmentSnapshot.abc,
                SegmentSnapshot.xyz,
                SegmentSnapshot.status,
            ).where(SegmentSnapshot.as_of == previous)
        )
    ).all()
    return previous, pd.DataFrame(rows, columns=["client_id", "abc", "xyz", "status"])


async def recompute_segments(
    uow: UnitOfWork, as_of: date, *, timezone: str = DEFAULT_TIMEZONE
) -> SegmentationOutcome:
    """Segment every client as known on `as_of` and store the snapshot (commits)."""
    async with uow:
        settings = await load_segmentation_settings(uow)
        connection = await uow.session.connection()
        transactions, clients, contacts = await connection.run_sync(
            lambda sync: _read_frames(sync, as_of, timezone)
        )
        analysis = analyze_clients(
            transactions, as_of, settings, clients=clients, interactions=contacts
        )
        result, model = analysis.clients, analysis.model
        suggestions = _cross_sell_by_client(transactions, as_of, settings)
        previous_as_of, previous = await _previous_snapshot(uow, as_of)

        run = SegmentationRun(
            as_of=as_of,
            model=model.to_json_dict() if model is not None else {},
            settings=settings.to_dict(),
            n_clients=len(result),
        )
        uow.session.add(run)
        await uow.flush()
        await uow.session.execute(delete(SegmentSnapshot).where(SegmentSnapshot.as_of == as_of))
        rows = _snapshot_rows(result, suggestions, run.id, as_of)
        for start in range(0, len(rows), INSERT_CHUNK):
            await uow.session.execute(insert(SegmentSnapshot), rows[start : start + INSERT_CHUNK])
        # ORM bulk UPDATE by primary key: one executemany per chunk
        due = [{"id": r["client_id"], "next_due_on": r["next_due"]} for r in rows]
        for start in range(0, len(due), INSERT_CHUNK):
            await uow.session.execute(update(Client), due[start : start + INSERT_CHUNK])
        await uow.commit()

    current = result[["client_id", "abc", "xyz", "status"]]
    moved = segment_migrations(previous, current) if previous_as_of else previous.iloc[0:0]
    migrations = [
        Migration(
            client_id=int(r["client_id"]),
            abc_from=_none_if_missing(r.get("abc_from")),
            abc_to=_none_if_missing(r.get("abc_to")),
            xyz_from=_none_if_missing(r.get("xyz_from")),
            xyz_to=_none_if_missing(r.get("xyz_to")),
            status_from=_none_if_missing(r.get("status_from")),
            status_to=_none_if_missing(r.get("status_to")),
        )
        for r in moved.to_dict("records")
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
    )
