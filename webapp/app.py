"""The dashboard as an aiohttp application: the page, its static files and the JSON API.

An entry point like `handlers/`: each route parses the request, calls one service and
answers JSON (`webapp.serialize`). The composition root builds it with
`create_dashboard_app` and either serves it on its own port or mounts it on the webhook
server (`parent.add_subapp("/webapp/", app)`); every URL the page uses is relative, so
any prefix works as long as the page's own URL ends with "/".

Every `/api/...` request carries `Authorization: tma <initData>` (`webapp.auth`):
401 when it is missing, forged or stale, 403 for anyone but an active head or admin.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiohttp import web

from services.access import CompanyPolicy, Viewer
from services.clients import get_card
from services.clock import Clock
from services.dashboard import (
    DASHBOARD_ROLES,
    load_matrix,
    segment_clients,
    team_kpis,
    trends,
    value_at_risk,
)
from services.errors import AccessDenied, ClientNotFound, DomainError, InvalidValue
from services.languages import normalize_language
from services.uow import UnitOfWorkFactory
from services.users import UserDTO, find_active_user
from ui.i18n import Translator
from ui.keyboards.clients import card_keyboard
from ui.texts.card import card_text
from ui.texts.webapp import page_texts
from webapp import serialize
from webapp.auth import InitDataError, init_data_from_header, validate_init_data

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_AUTH_MAX_AGE = timedelta(hours=24)
REPEAT_WINDOW_SECONDS = 5.0  # the same card asked for again within this is not sent twice
_API = "api:"  # prefix of the API routes' names: the ones behind authentication

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class DashboardConfig:
    """What the dashboard needs from the settings."""

    bot_token: str
    company: CompanyPolicy
    auth_max_age: timedelta = DEFAULT_AUTH_MAX_AGE


@dataclass
class Dashboard:
    """The long-lived parts every route uses."""

    uow_factory: UnitOfWorkFactory
    bot: Bot
    config: DashboardConfig
    clock: Clock
    _sent: dict[tuple[int, int], float] = field(default_factory=dict)

    def repeated(self, telegram_id: int, client_id: int) -> bool:
        """True when this card was sent to this person a moment ago (a double tap)."""
        now = time.monotonic()
        for key, moment in list(self._sent.items()):
            if now - moment > REPEAT_WINDOW_SECONDS:
                del self._sent[key]
        if (telegram_id, client_id) in self._sent:
            return True
        self._sent[(telegram_id, client_id)] = now
        return False

    def forget(self, telegram_id: int, client_id: int) -> None:
        """The card did not go out: the next tap may try again at once."""
        self._sent.pop((telegram_id, client_id), None)


DASHBOARD = web.AppKey("dashboard", Dashboard)
USER = web.RequestKey("dashboard.user", UserDTO)
VIEWER = web.RequestKey("dashboard.viewer", Viewer)
TRANSLATOR = web.RequestKey("dashboard.tr", Translator)
CHAT_ID = web.RequestKey("dashboard.chat_id", int)  # the person's private chat with the bot


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure of the API as `{"error": code, "message": text}` with its status."""
    try:
        return await handler(request)
    except InitDataError as error:
        return _error(401, error.code, error.message)
    except AccessDenied as error:
        return _error(403, error.code, str(error))
    except ClientNotFound as error:
        return _error(404, error.code, str(error))
    except InvalidValue as error:
        return _error(400, error.code, str(error))
    except DomainError as error:
        return _error(409, error.code, str(error))
    except web.HTTPException as error:
        if "/api/" not in request.path or error.status < 400:
            raise
        return _error(error.status, "http_error", error.reason)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("dashboard error %s on %s %s", error_id, request.method, request.path)
        return _error(500, "unexpected", f"unexpected error, id {error_id}")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API routes: the person behind `initData`, who must be an active head or admin."""
    name = request.match_info.route.name or ""
    if not name.startswith(_API):
        return await handler(request)
    dashboard = request.app[DASHBOARD]
    identity = validate_init_data(
        init_data_from_header(request.headers.get("Authorization")),
        dashboard.config.bot_token,
        now=dashboard.clock.now(),
        max_age=dashboard.config.auth_max_age,
    )
    user = await find_active_user(dashboard.uow_factory(), identity.telegram_id)
    if user is None or user.role not in DASHBOARD_ROLES:
        raise AccessDenied("dashboard")
    company = dashboard.config.company
    language = user.language or normalize_language(identity.language_code, company.default_language)
    request[USER] = user
    request[CHAT_ID] = identity.telegram_id
    request[TRANSLATOR] = Translator(language)
    request[VIEWER] = company.viewer(
        user_id=user.id,
        role=user.role,
        display_name=user.display_name,
        timezone=user.timezone,
        language=language,
    )
    return await handler(request)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if "/api/" in request.path:
        response.headers.setdefault("Cache-Control", "no-store")
    else:
        # Telegram shows the page in a web view or an iframe of its web client
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'",
        )
        response.headers.setdefault("Cache-Control", "no-cache")
    return response


# --- query parameters --------------------------------------------------------------------


def _int_param(request: web.Request, name: str, *, low: int, high: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    text = raw.strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
        raise InvalidValue(name, raw, "expected a whole number")
    value = int(text)
    if value < low or (high is not None and value > high):
        limits = f"from {low}" + (f" to {high}" if high is not None else "")
        raise InvalidValue(name, raw, f"expected a number {limits}")
    return value


def _owner(request: web.Request) -> int | None:
    return _int_param(request, "manager", low=1)


def _page(request: web.Request) -> int:
    return _int_param(request, "page", low=0, high=100_000) or 0


def _viewer(request: web.Request) -> Viewer:
    return request[VIEWER]


# --- routes ----------------------------------------------------------------------------------


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def texts(request: web.Request) -> web.Response:
    """The page's texts before sign-in (for its error messages): `?lang=` or the default."""
    company = request.app[DASHBOARD].config.company
    tr = Translator(normalize_language(request.query.get("lang"), company.default_language))
    return web.json_response({"language": tr.language, "texts": page_texts(tr)})


