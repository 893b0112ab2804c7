"""The dashboard's JSON API over real HTTP, as the bot process serves it (both backends).

The figures are those of `tests.integration.services.dashboard_seed`, computed by hand;
`initData` is signed as a Telegram client signs it (`tests.init_data`). Cards go out
through the local Bot API sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.app import Application, create_application
from sandbox import LimitsConfig, Sandbox, SandboxConfig
from services.clock import FixedClock
from services.db.engine import make_engine, make_session_factory
from services.uow import UnitOfWorkFactory
from tests.e2e.bot_harness import make_settings
from tests.e2e.sandbox_harness import SandboxClient
from tests.init_data import sign_init_data, telegram_user
from tests.integration.services.dashboard_seed import (
    ADMIN_TG,
    ANNA_TG,
    GONE_TG,
    HEAD_TG,
    NOW,
    DashboardBase,
    seed_dashboard_base,
)

TOKEN = "123456:TEST-dashboard"
IDENTITIES = [
    {"id": HEAD_TG, "first_name": "Ольга", "role": "head", "language_code": "ru"},
    {"id": ADMIN_TG, "first_name": "Админ", "role": "admin", "language_code": "en"},
    {"id": ANNA_TG, "first_name": "Анна", "role": "manager", "language_code": "ru"},
]


@dataclass
class Served:
    url: str
    http: aiohttp.ClientSession
    chat: SandboxClient
    base: DashboardBase
    app: Application

    def auth(self, telegram_id: int = HEAD_TG, **kwargs: Any) -> dict[str, str]:
        moment = kwargs.pop("auth_date", NOW - timedelta(minutes=5))
        init_data = sign_init_data(TOKEN, telegram_user(telegram_id), moment, **kwargs)
        return {"Authorization": f"tma {init_data}"}

    async def get(self, path: str, telegram_id: int = HEAD_TG, **params: Any) -> Any:
        async with self.http.get(
            self.url + path, headers=self.auth(telegram_id), params=params
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def status(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        async with self.http.request(method, self.url + path, headers=headers) as response:
            return response.status, await response.json()


@pytest.fixture
async def served(db_url: str) -> AsyncIterator[Served]:
    engine = make_engine(db_url)
    try:
        base = await seed_dashboard_base(UnitOfWorkFactory(make_session_factory(engine)))
    finally:
        await engine.dispose()
    config = SandboxConfig(identities=IDENTITIES, limits=LimitsConfig(rate_limit=False))
    async with Sandbox(config) as sandbox, SandboxClient(sandbox.base_url) as chat:
        app = await create_application(
            make_settings(db_url), token=TOKEN, api_base=sandbox.base_url, clock=FixedClock(NOW)
        )
        try:
            port = await app.serve_dashboard(port=0)
            async with aiohttp.ClientSession() as http:
                yield Served(f"http://127.0.0.1:{port}/", http, chat, base, app)
        finally:
            await app.close()


async def test_the_matrix_matches_the_hand_computed_figures(served: Served) -> None:
    data = await served.get("api/matrix")
    assert (data["as_of"], data["segments_as_of"]) == ("2026-12-09", "2026-12-09")
    assert (data["clients"], data["revenue"]) == (7, "3000.00")
    assert (data["at_risk_clients"], data["revenue_at_risk"]) == (3, "350.00")
    cells = {c["segment"]: c for c in data["cells"]}
    assert list(cells) == ["AX", "AY", "AZ", "BX", "BY", "BZ", "CX", "CY", "CZ"]
    assert cells["AX"] == {
        "segment": "AX",
        "abc": "A",
        "xyz": "X",
        "clients": 3,
        "clients_share": 0.4286,
        "revenue": "2200.00",
        "revenue_share": 0.7333,
        "at_risk_clients": 2,
        "revenue_at_risk": "300.00",
    }
    assert data["unsegmented"]["clients"] == 1 and data["unsegmented"]["segment"] is None
    anna = await served.get("api/matrix", manager=served.base.anna)
    assert (anna["clients"], anna["revenue"]) == (3, "1800.00")


async def test_a_cell_and_its_pages(served: Served) -> None:
    page = await served.get("api/matrix/AX")
    assert (page["total"], page["pages"]) == (3, 1)
    assert [(c["name"], c["revenue"], c["owner_name"]) for c in page["clients"]] == [
        ("Ромашка", "1000.00", "Анна Смирнова"),
        ("Клевер", "700.00", "Борис Котов"),
        ("Лютик", "500.00", "Анна Смирнова"),
    ]
    assert page["clients"][2]["at_risk"] and page["clients"][2]["next_due"] == "2026-12-20"
    none = await served.get("api/matrix/none")
    assert [c["name"] for c in none["clients"]] == ["Пион"]


async def test_team_trends_and_risk(served: Served) -> None:
    team = await served.get("api/managers")
    anna, boris = team["managers"]
    assert anna["name"] == "Анна Смирнова"
    assert anna["calls"] == {
        "today": {"calls": 2, "plan": 20, "percent": 10},
        "week": {"calls": 5, "plan": 60, "percent": 8},
        "month": {"calls": 9, "plan": 140, "percent": 6},
    }
    assert (anna["overdue"], boris["overdue"]) == (1, 2)
    assert anna["month_to_date"]["new"] == 1 and anna["month_to_date"]["returned"] == 1
    assert team["month_to_date"] == {
        "start": "2026-12-01",
        "end": "2026-12-09",
        "new": 2,
        "lost": 0,
        "returned": 1,
        "revenue_new": "1200.00",
        "revenue_existing": "200.00",
    }

    trends = await served.get("api/trends")
    months = {m["month"]: m for m in trends["months"]}
    assert trends["months"][0]["month"] == "2026-01"
    assert trends["months"][-1]["month"] == "2026-12"
    assert months["2026-12"]["partial"] and not months["2026-11"]["partial"]
    assert (months["2026-11"]["new"], months["2026-11"]["lost"]) == (1, 1)
    assert months["2026-11"]["revenue_new"] == "800.00"
    assert len((await served.get("api/trends", months=3))["months"]) == 3

    risk = await served.get("api/risk")
    assert (risk["clients"], risk["revenue_at_risk"], risk["revenue"]) == (3, "350.00", "3000.00")
    assert [m["name"] for m in risk["by_manager"]] == ["Анна Смирнова", "Борис Котов"]
    assert [c["name"] for c in risk["top"]["clients"]] == ["Лютик", "Клевер", "Мак"]


async def test_who_may_call_the_api(served: Served) -> None:
    head = served.auth(HEAD_TG)
    assert (await served.status("GET", "api/matrix", head))[0] == 200
    assert (await served.status("GET", "api/matrix", served.auth(ADMIN_TG)))[0] == 200

    status, body = await served.status("GET", "api/matrix", {})
    assert (status, body["error"]) == (401, "missing_init_data")
    forged = served.auth(HEAD_TG, hash_override="ab" * 32)
    status, body = await served.status("GET", "api/matrix", forged)
    assert (status, body["error"]) == (401, "invalid_init_data")
    stale = served.auth(HEAD_TG, auth_date=NOW - timedelta(days=2))
    status, body = await served.status("GET", "api/managers", stale)
    assert (status, body["error"]) == (401, "expired_init_data")
    for who in (ANNA_TG, GONE_TG, 900000001):  # a manager, a deactivated one, a stranger
        status, body = await served.status("GET", "api/risk", served.auth(who))
        assert (status, body["error"]) == (403, "access_denied"), who
    status, _ = await served.status("POST", f"api/clients/{served.base.clients['mak']}/open", {})
    assert status == 401


@pytest.mark.parametrize(
    "path",
    [
        "api/matrix/XX",
        "api/matrix/AX?page=abc",
        "api/matrix/AX?page=-1",
        "api/matrix?manager=-1",
        "api/matrix?manager=0",
        "api/matrix/AX?page=99999999999999999999",
        "api/trends?months=0",
        "api/trends?months=14",
        "api/risk?manager=%00",
        "api/clients/abc/open",
        "api/clients/99999999999999999999/open",
    ],
)
async def test_bad_parameters_get_400(served: Served, path: str) -> None:
    method = "POST" if path.endswith("/open") else "GET"
    status, body = await served.status(method, path, served.auth())
    assert status == 400, body
    assert body["error"] == "invalid_value"


async def test_unknown_routes_answer_json_404(served: Served) -> None:
    status, body = await served.status("GET", "api/nothing", served.auth())
    assert (status, body["error"]) == (404, "http_error")
    status, body = await served.status("POST", "api/clients/987654/open", served.auth())
    assert (status, body["error"]) == (404, "client_not_found")


async def test_a_tapped_client_arrives_as_a_card_in_the_chat_once(served: Served) -> None:
    client_id = served.base.clients["lyutik"]
    path = f"api/clients/{client_id}/open"
    status, body = await served.status("POST", path, served.auth())
    assert (status, body) == (200, {"sent": True, "repeated": False, "client_id": client_id})
    status, body = await served.status("POST", path, served.auth())  # a double tap
    assert (status, body["repeated"]) == (200, True)
    messages = (await served.chat.messages(HEAD_TG))["messages"]
    assert len(messages) == 1
    card = messages[0]
    assert "Лютик" in card["plain_text"]
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert any("Записать" in label for label in labels)
    # the admin reads English
    await served.status("POST", path, served.auth(ADMIN_TG))
    (admin_card,) = (await served.chat.messages(ADMIN_TG))["messages"]
    assert "Лютик" in admin_card["plain_text"] and "Log call" in str(admin_card["reply_markup"])


async def test_a_blocked_chat_is_reported(served: Served) -> None:
    await served.chat.block(HEAD_TG)
    path = f"api/clients/{served.base.clients['mak']}/open"
    status, body = await served.status("POST", path, served.auth())
    assert (status, body["error"]) == (409, "chat_unavailable")


async def test_the_page_and_its_texts(served: Served) -> None:
    async with served.http.get(served.url) as response:
        assert response.status == 200
        html = await response.text()
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert 'src="static/app.js"' in html and "http" not in html.split("<body>")[1]
    for name in ("app.js", "charts.js", "telegram.js", "app.css"):
        async with served.http.get(served.url + "static/" + name) as response:
            assert response.status == 200, name
    async with served.http.get(served.url + "texts", params={"lang": "en"}) as response:
        texts = await response.json()
    assert texts["language"] == "en" and texts["texts"]["tabs.matrix"] == "Matrix"
    me = await served.get("api/me")
    assert me["user"]["role"] == "head" and me["user"]["language"] == "ru"
    assert me["texts"]["tabs.matrix"] == "Матрица"
    assert me["texts"]["segment.AX"]


async def test_mounted_under_a_prefix_of_the_webhook_server(served: Served) -> None:
    """The integration contract: `parent.add_subapp("/webapp/", app.build_dashboard())`."""
    from aiohttp import web

    parent = web.Application()
    parent.add_subapp("/webapp/", served.app.build_dashboard())
    runner = web.AppRunner(parent, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    root = f"http://127.0.0.1:{runner.addresses[0][1]}/webapp/"
    try:
        async with served.http.get(root) as response:
            assert response.status == 200 and 'src="static/app.js"' in await response.text()
        async with served.http.get(root + "static/app.js") as response:
            assert response.status == 200
        async with served.http.get(root + "api/matrix", headers=served.auth()) as response:
            assert response.status == 200 and (await response.json())["clients"] == 7
        async with served.http.get(root + "api/matrix") as response:
            assert response.status == 401
    finally:
        await runner.cleanup()
