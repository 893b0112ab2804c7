"""The `crmbot` command line: one subcommand per module in this package."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.cli import (
    analyze,
    backtest,
    demo,
    demo_data,
    export,
    importing,
    migrate,
    run,
    sandbox,
    segment,
    users,
    webhook_secret,
)

COMMAND_MODULES = (
    migrate,
    importing,
    export,
    demo_data,
    demo,
    run,
    webhook_secret,
    sandbox,
    analyze,
    backtest,
    segment,
    users,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmbot",
        description="CRM assistant for sales managers in Telegram.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
