"""Mini App initData: signed exactly as Telegram documents it, passed as Telegram's clients do."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from aiogram.utils.web_app import check_webapp_signature, safe_parse_webapp_init_data

from sandbox import webapp
from tests.e2e.sandbox_harness import check_init_data

TOKEN = "123456:AAH-real-looking_token-0123456789abc"
ANN = {"id": 101, "is_bot": False, "first_name": "Анна", "username": "ann", "language_code": "ru"}


def signed(query_id: str | None = None, start_param: str | None = None) -> str:
    fields = webapp.init_data_fields(
        ANN, TOKEN, auth_date=1_700_000_000, query_id=query_id, start_param=start_param
    )
    return webapp.encode_init_data(fields)


def test_the_hash_verifies_with_telegrams_algorithm_and_with_aiogram() -> None:
    init_data = signed(query_id="AAHdF6IQAAAAAN0XohDhrOrc")

    fields = check_init_data(init_data, TOKEN)
    assert check_webapp_signature(TOKEN, init_data)
    parsed = safe_parse_webapp_init_data(TOKEN, init_data)

    assert fields["query_id"] == "AAHdF6IQAAAAAN0XohDhrOrc"
    assert fields["auth_date"] == "1700000000"
    assert json.loads(fields["user"]) == {
        "id": 101,
        "first_name": "Анна",
        "username": "ann",
        "language_code": "ru",
        "allows_write_to_pm": True,
    }
    assert parsed.user is not None and parsed.user.first_name == "Анна"


def test_another_token_or_a_changed_field_fails_the_check() -> None:
    init_data = signed()
    forged = init_data.replace("%22id%22%3A101", "%22id%22%3A102")
    assert forged != init_data

    with pytest.raises(AssertionError):
        check_init_data(init_data, "654321:another-bot-token")
    with pytest.raises(AssertionError):
        check_init_data(forged, TOKEN)
    assert not check_webapp_signature(TOKEN, forged)


def test_keyboard_launches_carry_no_query_id_and_start_param_is_signed() -> None:
    fields = dict(parse_qsl(signed(start_param="client_42")))

    assert "query_id" not in fields
    assert fields["start_param"] == "client_42"
    check_init_data(signed(start_param="client_42"), TOKEN)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_launch_url_has_the_fragment_telegram_web_app_js_reads(theme: str) -> None:
    init_data = signed(query_id="AAq")

    url = webapp.launch_url("http://127.0.0.1:8090/webapp/?page=kpi", init_data, theme)

    parts = urlsplit(url)
    assert parts.query == "page=kpi"
    launch = {key: values[0] for key, values in parse_qs(parts.fragment).items()}
    assert launch["tgWebAppData"] == init_data
    assert launch["tgWebAppVersion"] == webapp.WEB_APP_VERSION
    assert launch["tgWebAppPlatform"] == "weba"
    assert json.loads(launch["tgWebAppThemeParams"]) == webapp.THEMES[theme]
    check_init_data(launch["tgWebAppData"], TOKEN)


def test_a_path_fragment_is_kept_before_the_launch_parameters() -> None:
    url = webapp.launch_url("http://127.0.0.1/app#/clients", "a=1", "light")

    assert url.startswith("http://127.0.0.1/app#/clients?tgWebAppData=a%3D1&")


def test_dark_and_light_themes_differ_in_the_colours_a_page_uses() -> None:
    light, dark = webapp.THEMES["light"], webapp.THEMES["dark"]

    assert light.keys() == dark.keys()
    assert light["bg_color"] != dark["bg_color"] and light["text_color"] != dark["text_color"]
