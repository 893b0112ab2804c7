"""Benchmark of the analytics engine on a synthetic client base.

Run: ``python -m benchmarks.bench_analytics [--clients N] [--transactions M]``
(defaults: 1,000,000 clients, 20,000,000 transactions).

Prints each stage's wall time and peak resident memory, then times the same
per-client aggregation as a DuckDB query and prints the pandas/DuckDB ratio.
Targets on a 2-core machine: full analysis <= 20 s, BG/NBD fit <= 5 s, peak
memory <= 4 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from services.analytics import (
    SegmentationSettings,
    analyze_clients,
    at_risk_list,
    backtest,
    client_summary,
    cross_sell,
    fit_bgnbd,
    fit_gamma_gamma,
    monthly_accounting,
    segment_matrix,
    status_counts,
)

AS_OF = dt.date(2024, 12, 31)
HISTORY_DAYS = 3 * 365
N_CATEGORIES = 30
N_MANAGERS = 200
GIB = 1024**3


def _rss_peak_bytes() -> int:
    """Peak resident set size of this process since the last reset."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_rss_peak() -> bool:
    """Reset the kernel's peak-RSS mark for this process (Linux); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@contextmanager
def stage(name: str, results: dict[str, float]) -> Iterator[None]:
    """Time a block and print its wall time and peak memory."""
    gc.collect()
    _reset_rss_peak()
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    results[name] = elapsed
    print(f"{name:<34} {elapsed:8.2f} s   peak RSS {_rss_peak_bytes() / GIB:6.2f} GiB", flush=True)


def synthetic_data(n_clients: int, n_transactions: int, seed: int = 42) -> dict[str, pd.DataFrame]:
    """Generate transactions, clients, interactions and owners (vectorised)."""
    rng = np.random.default_rng(seed)
    as_of_day = (AS_OF - dt.date(1970, 1, 1)).days
    history_start = as_of_day - HISTORY_DAYS

    # Heterogeneous activity: Gamma purchase weights, random arrival and churn.
    weight = rng.gamma(0.8, 1.0, n_clients)
    counts = rng.multinomial(n_transactions, weight / weight.sum())
    start = rng.integers(history_start, as_of_day + 1, n_clients)
    lifetime = rng.exponential(500.0, n_clients).astype(np.int64) + 1
    end = np.minimum(start + lifetime, as_of_day)
    client_index = np.repeat(np.arange(n_clients, dtype=np.int64), counts)
    del counts
    span = (end - start + 1)[client_index]
    day = start[client_index] + (rng.random(n_transactions) * span).astype(np.int64)
    del span
    amount = np.round(rng.lognormal(8.0, 1.0, n_transactions), 2)
    returns = rng.random(n_transactions) < 0.03
    amount[returns] = -amount[returns]
    # Clients lean towards neighbouring categories, so co-purchases have structure.
    favourite = rng.integers(0, N_CATEGORIES, n_clients)
    category = (favourite[client_index] + rng.geometric(0.5, n_transactions) - 1) % N_CATEGORIES

    # Rows arrive in random order, as they would from an unordered query.
    order = rng.permutation(n_transactions)
    category_names = np.array([f"cat{i:02d}" for i in range(N_CATEGORIES)], dtype=object)
    transactions = pd.DataFrame(
        {
            "client_id": client_index[order] + 1,
            "date": (day[order] * 86_400).astype("datetime64[s]"),
            "amount": amount[order],
            "category": pd.Categorical.from_codes(
                category[order].astype(np.int16), categories=category_names
            ),
        }
    )
    del order, client_index, day, amount, category

    # 5 % more clients than buyers: registered but never bought (potential).
    all_ids = np.arange(1, int(n_clients * 1.05) + 1, dtype=np.int64)
    clients = pd.DataFrame({"client_id": all_ids, "vip": rng.random(len(all_ids)) < 0.02})
    contacted = all_ids[rng.random(len(all_ids)) < 0.3]
    last_contact = as_of_day - rng.integers(0, 120, len(contacted))
    planned = np.where(
        rng.random(len(contacted)) < 0.5,
        last_contact + rng.integers(1, 30, len(contacted)),
        np.iinfo(np.int64).min,
    )
    interactions = pd.DataFrame(
        {
            "client_id": contacted,
            "last_contact": (last_contact * 86_400).astype("datetime64[s]"),
            "planned_next_contact": pd.to_datetime(
                np.where(planned > np.iinfo(np.int64).min, planned * 86_400, np.nan),
                unit="s",
            ),
        }
    )
    owners = pd.DataFrame(
        {"client_id": all_ids, "manager_id": rng.integers(1, N_MANAGERS + 1, len(all_ids))}
    )
    return {
        "transactions": transactions,
        "clients": clients,
        "interactions": interactions,
        "owners": owners,
    }


DUCKDB_SUMMARY = """
WITH daily AS (
    SELECT client_id, CAST(date AS DATE) AS d,
           SUM(CAST(round(amount * 100) AS BIGINT)) AS cents
    FROM tx
    WHERE CAST(date AS DATE) <= $as_of
    GROUP BY ALL
),
buy AS (
    SELECT client_id, d, d - LAG(d) OVER (PARTITION BY client_id ORDER BY d) AS gap
    FROM daily
    WHERE cents > 0
),
monthly AS (
    SELECT client_id, date_trunc('month', d) AS m, SUM(cents) AS cents
    FROM daily
    WHERE d >= $window_start
    GROUP BY ALL
),
per_client AS (
    SELECT client_id,
           SUM(cents) AS revenue_cents,
           SUM(cents::DOUBLE * cents::DOUBLE) AS square_sum
    FROM monthly
    GROUP BY ALL
),
buys AS (
    SELECT client_id,
           COUNT(*) FILTER (WHERE d >= $window_start) AS purchases,
           COUNT(DISTINCT date_trunc('month', d)) FILTER (WHERE d >= $window_start)
               AS active_months,
           MIN(d) AS first_purchase,
           MAX(d) AS last_purchase,
           COUNT(*) AS purchase_days,
           MEDIAN(gap) AS median_gap,
           COUNT(gap) AS n_gaps
    FROM buy
    GROUP BY ALL
)
SELECT c.client_id,
       round(coalesce(p.revenue_cents, 0) / 100.0, 2) AS revenue,
       coalesce(b.purchases, 0) AS purchases,
       coalesce(b.active_months, 0) AS active_months,
       CASE WHEN b.purchases > 0 AND p.revenue_cents > 0 THEN
           sqrt(greatest(p.square_sum / $months
                - (p.revenue_cents / $months) ^ 2, 0)) / (p.revenue_cents / $months)
       END AS revenue_cv,
       b.first_purchase,
       b.last_purchase,
       coalesce(b.purchase_days, 0) AS purchase_days,
       $as_of - b.last_purchase AS days_since_last_purchase,
       CASE WHEN b.n_gaps >= 2 THEN b.median_gap ELSE $default_cycle END AS deal_cycle_days,
       b.purchase_days - 1 AS x,
       (b.last_purchase - b.first_purchase) / 7.0 AS t_x,
       ($as_of - b.first_purchase) / 7.0 AS "T"
