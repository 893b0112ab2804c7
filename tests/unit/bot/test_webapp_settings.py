"""`WEBAPP_URL`: Telegram opens Mini Apps over HTTPS only, so nothing else is accepted."""

from __future__ import annotations

import pytest

from bot.config import load_settings


def _url(value: str) -> str | None:
    return load_settings(env_file=None, WEBAPP_URL=value).webapp.public_url()


def test_an_https_address_gets_its_trailing_slash() -> None:
    assert _url("https://crm.example.com/webapp") == "https://crm.example.com/webapp/"
    assert _url(" https://crm.example.com/ ") == "https://crm.example.com/"
    assert _url("") is None
    assert _url("http://127.0.0.1:8090/") == "http://127.0.0.1:8090/"  # this machine, tests


@pytest.mark.parametrize(
    "bad", ["http://crm.example.com/", "crm.example.com", "ftp://x/", "https://", "javascript:x"]
)
def test_anything_but_https_is_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ValueError, match="WEBAPP_URL must be an https:// address"):
        _url(bad)


def test_the_other_dashboard_settings() -> None:
    settings = load_settings(env_file=None, WEBAPP_PORT="8443", WEBAPP_AUTH_MAX_AGE="3600")
    assert (settings.webapp.port, settings.webapp.auth_max_age) == (8443, 3600)
    assert load_settings(env_file=None).webapp.port is None


def test_crmbot_run_refuses_a_plain_http_dashboard_in_one_line(tmp_path: object) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "BOT_TOKEN": "123456:TEST",
        "WEBAPP_URL": "http://crm.example.com/webapp/",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/none.sqlite3",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(['run']))"],
        env=env,
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: WEBAPP_URL must be an https:// address")
    assert "Traceback" not in done.stderr
