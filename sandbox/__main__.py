"""``python -m sandbox``: run the sandbox alone, e.g. to try the web chat."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from sandbox.config import LimitsConfig, SandboxConfig
from sandbox.server import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Telegram Bot API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default=SandboxConfig.bot_username)
    parser.add_argument("--no-limits", action="store_true", help="switch off Telegram's limits")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        bot_username=args.bot_username,
        limits=LimitsConfig(enabled=not args.no_limits),
    )
    print(f"Bot API: http://{args.host}:{args.port}  web chat: http://{args.host}:{args.port}/")
    web.run_app(create_app(config), host=args.host, port=args.port, handler_cancellation=True)


if __name__ == "__main__":
    main()
