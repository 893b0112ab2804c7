"""`crmbot run`: the bot for real Telegram (or a self-hosted Bot API server).

Long polling by default; webhook mode when `WEBHOOK_URL` is set. The process either
serves or exits non-zero: see `bot/runtime/serve.py` for how it starts, waits out
outages and stops.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.app import Application, create_application
from bot.cli.common import EXIT_OK, EXIT_USAGE, CommandError, SubParsers, run_command
from bot.config import Settings
from bot.runtime.backoff import GaveUp
from bot.runtime.http import Mount
from bot.runtime.instance import AlreadyRunning, single_instance
from bot.runtime.polling import BotApiRejected
from bot.runtime.serve import BotRuntime, run_until_signal
from services.db.schema import SchemaNotReady

log = logging.getLogger(__name__)

DASHBOARD_PREFIX = "/webapp"  # WEBAPP_URL is then https://<host>/webapp/


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the bot against Telegram (needs BOT_TOKEN); webhook mode when WEBHOOK_URL is set",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    return run_command(run)


@contextlib.contextmanager
def one_process_per_sqlite_file(settings: Settings) -> Iterator[None]:
    """SQLite serves one bot process: refuse to start a second one on the same file."""
    path = settings.database.sqlite_path()
    if path is None or str(path) in ("", ":memory:"):
        yield
        return
    try:
        with single_instance(Path(path)):
            yield
    except AlreadyRunning as error:
        raise CommandError(str(error), EXIT_USAGE) from error


async def serve(app: Application, mounts: Sequence[Mount] = ()) -> int:
    """Serve until SIGTERM/SIGINT (0); a failure it cannot outwait is one line and non-zero.

    `mounts` are `(prefix, aiohttp.web.Application)` pairs served beside the webhook and
    the health endpoints (e.g. a Mini App).
    """
    try:
        await run_until_signal(BotRuntime(app, mounts=mounts))
    except GaveUp as error:
        log.error("%s", error)
        raise CommandError(f"{error}. Exiting so that the supervisor restarts the bot.") from error
    except BotApiRejected as error:
        log.error("%s", error)
        raise CommandError(str(error), EXIT_USAGE) from error
    except SchemaNotReady as error:
        raise CommandError(str(error), EXIT_USAGE) from error
    except Exception as error:
        log.exception("the bot stopped on an unexpected error")
        raise CommandError(f"the bot stopped: {type(error).__name__}: {error}") from error
    return EXIT_OK


def dashboard_mounts(app: Application) -> list[Mount]:
    """In webhook mode the dashboard is served beside the webhook, under `DASHBOARD_PREFIX`."""
    if not app.settings.webhook.enabled:
        return []
    return [(DASHBOARD_PREFIX, app.build_dashboard())]


async def serve_dashboard_port(app: Application) -> None:
    """In polling mode, `WEBAPP_PORT` serves the dashboard from this process."""
    webapp = app.settings.webapp
    if webapp.port is None or app.settings.webhook.enabled:
        return
    if app.dashboard_url is None:
        log.warning("WEBAPP_PORT is set but WEBAPP_URL is not: nobody is shown the dashboard")
    try:
        await app.serve_dashboard(host=webapp.host, port=webapp.port)
    except OSError as error:
        await app.close()
        raise CommandError(
            f"cannot serve the dashboard on {webapp.host}:{webapp.port}: {error}"
        ) from error


async def run(settings: Settings) -> int:
    token = settings.telegram.token()
    if token is None:
        raise CommandError(
            "BOT_TOKEN is not set. Put the token from @BotFather into .env "
            "(see .env.example), or try the bot without Telegram: `make demo`.",
            EXIT_USAGE,
        )
    problems = settings.webhook.problems()
    if problems:
        raise CommandError("; ".join(problems), EXIT_USAGE)
    with one_process_per_sqlite_file(settings):
        try:
            app = await create_application(
                settings, token=token, scheduler=True, check_schema=False
            )
        except ValueError as error:  # a setting that cannot work, e.g. WEBAPP_URL over http
            raise CommandError(str(error), EXIT_USAGE) from error
        await serve_dashboard_port(app)
        return await serve(app, dashboard_mounts(app))
