"""Settings, one class per concern, read once from the environment and `.env`.

Each class owns the variables documented in `.env.example` under their documented names
(an env prefix, or an alias where the name has none). `load_settings` builds them all once
at an entry point; the composition root hands each part to what needs it: the database URL
to the engine, the company rules to the handlers as a `CompanyPolicy`, and so on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.access import CompanyPolicy
from services.zones import DEFAULT_TIMEZONE

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/crmbot.sqlite3"
ENV_FILE = ".env"


class EnvSettings(BaseSettings):
    """Reads the process environment and `.env`; unknown variables are ignored."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )


class TelegramSettings(EnvSettings):
    """`BOT_TOKEN` and `TELEGRAM_API_BASE` (a self-hosted Bot API server; empty = Telegram)."""

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_")

    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    api_base: str = ""

    def token(self) -> str | None:
        value = self.bot_token.get_secret_value().strip() if self.bot_token else ""
        return value or None


class DatabaseSettings(EnvSettings):
    """`DATABASE_URL`: SQLite (embedded default) or PostgreSQL through asyncpg."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_")

    url: str = DEFAULT_DATABASE_URL

    def sqlite_path(self) -> Path | None:
        """The database file when the URL names a local SQLite database."""
        prefix = "sqlite+aiosqlite:///"
        if not self.url.startswith(prefix):
            return None
        return Path(self.url.removeprefix(prefix))


class RedisSettings(EnvSettings):
    """`REDIS_URL`; empty keeps conversation state in the database."""

    model_config = SettingsConfigDict(env_prefix="REDIS_")

    url: str = ""


class CompanySettings(EnvSettings):
    """The company-wide rules: languages, time zone, who sees whose clients, VIP marking."""

    default_language: Literal["ru", "en"] = Field(default="ru", alias="DEFAULT_LANGUAGE")
    default_timezone: str = Field(default=DEFAULT_TIMEZONE, alias="DEFAULT_TIMEZONE")
    visibility: Literal["own", "all"] = Field(default="own", alias="VISIBILITY")
    managers_can_set_vip: bool = Field(default=False, alias="MANAGERS_CAN_SET_VIP")

    def policy(self) -> CompanyPolicy:
        return CompanyPolicy(
            default_language=self.default_language,
            default_timezone=self.default_timezone,
            visibility=self.visibility,
            managers_can_set_vip=self.managers_can_set_vip,
        )


class SandboxSettings(EnvSettings):
    """`SANDBOX_HOST`, `SANDBOX_PORT`: where `crmbot demo` serves the local Bot API sandbox."""

    model_config = SettingsConfigDict(env_prefix="SANDBOX_")

    host: str = "127.0.0.1"
    port: int = 8080


class ImportSettings(EnvSettings):
    """`IMPORT_MAX_FUTURE_DAYS`: how far past today a sale's date may lie before it is an error.

    `IMPORT_UPLOAD_DIR`: where files sent to the bot wait for "Import" (per upload id);
    `IMPORT_INBOX`: a folder the scheduler watches for new files (empty: none).
    """

    model_config = SettingsConfigDict(env_prefix="IMPORT_")

    max_future_days: int = Field(default=1, ge=0)
    upload_dir: Path = Path("var/uploads")
    inbox: Path | None = None
    progress_every_s: float = Field(default=2.0, gt=0)

    @field_validator("inbox", mode="before")
    @classmethod
    def _empty_inbox(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class WebhookSettings(EnvSettings):
    """Webhook mode, on when `WEBHOOK_URL` (the public HTTPS URL Telegram calls) is set.

    The process listens on `WEBHOOK_HOST`:`WEBHOOK_PORT` at `WEBHOOK_PATH` (a reverse proxy
    with TLS forwards `WEBHOOK_URL` there) and accepts only requests that carry
    `WEBHOOK_SECRET` in Telegram's `X-Telegram-Bot-Api-Secret-Token` header.
    """

    model_config = SettingsConfigDict(env_prefix="WEBHOOK_")

    url: str = ""
    host: str = "127.0.0.1"
    port: int = 8443
    path: str = "/telegram"
    secret: SecretStr | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.url.strip())

    def secret_token(self) -> str | None:
        value = self.secret.get_secret_value().strip() if self.secret else ""
        return value or None

    def problems(self) -> list[str]:
        """What keeps webhook mode from starting, in words for the operator."""
        if not self.enabled:
            return []
        found: list[str] = []
        url = urlsplit(self.url.strip())
        if url.scheme not in ("http", "https") or not url.netloc:
            found.append(f"WEBHOOK_URL must be an https:// URL, got {self.url.strip()!r}")
        secret = self.secret_token()
        if secret is None:
            found.append(
                "WEBHOOK_SECRET is required in webhook mode; `crmbot webhook-secret` makes one"
            )
        elif not WEBHOOK_SECRET_PATTERN.fullmatch(secret):
            found.append("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and -, up to 256 of them")
        if not self.path.startswith("/"):
            found.append(f"WEBHOOK_PATH must start with /, got {self.path!r}")
        if not 0 < self.port < 65536:
            found.append(f"WEBHOOK_PORT must be a port number, got {self.port}")
        return found


class RuntimeSettings(EnvSettings):
    """How `crmbot run` survives outages and reports on itself.

    `STARTUP_GIVE_UP_S`: how long startup (and, later, polling) keeps retrying an
    unreachable Bot API or database before the process exits non-zero; `RETRY_MAX_DELAY_S`:
    the cap of the exponential backoff between attempts; `HEALTH_HOST`/`HEALTH_PORT`: where
    polling mode serves /healthz, /readyz and /metrics (webhook mode serves them on the
    webhook port); `SHUTDOWN_TIMEOUT_S`: how long a stop waits for handlers in flight.
    """

    startup_give_up_s: float = Field(default=300.0, alias="STARTUP_GIVE_UP_S", gt=0)
    retry_max_delay_s: float = Field(default=30.0, alias="RETRY_MAX_DELAY_S", gt=0)
    health_host: str = Field(default="127.0.0.1", alias="HEALTH_HOST")
    health_port: int | None = Field(default=None, alias="HEALTH_PORT")
    shutdown_timeout_s: float = Field(default=25.0, alias="SHUTDOWN_TIMEOUT_S", ge=0)

    @field_validator("health_port", mode="before")
    @classmethod
    def _empty_port_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class WebAppSettings(EnvSettings):
    """The dashboard (a Telegram Mini App) served by the bot process.

    `WEBAPP_URL`: its public HTTPS address as Telegram opens it (e.g.
    `https://crm.example.com/webapp/`); empty: no dashboard buttons. `WEBAPP_PORT`: in
    polling mode, serve it on this port (`WEBAPP_HOST`, default all interfaces); behind a
    reverse proxy that terminates HTTPS. `WEBAPP_AUTH_MAX_AGE`: seconds an `initData` stays
    valid after Telegram signed it (the page asks to reopen the dashboard after that).
    """

    model_config = SettingsConfigDict(env_prefix="WEBAPP_")

    url: str = ""
    port: int | None = None
    host: str = "0.0.0.0"
    auth_max_age: int = Field(default=24 * 3600, ge=60)

    def public_url(self) -> str | None:
        """`WEBAPP_URL`, ending with "/" (the page's links are relative), or None.

        Raises ValueError unless it is https:// (Telegram opens Mini Apps only over
        HTTPS; http:// is accepted for this machine only, for local tests).
        """
        url = self.url.strip()
        if not url:
            return None
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
            raise ValueError(
                f"WEBAPP_URL must be an https:// address (Telegram opens Mini Apps only over "
                f"HTTPS), got {url!r}"
            )
        return url if url.endswith("/") else url + "/"


class LoggingSettings(EnvSettings):
    """`LOG_LEVEL`: DEBUG, INFO, WARNING, ERROR."""

    model_config = SettingsConfigDict(env_prefix="LOG_")

    level: str = "INFO"


@dataclass(frozen=True)
class Settings:
    """Every concern's settings, built once by `load_settings`."""

    telegram: TelegramSettings
    database: DatabaseSettings
    redis: RedisSettings
    company: CompanySettings
    sandbox: SandboxSettings
    importing: ImportSettings
    logging: LoggingSettings
    webhook: WebhookSettings
    runtime: RuntimeSettings
    webapp: WebAppSettings


_CONCERNS: dict[str, type[EnvSettings]] = {
    "telegram": TelegramSettings,
    "database": DatabaseSettings,
    "redis": RedisSettings,
    "company": CompanySettings,
    "sandbox": SandboxSettings,
    "importing": ImportSettings,
    "logging": LoggingSettings,
    "webhook": WebhookSettings,
    "runtime": RuntimeSettings,
    "webapp": WebAppSettings,
}


def _variable_names(model: type[EnvSettings]) -> dict[str, str]:
    """Environment variable name -> field name, as the class reads them."""
    prefix = str(model.model_config.get("env_prefix") or "")
    return {
        (field.alias or f"{prefix}{name}").upper(): name
        for name, field in model.model_fields.items()
    }


def load_settings(*, env_file: str | None = ENV_FILE, **values: Any) -> Settings:
    """Read every concern once; `values` override by variable name (`DATABASE_URL=...`).

    `env_file=None` ignores `.env` (tests).
    """
    remaining = {name.upper(): value for name, value in values.items()}
    built: dict[str, EnvSettings] = {}
    for concern, model in _CONCERNS.items():
        names = _variable_names(model)
        given = {names[key]: remaining.pop(key) for key in list(remaining) if key in names}
        built[concern] = model(_env_file=env_file, **given)  # type: ignore[call-arg]
    if remaining:
        raise TypeError(f"unknown settings: {', '.join(sorted(remaining))}")
    return Settings(**built)  # type: ignore[arg-type]