FROM (SELECT DISTINCT client_id FROM daily) AS c
LEFT JOIN per_client AS p USING (client_id)
LEFT JOIN buys AS b USING (client_id)
ORDER BY c.client_id
"""


def duckdb_summary(transactions: pd.DataFrame, settings: SegmentationSettings) -> pd.DataFrame:
    """The per-client aggregation of :func:`client_summary` as one DuckDB query."""
    import duckdb

    month = AS_OF.replace(day=1)
    first = pd.Period(month, freq="M") - (settings.window_months - 1)
    con = duckdb.connect()
    try:
        con.execute(f"SET threads TO {os.cpu_count() or 1}")
        con.register("tx", transactions[["client_id", "date", "amount"]])
        return con.execute(
            DUCKDB_SUMMARY,
            {
                "as_of": AS_OF,
                "window_start": first.start_time.date(),
                "months": float(settings.window_months),
                "default_cycle": float(settings.default_deal_cycle_days),
            },
        ).df()
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=20_000_000)
    parser.add_argument("--skip-duckdb", action="store_true")
    args = parser.parse_args(argv)

    settings = SegmentationSettings()
    times: dict[str, float] = {}
    print(
        f"{args.clients:,} clients, {args.transactions:,} transactions, "
        f"as of {AS_OF}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    # A fixed reference operation: compare runs on a shared, busy machine.
    reference = np.random.default_rng(0).integers(0, 2**60, 20_000_000)
    start = time.perf_counter()
    np.sort(reference)
    print(f"calibration: np.sort of 20M int64 took {time.perf_counter() - start:.2f} s")
    del reference
    with stage("generate synthetic data", times):
        data = synthetic_data(args.clients, args.transactions)
    tx = data["transactions"]

    with stage("client_summary", times):
        summary = client_summary(tx, AS_OF, settings)
    with stage("fit_bgnbd", times):
        model = fit_bgnbd(summary)
    print(f"  model: {model.to_json_dict()}")
    with stage("fit_gamma_gamma", times):
        spend = fit_gamma_gamma(summary)
    print(f"  spend: {spend.to_json_dict()}")
    del summary

    results: dict[str, Any] = {}

    def run(name: str, func: Callable[[], Any]) -> None:
        with stage(name, times):
            results[name] = func()

    run(
        "analyze_clients (full, incl. fit)",
        lambda: analyze_clients(
            tx, AS_OF, settings, clients=data["clients"], interactions=data["interactions"]
        ),
    )
    analysis = results["analyze_clients (full, incl. fit)"]
    run(
        "segment_matrix + status_counts",
        lambda: (segment_matrix(analysis), status_counts(analysis)),
    )
    run("at_risk_list", lambda: at_risk_list(analysis, settings))
    run("cross_sell", lambda: cross_sell(tx, AS_OF, settings.cross_sell_max_suggestions))
    run(
        "backtest (last quarter as holdout)",
        lambda: backtest(tx, AS_OF - dt.timedelta(days=91), AS_OF),
    )
    run(
        "monthly_accounting (200 managers)",
        lambda: monthly_accounting(tx, AS_OF, settings, owners=data["owners"]),
    )
    print(
        f"  clients analysed: {len(analysis.clients):,}; at risk: {len(results['at_risk_list']):,}"
    )
    print(f"  cross-sell rows: {len(results['cross_sell']):,}")
    checked = results["backtest (last quarter as holdout)"]
    print(
        f"  backtest: predicted {checked.predicted_total:,.0f} purchases in the last quarter, "
        f"actual {checked.actual_total:,}"
    )
    print(segment_matrix(analysis)["clients"].to_string())
    results.clear()

    if not args.skip_duckdb:
        with stage("duckdb per-client aggregation", times):
            duck = duckdb_summary(tx, settings)
        print(f"  duckdb rows: {len(duck):,}")
        ratio = times["client_summary"] / times["duckdb per-client aggregation"]
        print(f"pandas/duckdb time ratio for the per-client aggregation: {ratio:.2f}")

    print(
        f"whole analysis (analyze_clients): {times['analyze_clients (full, incl. fit)']:.2f} s; "
        f"BG/NBD fit: {times['fit_bgnbd']:.2f} s; process peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
