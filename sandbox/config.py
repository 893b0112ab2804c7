"""Configuration of the local Bot API sandbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Identity = Mapping[str, Any]
"""``{"id": int, "first_name": str, "username"?: str, "role": str, "language_code"?: str}``."""

IdentitiesProvider = Sequence[Identity] | Callable[[], Awaitable[Sequence[Identity]]]
"""A fixed list of identities or an async callable returning one (e.g. read from the database)."""

DEFAULT_UNKNOWN_PERSON: dict[str, Any] = {
    "id": 900000001,
    "first_name": "Unknown person",
    "role": "unknown",
    "language_code": "en",
}


@dataclass(frozen=True)
class LimitsConfig:
    """Telegram's limits that the sandbox enforces.

    ``enabled`` is the master switch for every limit below; ``rate_limit`` switches off only the
    token buckets, so length checks can stay on in tests that send many messages quickly.
    """

    enabled: bool = True
    rate_limit: bool = True
    max_text_length: int = 4096
    max_caption_length: int = 1024
    max_callback_data_bytes: int = 64
    max_callback_answer_length: int = 200
    # Telegram documents "about 30 messages per second" overall and "about one per second" in a
    # single chat, and tolerates short bursts: token buckets model exactly that.
    global_rate: float = 30.0
    global_burst: int = 30
    chat_rate: float = 1.0
    chat_burst: int = 5
    # Telegram throttles rapid edits of messages in one chat as well (progress-bar bots hit 429s
    # on editMessageText), so edits take a token from the chat's bucket, never from the global one.
    count_edits: bool = True

    @property
    def rate_limit_active(self) -> bool:
        return self.enabled and self.rate_limit


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a :class:`~sandbox.server.Sandbox` needs; all fields have demo defaults."""

    host: str = "127.0.0.1"
    port: int = 0
    bot_username: str = "crm_sandbox_bot"
    bot_first_name: str = "CRM Bot"
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    identities: IdentitiesProvider = ()
    unknown_person: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_UNKNOWN_PERSON))
    # Telegram answers "chat not found" to a chat id it has never seen; with strict_chats the
    # sandbox knows only users who wrote to the bot and the identities, which catches bots that
    # send to a wrong id. Off, any positive id is a valid private chat.
    strict_chats: bool = True
    max_poll_timeout: float = 50.0
    max_fault_hold: float = 30.0
    max_upload_bytes: int = 50 * 1024 * 1024
    max_download_bytes: int = 20 * 1024 * 1024
    max_pending_updates: int = 10_000
    # Webhook delivery: a POST that has not answered within webhook_timeout seconds counts as
    # failed (and is sent again, as Telegram does); retries back off from webhook_retry_initial,
    # doubling per failure of the chat, up to webhook_retry_max seconds.
    webhook_timeout: float = 10.0
    webhook_retry_initial: float = 1.0
    webhook_retry_max: float = 60.0
    # The aiohttp access log (request lines, with bot tokens redacted); off for in-process use.
    access_log: bool = False
