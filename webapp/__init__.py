"""The head of sales' dashboard as a Telegram Mini App: the page and its JSON API.

An entry point beside `handlers/` and `scheduler/`: it calls the same services and never
imports `handlers`, `scheduler` or `bot`; the composition root passes it what it needs.
"""

from webapp.app import DEFAULT_AUTH_MAX_AGE, DashboardConfig, create_dashboard_app
from webapp.auth import InitDataError, TelegramIdentity, validate_init_data

__all__ = [
    "DEFAULT_AUTH_MAX_AGE",
    "DashboardConfig",
    "InitDataError",
    "TelegramIdentity",
    "create_dashboard_app",
    "validate_init_data",
]
