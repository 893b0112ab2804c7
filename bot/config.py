"""Application settings, read once from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/crmbot.sqlite3"


class Settings(BaseSettings):
    """Every setting the bot, the scheduler and the command line read.

    Names are the environment variables documented in `.env.example`.
    """

    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    telegram_api_base: str = Field(default="", alias="TELEGRAM_API_BASE")
    redis_url: str = Field(default="", alias="REDIS_URL")
    default_language: Literal["ru", "en"] = Field(default="ru", alias="DEFAULT_LANGUAGE")
    default_timezone: str = Field(default="Europe/Moscow", alias="DEFAULT_TIMEZONE")
    visibility: Literal["own", "all"] = Field(default="own", alias="VISIBILITY")
    managers_can_set_vip: bool = Field(default=False, alias="MANAGERS_CAN_SET_VIP")
    sandbox_host: str = Field(default="127.0.0.1", alias="SANDBOX_HOST")
    sandbox_port: int = Field(default=8080, alias="SANDBOX_PORT")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    import_max_future_days: int = Field(default=1, ge=0, alias="IMPORT_MAX_FUTURE_DAYS")

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    def sqlite_path(self) -> Path | None:
        """The database file when the URL names a local SQLite database."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        return Path(self.database_url.removeprefix(prefix))


def load_settings(**overrides: object) -> Settings:
    """Build the settings once at an entry point; everything else receives them."""
    return Settings(**overrides)  # type: ignore[arg-type]
