"""Telegram's `initData` as a Telegram client signs it, for tests of the dashboard.

Written from https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app,
independently of the code under test: the data-check string is every field but `hash`,
sorted by key, as `key=value` joined by newlines; the secret key is
HMAC_SHA256(key="WebAppData", msg=bot_token); `hash` is the hex HMAC_SHA256 of the
data-check string under that secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode


def sign_init_data(
    bot_token: str,
    user: dict[str, Any] | None,
    auth_date: datetime,
    *,
    hash_override: str | None = None,
    **extra: str,
) -> str:
    fields = {"auth_date": str(int(auth_date.timestamp())), "query_id": "AAHdF6IQAAAAAN0XohDhrOrc"}
    if user is not None:
        fields["user"] = json.dumps(user, ensure_ascii=False, separators=(",", ":"))
    fields.update(extra)
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hash_override or hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def telegram_user(telegram_id: int, first_name: str = "Ольга", language: str = "ru") -> dict:
    return {
        "id": telegram_id,
        "first_name": first_name,
        "last_name": "",
        "username": f"user{telegram_id}",
        "language_code": language,
        "allows_write_to_pm": True,
    }
