"""The `crmbot` command line: one subcommand per module in this package."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib import import_module

# Each subcommand's module, by command name. Only the module of the command being run is
# imported (a command that needs neither aiogram nor pandas does not wait for them);
# `crmbot --help` imports them all to list them.
COMMAND_MODULES = {
    "migrate": "bot.cli.migrate",
    "import": "bot.cli.importing",
    "export": "bot.cli.export",
    "demo-data": "bot.cli.demo_data",
    "demo": "bot.cli.demo",
    "run": "bot.cli.run",
    "webhook-secret": "bot.cli.webhook_secret",
    "sandbox": "bot.cli.sandbox",
    "analyze": "bot.cli.analyze",
    "backtest": "bot.cli.backtest",
    "segment": "bot.cli.segment",
    "users": "bot.cli.users",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `command` alone when it is a known command, else of them all."""
    names = [command] if command in COMMAND_MODULES else list(COMMAND_MODULES)
    parser = argparse.ArgumentParser(
        prog="crmbot",
        description="CRM assistant for sales managers in Telegram.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in names:
        import_module(COMMAND_MODULES[name]).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in arguments if not a.startswith("-")), None)
    args = build_parser(command).parse_args(arguments)
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
