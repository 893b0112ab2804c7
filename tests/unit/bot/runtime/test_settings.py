"""Webhook and runtime settings: documented names and defaults, clear problems."""

from __future__ import annotations

from bot.cli.webhook_secret import new_secret
from bot.config import WEBHOOK_SECRET_PATTERN, load_settings


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings(env_file=None)
    assert not settings.webhook.enabled
    assert (settings.webhook.host, settings.webhook.port, settings.webhook.path) == (
        "127.0.0.1",
        8443,
        "/telegram",
    )
    assert settings.runtime.startup_give_up_s == 300
    assert settings.runtime.health_port is None
    assert settings.webhook.problems() == []


def test_webhook_mode_needs_a_secret() -> None:
    settings = load_settings(env_file=None, WEBHOOK_URL="https://bot.example.com/telegram")
    assert settings.webhook.enabled
    [problem] = settings.webhook.problems()
    assert "WEBHOOK_SECRET is required" in problem and "crmbot webhook-secret" in problem


def test_bad_webhook_values_are_named() -> None:
    settings = load_settings(
        env_file=None,
        WEBHOOK_URL="bot.example.com",
        WEBHOOK_SECRET="has spaces and ü",
        WEBHOOK_PATH="telegram",
    )
    problems = " | ".join(settings.webhook.problems())
    assert "WEBHOOK_URL" in problems
    assert "WEBHOOK_SECRET may hold only" in problems
    assert "WEBHOOK_PATH must start with /" in problems


def test_an_empty_health_port_means_none() -> None:
    assert load_settings(env_file=None, HEALTH_PORT="").runtime.health_port is None
    assert load_settings(env_file=None, HEALTH_PORT="9100").runtime.health_port == 9100


def test_generated_secrets_are_what_telegram_accepts() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(WEBHOOK_SECRET_PATTERN.fullmatch(secret) and len(secret) >= 32 for secret in secrets)
