"""`crmbot demo-data`: load the demo base (users, clients, sales, logged calls)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from bot.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    SubParsers,
    company_today,
    open_database,
    run_command,
)
from bot.config import Settings
from demo_data import (
    DEFAULT_CLIENTS,
    DEFAULT_SEED,
    DEMO_USERS,
    DemoSummary,
    load_demo_base,
)
from demo_data.generator import CHUNK_CLIENTS
from services.errors import DemoDataConflict


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "demo-data",
        help="load a realistic demo base (users, clients, 3 years of sales, logged calls)",
        description=(
            "Generate a reproducible Russian B2B demo base and load it. Does nothing "
            "when the demo base is already there, unless --reset."
        ),
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument(
        "--clients", type=int, default=DEFAULT_CLIENTS, help=f"clients (default {DEFAULT_CLIENTS})"
    )
    parser.add_argument(
        "--as-of",
        type=_parse_date,
        help="the date the history ends on, YYYY-MM-DD (default: today in DEFAULT_TIMEZONE)",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete an earlier demo base (its clients, sales, calls and users) and reload",
    )
    parser.set_defaults(handler=handle)


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from None


def handle(args: argparse.Namespace) -> int:
    return run_command(lambda settings: demo_data(settings, args))


async def demo_data(settings: Settings, args: argparse.Namespace) -> int:
    if args.clients < 1:
        raise CommandError("--clients must be at least 1", EXIT_USAGE)
    if args.seed < 0:
        raise CommandError("--seed must not be negative", EXIT_USAGE)
    as_of = args.as_of or company_today(settings)
    started = time.perf_counter()
    async with open_database(settings) as database:
        try:
            result = await load_demo_base(
                database.uow_factory(),
                as_of=as_of,
                seed=args.seed,
                clients=args.clients,
                reset=args.reset,
                progress=_progress if args.clients > CHUNK_CLIENTS else None,
            )
        except DemoDataConflict as error:
            raise CommandError(str(error)) from error
    elapsed = time.perf_counter() - started
    if not result.loaded:
        print("The demo base is already loaded; nothing changed (--reset reloads it).")
    else:
        action = "reloaded" if result.wiped else "loaded"
        print(f"Demo base {action} in {elapsed:.1f} s (seed {args.seed}, as of {as_of}).")
    print(format_summary(result.summary))
    print(format_demo_users())
    return EXIT_OK


def _progress(done: int, total: int) -> None:
    print(f"  {done:,} / {total:,} clients written", file=sys.stderr, flush=True)


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def format_summary(summary: DemoSummary) -> str:
    """The demo base in a few lines, for `crmbot demo-data` and `crmbot demo`."""
    roles = summary.users_by_role
    period = (
        f", {summary.first_date} … {summary.last_date}"
        if summary.first_date and summary.last_date
        else ""
    )
    follow_ups = ""
    if summary.follow_ups_overdue is not None and summary.follow_ups_planned is not None:
        follow_ups = (
            f" (next contacts: {_count(summary.follow_ups_overdue)} overdue, "
            f"{_count(summary.follow_ups_planned)} planned)"
        )
    revenue = f"{summary.revenue_total:,.2f}".replace(",", " ")
    return "\n".join(
        [
            f"  users:        {roles.get('admin', 0)} admin, {roles.get('head', 0)} head, "
            f"{roles.get('manager', 0)} managers",
            f"  clients:      {_count(summary.clients)} ({_count(summary.vip_clients)} VIP)",
            f"  transactions: {_count(summary.transactions)} "
            f"({_count(summary.returns)} returns){period}",
            f"  revenue:      {revenue} RUB (net of returns)",
            f"  interactions: {_count(summary.interactions)}{follow_ups}",
        ]
    )


def format_demo_users() -> str:
    who = ", ".join(f"{u.telegram_id} {u.display_name} ({u.role.value})" for u in DEMO_USERS)
    return f"  demo users (Telegram id): {who}"
