"""Settings, one class per concern, read once from the environment and `.env`.

Each class owns the variables documented in `.env.example` under their documented names
(an env prefix, or an alias where the name has none). `load_settings` builds them all once
at an entry point; the composition root hands each part to what needs it: the database URL
to the engine, the company rules to the handlers as a `CompanyPolicy`, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
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
    """`IMPORT_MAX_FUTURE_DAYS`: how far past today a sale's date may lie before it is an error."""

    model_config = SettingsConfigDict(env_prefix="IMPORT_")

    max_future_days: int = Field(default=1, ge=0)


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


_CONCERNS: dict[str, type[EnvSettings]] = {
    "telegram": TelegramSettings,
    "database": DatabaseSettings,
    "redis": RedisSettings,
    "company": CompanySettings,
    "sandbox": SandboxSettings,
    "importing": ImportSettings,
    "logging": LoggingSettings,
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
