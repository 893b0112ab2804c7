"""deploy/ runs exactly the commands the process tests run, with the documented defaults."""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
from pathlib import Path

from bot.config import load_settings
from scheduler.runner import STOP_GRACE_SECONDS
from tests.e2e.runtime_harness import CRMBOT

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


def command(name: str) -> list[str]:
    argv = shlex.split(unit(name)["Service"]["ExecStart"])
    return [Path(argv[0]).name, *argv[1:]]


def test_units_run_the_tested_commands() -> None:
    tested = Path(CRMBOT[0]).name
    assert command("crmbot@.service") == [tested, "run"]
    assert command("crmbot-migrate.service") == [tested, "migrate"]


def test_replica_unit_gives_a_graceful_stop_enough_time_and_keeps_config_errors_down() -> None:
    service = unit("crmbot@.service")["Service"]
    defaults = load_settings(env_file=None).runtime
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > defaults.shutdown_timeout_s + STOP_GRACE_SECONDS
    assert service["Environment"] == "WEBHOOK_PORT=%i"
    assert service["RestartPreventExitStatus"] == "2"  # crmbot run's exit code for bad config


def test_nginx_forwards_the_webhook_path_to_the_replica_ports() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text()
    webhook = load_settings(env_file=None).webhook
    assert f"location = {webhook.path} {{" in nginx
    ports = re.findall(r"server 127\.0\.0\.1:(\d+)", nginx)
    assert str(webhook.port) in ports and len(ports) >= 2
    assert "http_503" in nginx  # a replica starting or stopping is skipped


def test_backup_script_is_valid_shell_and_uses_a_libpq_url() -> None:
    script = DEPLOY / "crmbot-backup.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert "postgresql+asyncpg:/postgresql:" in script.read_text()
    assert unit("crmbot-backup.service")["Service"]["ExecStart"].endswith("crmbot-backup.sh")


def test_backup_script_dumps_a_database_that_pg_restore_reads(
    tmp_path: Path, postgres_available: bool
) -> None:
    import os
    import shutil

    import pytest

    from tests.conftest import POSTGRES_URL

    if not postgres_available or shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL or pg_dump not available")
    env = {**os.environ, "DATABASE_URL": POSTGRES_URL, "BACKUP_DIR": str(tmp_path)}
    subprocess.run(["bash", str(DEPLOY / "crmbot-backup.sh")], check=True, env=env)
    [dump] = tmp_path.glob("crmbot-*.dump")
    listing = subprocess.run(["pg_restore", "--list", str(dump)], check=True, capture_output=True)
    assert b"Archive created" in listing.stdout
