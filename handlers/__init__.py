"""The bot's routers, in the order they are tried: specific first, catch-alls last."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    access,
    admin,
    calls,
    card_freshness,
    clients,
    common,
    digest,
    errors,
    exporting,
    fallback,
    imports,
    lists,
    menu,
    records,
    search,
    settings,
)


def build_routers() -> list[Router]:
    """Fresh routers for one Dispatcher (a Router can be attached only once)."""
    return [
        errors.create_router(),
        access.create_router(),  # strangers and invite links: before anything else
        common.create_router(),
        menu.create_router(),  # the reply keyboard's buttons work like commands, in any step
        imports.create_router(),  # a file sent in any step is an import
        settings.create_router(),  # after /cancel and /start: a command ends a settings question
        card_freshness.create_router(),  # an outdated card's button refreshes it first
        records.create_router(),  # adding and editing clients, notes; a command ends them
        admin.create_router(),
        calls.create_router(),  # call logging steps, incl. free-text comments in that state
        clients.create_router(),
        lists.create_router(),
        digest.create_router(),
        exporting.create_router(),
        search.create_router(),  # plain text = client search: last
        fallback.create_router(),  # unknown commands, stray files, outdated buttons
    ]
