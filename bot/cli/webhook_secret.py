"""`crmbot webhook-secret`: a fresh random value for WEBHOOK_SECRET."""

from __future__ import annotations

import argparse
import secrets
import sys

from bot.cli.common import EXIT_OK, SubParsers

SECRET_BYTES = 48  # 64 characters of A-Z a-z 0-9 _ -, what Telegram allows (up to 256)


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "webhook-secret", help="print a new random WEBHOOK_SECRET for webhook mode"
    )
    parser.set_defaults(handler=handle)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def handle(args: argparse.Namespace) -> int:
    print(new_secret())
    print(
        "Put it into .env as WEBHOOK_SECRET=... (the same value on every replica).",
        file=sys.stderr,
    )
    return EXIT_OK
