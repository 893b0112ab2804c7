"""`crmbot demo`: the whole product on this machine, with no Telegram and no token.

Migrates the local database, loads the demo base, computes the segments, starts the
local Bot API sandbox and the real bot against it, and serves the web chat.
"""

from __future__ import annotations

import argparse
import socket
from typing import Any

from bot.app import create_application
from bot.cli.common import (
    EXIT_OK,
    CommandError,
    SubParsers,
    company_today,
    open_database,
    run_command,
)
from bot.cli.demo_data import format_summary
from bot.cli.run import one_process_per_sqlite_file, serve
from bot.config import Settings
from demo_data import load_demo_base
from sandbox import Sandbox, SandboxConfig
from services.db.schema import upgrade
from services.segmentation import recompute_segments
from services.uow import UnitOfWorkFactory
from services.users import list_users

SANDBOX_TOKEN = "100000001:local-sandbox-token"  # any well-formed token works in the sandbox
ROLE_ORDER = {"head": 0, "manager": 1, "admin": 2}


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="run everything locally: demo base, Bot API sandbox, bot, web chat"
    )
    parser.add_argument("--port", type=int, help="web chat port (default SANDBOX_PORT, 8080)")
    parser.add_argument("--host", help="address to bind (default SANDBOX_HOST, 127.0.0.1)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    return run_command(lambda settings: demo(settings, args))


def dashboard_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket for the dashboard (port 0: any free one)."""
    try:
        sock = socket.create_server((host, port), reuse_port=False)
    except OSError as error:
        raise CommandError(f"cannot serve the dashboard on {host}:{port}: {error}") from error
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def identities_provider(uow_factory: UnitOfWorkFactory) -> Any:
    """Whom the web chat offers: the head of sales first, then managers, then admins."""

    async def identities() -> list[dict[str, Any]]:
        users = await list_users(uow_factory(), include_inactive=False)
        listed = sorted(
            (u for u in users if u.telegram_id is not None),
            key=lambda u: (ROLE_ORDER.get(u.role.value, 9), u.display_name),
        )
        return [
            {
                "id": u.telegram_id,
                "first_name": u.display_name,
                "role": u.role.value,
                "language_code": u.language or "ru",
            }
            for u in listed
        ]

    return identities


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    with one_process_per_sqlite_file(settings):
        return await _demo(settings, args)


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    today = company_today(settings)
    async with open_database(settings, require_schema=False) as database:
        await upgrade(database.engine)
        print(f"Database ready: {database.engine.url.render_as_string(hide_password=True)}")
        loaded = await load_demo_base(database.uow_factory(), as_of=today)
        print("Demo base loaded:" if loaded.loaded else "Demo base already present:")
        print(format_summary(loaded.summary))
        outcome = await recompute_segments(
            database.uow_factory(), today, timezone=settings.company.default_timezone
        )
        print(f"Segments computed as of {outcome.as_of} for {outcome.clients} clients.")

        sandbox = Sandbox(
            SandboxConfig(
                host=args.host or settings.sandbox.host,
                port=args.port if args.port is not None else settings.sandbox.port,
                identities=identities_provider(database.uow_factory),
            )
        )
        await sandbox.start()
        try:
            # the dashboard's port is bound first: the bot's buttons need its address
            dashboard = dashboard_socket(sandbox.config.host, settings.webapp.port or 0)
            dashboard_url = f"http://{_url_host(sandbox.config.host)}:{dashboard.getsockname()[1]}/"
            app = await create_application(
                settings,
                token=SANDBOX_TOKEN,
                api_base=sandbox.base_url,
                scheduler=True,
                dashboard_url=dashboard_url,
            )
            await app.serve_dashboard(sock=dashboard)
            print()
            print(f"Web chat: {sandbox.base_url}/  (pick who you are, then type /start)")
            print(
                f"Dashboard: {dashboard_url}  (opens from the head's menu button in the web chat)"
            )
            print("Press Ctrl+C to stop.")
            await serve(app)
        finally:
            await sandbox.stop()
    print("Stopped.")
    return EXIT_OK
