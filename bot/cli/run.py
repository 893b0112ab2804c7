"""`crmbot run`: the bot for real Telegram (or a self-hosted Bot API server)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from bot.app import Application, create_application
from bot.cli.common import EXIT_OK, EXIT_USAGE, CommandError, SubParsers, run_command
from bot.config import Settings
from services.db.schema import SchemaNotReady

log = logging.getLogger(__name__)


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run the bot against Telegram (needs BOT_TOKEN; TELEGRAM_API_BASE optional)"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    return run_command(run)


async def wait_for_stop_signal() -> None:
    """Return on Ctrl+C or SIGTERM, so everything can be closed in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def serve(app: Application) -> None:
    """Poll until a stop signal, then shut down cleanly."""
    await app.start_polling()
    try:
        await wait_for_stop_signal()
        log.info("stopping...")
    finally:
        await app.close()


async def open_application(settings: Settings, token: str, api_base: str | None) -> Application:
    try:
        return await create_application(settings, token=token, api_base=api_base, scheduler=True)
    except SchemaNotReady as error:
        raise CommandError(str(error), EXIT_USAGE) from error


async def run(settings: Settings) -> int:
    token = settings.telegram.token()
    if token is None:
        raise CommandError(
            "BOT_TOKEN is not set. Put the token from @BotFather into .env "
            "(see .env.example), or try the bot without Telegram: `make demo`.",
            EXIT_USAGE,
        )
    app = await open_application(settings, token, None)
    await serve(app)
    return EXIT_OK
