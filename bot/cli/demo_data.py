"""`crmbot demo_data` (being built)."""

from __future__ import annotations

import argparse

from bot.cli.common import EXIT_FAILED, SubParsers


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("demo-data", help="(not available yet)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print("not available yet")
    return EXIT_FAILED
