"""Mini App launch data: ``initData`` signed with the bot token, as Telegram signs it.

https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app :
``data_check_string`` is every field but ``hash`` as ``key=value`` lines sorted by key;
``secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token)``;
``hash = hex(HMAC_SHA256(key=secret_key, msg=data_check_string))``.
The page gets it the way Telegram's web clients pass it: in the URL fragment,
``#tgWebAppData=...&tgWebAppVersion=...&tgWebAppPlatform=...&tgWebAppThemeParams=...``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

WEB_APP_VERSION = "8.0"
PLATFORM = "weba"  # what Telegram's own web client reports

# Telegram's theme parameters; the web chat passes the set matching its own theme.
THEMES: dict[str, dict[str, str]] = {
    "light": {
        "bg_color": "#ffffff",
        "text_color": "#000000",
        "hint_color": "#707579",
        "link_color": "#3390ec",
        "button_color": "#3390ec",
        "button_text_color": "#ffffff",
        "secondary_bg_color": "#f4f4f5",
        "header_bg_color": "#ffffff",
        "accent_text_color": "#3390ec",
        "section_bg_color": "#ffffff",
        "section_header_text_color": "#3390ec",
        "subtitle_text_color": "#707579",
        "destructive_text_color": "#e53935",
        "bottom_bar_bg_color": "#ffffff",
        "section_separator_color": "#e7e7e7",
    },
    "dark": {
        "bg_color": "#212121",
        "text_color": "#ffffff",
        "hint_color": "#aaaaaa",
        "link_color": "#8774e1",
        "button_color": "#8774e1",
        "button_text_color": "#ffffff",
        "secondary_bg_color": "#181818",
        "header_bg_color": "#212121",
        "accent_text_color": "#8774e1",
        "section_bg_color": "#212121",
        "section_header_text_color": "#aaaaaa",
        "subtitle_text_color": "#aaaaaa",
        "destructive_text_color": "#e53935",
        "bottom_bar_bg_color": "#212121",
        "section_separator_color": "#100f10",
    },
}


def web_app_user(user: Mapping[str, Any]) -> dict[str, Any]:
    """The ``WebAppUser`` of a Telegram ``User``: no ``is_bot`` for people."""
    result: dict[str, Any] = {"id": user["id"], "first_name": user["first_name"]}
    for key in ("last_name", "username", "language_code"):
        if user.get(key):
            result[key] = user[key]
    result["allows_write_to_pm"] = True
    return result


def data_check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: Mapping[str, str], bot_token: str) -> str:
    """The hex ``hash`` of ``fields`` for the bot with ``bot_token``."""
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret_key, data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def init_data_fields(
    user: Mapping[str, Any],
    bot_token: str,
    *,
    auth_date: int,
    query_id: str | None = None,
    start_param: str | None = None,
) -> dict[str, str]:
    """Every ``initData`` field, ``hash`` included (all values as the page receives them)."""
    fields: dict[str, str] = {}
    if query_id:
        fields["query_id"] = query_id
    fields["user"] = json.dumps(web_app_user(user), ensure_ascii=False, separators=(",", ":"))
    fields["auth_date"] = str(auth_date)
    if start_param:
        fields["start_param"] = start_param
    fields["hash"] = sign(fields, bot_token)
    return fields


def new_query_id() -> str:
    return "AA" + secrets.token_urlsafe(18)


def encode_init_data(fields: Mapping[str, str]) -> str:
    """``Telegram.WebApp.initData``: the fields as a query string."""
    return urlencode(list(fields.items()))


def launch_url(url: str, init_data: str, theme: str) -> str:
    """The Mini App URL with the launch parameters in its fragment, as Telegram opens it."""
    launch = urlencode(
        {
            "tgWebAppData": init_data,
            "tgWebAppVersion": WEB_APP_VERSION,
            "tgWebAppPlatform": PLATFORM,
            "tgWebAppThemeParams": json.dumps(THEMES[theme], separators=(",", ":")),
        }
    )
    base, _, fragment = url.partition("#")
    if not fragment:
        return f"{base}#{launch}"
    # A path-like fragment ("#/clients") keeps its path, as telegram-web-app.js expects.
    joiner = "&" if "=" in fragment or "?" in fragment else "?"
    return f"{base}#{fragment}{joiner}{launch}"
