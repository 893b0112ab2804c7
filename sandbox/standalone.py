"""The sandbox as a process of its own: ``crmbot sandbox`` and ``python -m sandbox``.

Both read the same options, so the two commands cannot drift apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandbox.config import LimitsConfig, SandboxConfig
from sandbox.server import Sandbox

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081


class OptionsError(ValueError):
    """An option (or the identities file) cannot be used; the message says why, in one line."""


def add_arguments(
    parser: argparse.ArgumentParser,
    *,
    host_default: str = f"{DEFAULT_HOST}",
    port_default: str = f"{DEFAULT_PORT}",
) -> None:
    """The options; ``*_default`` only describe the defaults, which callers fill in."""
    parser.add_argument("--host", help=f"address to bind (default {host_default})")
    parser.add_argument(
        "--port", type=int, help=f"port, 0 for any free one (default {port_default})"
    )
    parser.add_argument("--bot-username", default=SandboxConfig.bot_username)
    parser.add_argument("--no-limits", action="store_true", help="switch off Telegram's limits")
    parser.add_argument(
        "--identities",
        type=Path,
        metavar="FILE.json",
        help='people the web chat offers: [{"id": 101, "first_name": "Ann", "role": "manager"}]',
    )


def load_identities(path: Path) -> list[dict[str, Any]]:
    """Read and check an identities file: a JSON list of people with a positive integer id."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise OptionsError(f"{path}: {error.strerror or error}") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise OptionsError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(raw, list):
        raise OptionsError(f"{path}: expected a JSON list of people")
    people: list[dict[str, Any]] = []
    seen: set[int] = set()
    for number, person in enumerate(raw, start=1):
        if not isinstance(person, dict):
            raise OptionsError(f"{path}: entry {number} is not an object")
        user_id = person.get("id")
        if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
            raise OptionsError(f"{path}: entry {number} needs a positive integer id")
        if user_id in seen:
            raise OptionsError(f"{path}: id {user_id} appears twice")
        seen.add(user_id)
        for key in ("first_name", "last_name", "username", "role", "language_code"):
            if key in person and not isinstance(person[key], str):
                raise OptionsError(f"{path}: entry {number}: {key} must be a string")
        people.append(dict(person))
    return people


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    host = DEFAULT_HOST if args.host is None else args.host
    port = DEFAULT_PORT if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise OptionsError(f"--port must be between 0 and 65535, not {port}")
    identities = load_identities(args.identities) if args.identities else ()
    return SandboxConfig(
        host=host,
        port=port,
        bot_username=args.bot_username,
        limits=LimitsConfig(enabled=not args.no_limits),
        identities=identities,
        access_log=True,
    )


async def serve(config: SandboxConfig) -> None:
    """Run the sandbox until Ctrl+C or SIGTERM, then stop it cleanly."""
    sandbox = Sandbox(config)
    await sandbox.start()
    try:
        base = sandbox.base_url
        print(f"Bot API sandbox: {base}  (point the bot at it: TELEGRAM_API_BASE={base})")
        print(f"Web chat: {base}/   Control API: {base}/sandbox/info")
        print("Press Ctrl+C to stop.", flush=True)
        await _wait_for_stop_signal()
        logger.info("stopping...")
    finally:
        await sandbox.stop()


async def _wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:
    """Build the config from parsed options and serve; a bad option is one line on stderr."""
    try:
        config = config_from_args(args)
    except OptionsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(config))
    except OSError as error:  # e.g. the port is taken
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Local Telegram Bot API sandbox"
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return run(args)
