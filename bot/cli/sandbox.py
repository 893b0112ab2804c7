"""`crmbot sandbox`: the local Bot API sandbox alone (web chat, control API, no bot).

Point a bot at it with `TELEGRAM_API_BASE`; people and tests play the other side.
"""

from __future__ import annotations

import argparse

from bot.cli.common import SubParsers
from bot.config import load_settings
from sandbox.standalone import add_arguments, run


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "sandbox", help="run the local Bot API sandbox alone (web chat and control API)"
    )
    add_arguments(parser, host_default="SANDBOX_HOST, 127.0.0.1", port_default="SANDBOX_PORT, 8080")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    # The defaults come from SANDBOX_HOST / SANDBOX_PORT, like `crmbot demo`.
    if args.host is None or args.port is None:
        settings = load_settings().sandbox
        args.host = settings.host if args.host is None else args.host
        args.port = settings.port if args.port is None else args.port
    return run(args)