async def me(request: web.Request) -> web.Response:
    """Who is looking, in which language, and the page's texts."""
    user, tr = request[USER], request[TRANSLATOR]
    return web.json_response(
        {
            "user": {
                "id": user.id,
                "telegram_id": user.telegram_id,
                "name": user.display_name,
                "role": user.role.value,
                "language": tr.language,
            },
            "texts": page_texts(tr),
        }
    )


async def matrix(request: web.Request) -> web.Response:
    dashboard = request.app[DASHBOARD]
    result = await load_matrix(dashboard.uow_factory(), _viewer(request), _owner(request))
    return web.json_response(serialize.matrix(result))


async def matrix_cell(request: web.Request) -> web.Response:
    dashboard = request.app[DASHBOARD]
    result = await segment_clients(
        dashboard.uow_factory(),
        _viewer(request),
        request.match_info["segment"],
        owner_id=_owner(request),
        page=_page(request),
    )
    return web.json_response(serialize.clients_page(result))


async def managers(request: web.Request) -> web.Response:
    dashboard = request.app[DASHBOARD]
    result = await team_kpis(dashboard.uow_factory(), _viewer(request), dashboard.clock.now())
    return web.json_response(serialize.team(result))


async def trend(request: web.Request) -> web.Response:
    dashboard = request.app[DASHBOARD]
    viewer = _viewer(request)
    result = await trends(
        dashboard.uow_factory(),
        viewer,
        viewer.local_today(dashboard.clock.now()),
        owner_id=_owner(request),
        months=_int_param(request, "months", low=1, high=13) or 12,
    )
    return web.json_response(serialize.trends(result))


async def risk(request: web.Request) -> web.Response:
    dashboard = request.app[DASHBOARD]
    result = await value_at_risk(
        dashboard.uow_factory(), _viewer(request), owner_id=_owner(request), page=_page(request)
    )
    return web.json_response(serialize.risk(result))


async def open_card(request: web.Request) -> web.Response:
    """The bot sends the client's card to the person's chat (the page then closes)."""
    dashboard = request.app[DASHBOARD]
    viewer, chat_id, tr = _viewer(request), request[CHAT_ID], request[TRANSLATOR]
    raw = request.match_info["client_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidValue("client", raw, "expected a client id")
    card = await get_card(dashboard.uow_factory(), viewer, int(raw), dashboard.clock.now())
    if dashboard.repeated(chat_id, card.client_id):
        return web.json_response({"sent": True, "repeated": True, "client_id": card.client_id})
    try:
        await dashboard.bot.send_message(
            chat_id,
            card_text(card, tr, viewer.zone),
            reply_markup=card_keyboard(card, tr),
        )
    except TelegramForbiddenError:
        dashboard.forget(chat_id, card.client_id)
        return _error(409, "chat_unavailable", "the bot cannot write to this chat")
    except TelegramAPIError as error:
        dashboard.forget(chat_id, card.client_id)
        log.warning("could not send card %s to %s: %s", card.client_id, chat_id, error)
        return _error(502, "telegram_error", "Telegram did not take the message; try again")
    return web.json_response({"sent": True, "repeated": False, "client_id": card.client_id})


def create_dashboard_app(
    *, uow_factory: UnitOfWorkFactory, bot: Bot, config: DashboardConfig, clock: Clock
) -> web.Application:
    """The dashboard (page + API); mount it anywhere, or serve it as it is."""
    app = web.Application(middlewares=[headers_middleware, errors_middleware, auth_middleware])
    app[DASHBOARD] = Dashboard(uow_factory, bot, config, clock)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR)
    app.router.add_get("/texts", texts)
    app.router.add_get("/api/me", me, name=f"{_API}me")
    app.router.add_get("/api/matrix", matrix, name=f"{_API}matrix")
    app.router.add_get("/api/matrix/{segment}", matrix_cell, name=f"{_API}matrix-cell")
    app.router.add_get("/api/managers", managers, name=f"{_API}managers")
    app.router.add_get("/api/trends", trend, name=f"{_API}trends")
    app.router.add_get("/api/risk", risk, name=f"{_API}risk")
    app.router.add_post("/api/clients/{client_id}/open", open_card, name=f"{_API}open-card")
    return app
