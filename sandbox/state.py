"""In-memory world of the sandbox: people, chats, messages, updates, files, faults and stats.

Nothing here knows HTTP: the Bot API and the control API both translate requests into calls on
:class:`SandboxState`, so their views of a chat can never disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import secrets
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.errors import ApiError, ControlError, bad_request
from sandbox.limits import RateLimiter
from sandbox.media import image_mime_type, image_size
from sandbox.telegram_html import utf16_length

# Telegram's default when a bot never passed allowed_updates: everything but these three.
logger = logging.getLogger(__name__)

_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?(?![A-Za-z0-9_@])")
_CHAT_ACTION_SECONDS = 5.0
_FILE_PREFIXES = {"photo": "AgACAgIAAxk", "document": "BQACAgIAAxk", "voice": "AwACAgIAAxk"}
_FILE_FOLDERS = {"photo": "photos", "document": "documents", "voice": "voice"}
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
# Delivered updates remembered for POST /sandbox/updates/{id}/redeliver.
_DELIVERED_HISTORY = 1000


class Changes:
    """Wakes long polls.

    A waiter takes the current event and a change sets it and starts a new one; asyncio runs
    one coroutine at a time, so a waiter that checked its condition and then calls :meth:`wait`
    without awaiting in between cannot miss a change.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    kind: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    duration: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    def to_api(self) -> dict[str, Any]:
        """The Bot API object of this file (a PhotoSize, Document or Voice)."""
        body: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.kind == "photo":
            body.update(width=self.width, height=self.height)
        elif self.kind == "voice":
            body.update(duration=self.duration, mime_type=self.mime_type or "audio/ogg")
        else:
            if self.file_name:
                body["file_name"] = self.file_name
            if self.mime_type:
                body["mime_type"] = self.mime_type
        return body

    def to_file(self) -> dict[str, Any]:
        """The Bot API ``File`` answered by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass
class Content:
    """Text or caption of a message: ``source`` as the bot sent it, ``plain`` as Telegram shows."""

    source: str
    plain: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None

    def same_as(self, other: Content | None) -> bool:
        return other is not None and (self.plain, self.entities) == (other.plain, other.entities)


@dataclass
class StoredMessage:
    message_id: int
    chat_id: int
    sender: dict[str, Any]
    from_bot: bool
    date: int
    seq: int
    text: Content | None = None
    caption: Content | None = None
    reply_markup: dict[str, Any] | None = None
    photo: StoredFile | None = None
    document: StoredFile | None = None
    voice: StoredFile | None = None
    reply_to: StoredMessage | None = None
    web_app_data: dict[str, str] | None = None
    edit_date: int | None = None
    deleted: bool = False

    def to_api(self, chat: dict[str, Any], *, nested: bool = True) -> dict[str, Any]:
        """The message as the Bot API returns it (aiogram's ``Message``)."""
        body: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            body["edit_date"] = self.edit_date
        if self.text is not None:
            body["text"] = self.text.plain
            if self.text.entities:
                body["entities"] = self.text.entities
        if self.photo is not None:
            body["photo"] = [self.photo.to_api()]
        if self.document is not None:
            body["document"] = self.document.to_api()
        if self.voice is not None:
            body["voice"] = self.voice.to_api()
        if self.caption is not None:
            body["caption"] = self.caption.plain
            if self.caption.entities:
                body["caption_entities"] = self.caption.entities
        if self.web_app_data is not None:
            body["web_app_data"] = self.web_app_data
        if self.reply_markup is not None:
            body["reply_markup"] = self.reply_markup
        if nested and self.reply_to is not None and not self.reply_to.deleted:
            body["reply_to_message"] = self.reply_to.to_api(chat, nested=False)
        return body

    def to_feed(self, origin: str) -> dict[str, Any]:
        """The message as the control API shows it; URLs are absolute, built from ``origin``."""
        shown = self.text or self.caption

        def url(stored: StoredFile) -> str:
            return f"{origin}/sandbox/files/{stored.file_id}"

        return {
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "date": self.date,
            "text": self.text.source if self.text else None,
            "caption": self.caption.source if self.caption else None,
            "plain_text": shown.plain if shown else None,
            "parse_mode": shown.parse_mode if shown else None,
            "reply_markup": self.reply_markup,
            "photo": url(self.photo) if self.photo else None,
            "document": (
                {
                    "name": self.document.file_name,
                    "file_name": self.document.file_name,
                    "mime_type": self.document.mime_type,
                    "file_size": self.document.size,
                    "url": url(self.document),
                }
                if self.document
                else None
            ),
            "voice": (
                {
                    "duration": self.voice.duration,
                    "file_size": self.voice.size,
                    "url": url(self.voice),
                }
                if self.voice
                else None
            ),
            "web_app_data": self.web_app_data,
            "edited": self.edit_date is not None,
            "edit_date": self.edit_date,
            "reply_to_message_id": self.reply_to.message_id if self.reply_to else None,
        }


@dataclass
class Chat:
    """A private chat between the bot and one person; its id is the person's id."""

    id: int
    user: dict[str, Any]
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    seq: int = 0
    deletions: list[tuple[int, int]] = field(default_factory=list)
    toasts: list[dict[str, Any]] = field(default_factory=list)
    chat_action: str | None = None
    chat_action_until: float = 0.0
    reply_keyboard: dict[str, Any] | None = None
    blocked: bool = False
    changes: Changes = field(default_factory=Changes)

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "type": "private",
            "first_name": self.user["first_name"],
        }
        for key in ("last_name", "username"):
            if self.user.get(key):
                body[key] = self.user[key]
        return body

    def touch(self) -> int:
        """Record a change and wake the long polls of this chat; returns the new sequence."""
        self.seq += 1
        self.changes.notify()
        return self.seq

    def live_message(self, message_id: int) -> StoredMessage | None:
        message = self.messages.get(message_id)
        return None if message is None or message.deleted else message


@dataclass
class CallbackRecord:
    id: str
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None


@dataclass
class Fault:
    method: str
    error: int | str
    times: int
    retry_after: int = 5
    hold: float = 0.0
    description: str | None = None
    chat_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "error": self.error,
            "times": self.times,
            "retry_after": self.retry_after,
            "hold": self.hold,
            "description": self.description,
            "chat_id": self.chat_id,
        }


@dataclass
class Webhook:
    """What ``setWebhook`` set: where updates go and how, plus the last delivery error."""

    url: str
    token: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    has_custom_certificate: bool = False
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None

    def to_info(self, pending: int) -> dict[str, Any]:
        """``WebhookInfo`` as getWebhookInfo answers it (absent fields left out, as Telegram)."""
        info: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": self.has_custom_certificate,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
        }
        if self.ip_address:
            info["ip_address"] = self.ip_address
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        if self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        return info


@dataclass
class WebhookStats:
    deliveries: int = 0
    failures: int = 0
    redeliveries: int = 0
    methods_in_responses: int = 0
    peak_in_flight: int = 0
    attempts: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))

    def to_json(self) -> dict[str, Any]:
        return {
            "deliveries": self.deliveries,
            "failures": self.failures,
            "redeliveries": self.redeliveries,
            "methods_in_responses": self.methods_in_responses,
            "peak_in_flight": self.peak_in_flight,
        }


@dataclass
class _ChatDelivery:
    """Webhook delivery of one chat: its update in flight and its retry backoff."""

    in_flight: int | None = None
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    errors_by_method: dict[str, Counter[str]] = field(default_factory=dict)
    rate_limited: int = 0
    faults_injected: int = 0
    messages_sent: int = 0
    updates_queued: int = 0
    polls_by_bot: Counter[str] = field(default_factory=Counter)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)

    def record_error(self, method: str, code: int) -> None:
        self.errors[str(code)] += 1
        self.errors_by_method.setdefault(method, Counter())[str(code)] += 1
        if code == 429:
            self.rate_limited += 1


@dataclass
class _Poll:
    terminated: bool = False


class SandboxState:
    """All data of one sandbox; see the module docstring."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.wall_clock = wall_clock
        self.limiter = RateLimiter(config.limits, clock)
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.stats = Stats()
        self.updates: list[dict[str, Any]] = []
        self.allowed_updates: frozenset[str] | None = None
        self.bot_user: dict[str, Any] | None = None
        # Tokens learnt from the bots' own requests, by bot id: Mini App initData is signed
        # with the token, exactly as Telegram does.
        self.bot_tokens: dict[int, str] = {}
        self.last_bot_id: int | None = None
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: Webhook | None = None
        self.webhook_stats = WebhookStats()
        self.deliveries: dict[Hashable, _ChatDelivery] = {}
        self.delivered: OrderedDict[int, dict[str, Any]] = OrderedDict()
        # Redelivered updates survive one getUpdates confirmation: the bot's offset is already
        # past them, and Telegram would hand them out again after a lost confirmation.
        self._sticky: set[int] = set()
        self.closed = False
        self._next_update_id = 1
        self._next_file_number = 1
        self._updates_changed = Changes()
        self._pollers: dict[str, _Poll] = {}
        self._identities_cache: list[dict[str, Any]] | None = None
        self._identities_loaded_at = -1e9

    # People -----------------------------------------------------------------------------------

    async def identities(self, *, refresh: bool = True) -> list[dict[str, Any]]:
        """The configured identities, normalised, followed by the "unknown person"."""
        if refresh or self._identities_cache is None:
            provider = self.config.identities
            try:
                if callable(provider):
                    raw = provider()
                    loaded = await raw if inspect.isawaitable(raw) else raw
                else:
                    loaded = provider
                people = [_normalise_identity(item) for item in loaded]
            except Exception:
                # A demo must survive a provider that fails (e.g. the database is down): keep
                # the last good list, and say why in the log.
                logger.warning("sandbox identities provider failed", exc_info=True)
                people = list(self._identities_cache or [])
            unknown = _normalise_identity(self.config.unknown_person)
            if all(person["id"] != unknown["id"] for person in people):
                people.append(unknown)
            self._identities_cache = people
            self._identities_loaded_at = self.clock()
        return [dict(person) for person in self._identities_cache]

    async def _identity(self, user_id: int) -> dict[str, Any] | None:
        # An async provider may query a database: reuse the last answer for a second, and ask
        # again on a miss so a manager added a moment ago is found.
        fresh = self.clock() - self._identities_loaded_at < 1.0
        people = await self.identities(refresh=not fresh)
        found = next((person for person in people if person["id"] == user_id), None)
        if found is None and fresh:
            people = await self.identities(refresh=True)
            found = next((person for person in people if person["id"] == user_id), None)
        return found

    async def person(
        self, user_id: int, overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The Telegram ``User`` of a person: request fields, then what we know, then a stub."""
        if user_id <= 0:
            raise ControlError(400, "user_id must be a positive integer")
        known = self.users.get(user_id)
        if known is None:
            identity = await self._identity(user_id)
            known = _user_object(user_id, identity or {"first_name": f"User {user_id}"})
        given = {key: value for key, value in (overrides or {}).items() if value}
        return _user_object(user_id, {**known, **given})

    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            stub = {"first_name": f"User {chat_id}"}
            chat = Chat(id=chat_id, user=self.users.get(chat_id) or _user_object(chat_id, stub))
            self.chats[chat_id] = chat
        return chat

    async def chat_for_bot(self, chat_id: int) -> Chat:
        """The chat a bot method addresses, or Telegram's "chat not found"."""
        if chat_id <= 0:
            raise bad_request("chat not found")
        if chat_id not in self.users:
            identity = await self._identity(chat_id)
            if identity is not None:
                chat = self.chat(chat_id)
                chat.user = _user_object(chat_id, identity)
                return chat
            if self.config.strict_chats:
                raise bad_request("chat not found")
        return self.chat(chat_id)

    def bot_for_token(self, token: str) -> dict[str, Any]:
        bot_id = int(token.split(":", 1)[0])
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": self.config.bot_first_name,
            "username": self.config.bot_username,
        }
        return self.bot_user

    def learn_token(self, token: str) -> None:
        bot_id = int(token.split(":", 1)[0])
        self.bot_tokens[bot_id] = token
        self.last_bot_id = bot_id

    def bot_token(self, bot_id: int | None = None) -> str:
        """The token a bot used with this sandbox (the last bot seen by default)."""
        wanted = self.last_bot_id if bot_id is None else bot_id
        token = self.bot_tokens.get(wanted) if wanted is not None else None
        if token is None:
            if bot_id is not None:
                raise ControlError(404, f"bot {bot_id} has not called the sandbox")
            raise ControlError(
                409, "no bot has called the sandbox yet, so its token (the signing key) is unknown"
            )
        return token

    # Menu button and Mini Apps ----------------------------------------------------------------

    def menu_button(self, chat_id: int | None) -> dict[str, Any]:
        """The menu button a chat shows: its own, else the bot's default, else the commands."""
        if chat_id is not None and chat_id in self.menu_buttons:
            return dict(self.menu_buttons[chat_id])
        return dict(self.menu_buttons.get(None) or {"type": "commands"})

    def set_menu_button(self, chat_id: int | None, button: dict[str, Any]) -> None:
        if button["type"] == "default":
            self.menu_buttons.pop(chat_id, None)
        else:
            self.menu_buttons[chat_id] = button
        for chat in self.chats.values() if chat_id is None else [self.chat(chat_id)]:
            chat.touch()

    async def add_web_app_data(
        self, user_id: int, data: str, button_text: str, *, force: bool = False
    ) -> tuple[StoredMessage, int]:
        """``Telegram.WebApp.sendData`` from a Mini App opened by a reply keyboard button."""
        chat = self.chat(user_id)
        if not force and button_text not in _web_app_keyboard_buttons(chat.reply_keyboard):
            raise ControlError(
                400, f"the reply keyboard has no web_app button with the text {button_text!r}"
            )
        return await self.add_user_message(
            user_id, web_app_data={"data": data, "button_text": button_text}
        )

    # Messages ---------------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.wall_clock())

    def add_message(
        self, chat: Chat, sender: dict[str, Any], *, from_bot: bool, **content: Any
    ) -> StoredMessage:
        message = StoredMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            sender=sender,
            from_bot=from_bot,
            date=self.now(),
            seq=0,
            **content,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if from_bot:
            # Telegram clears "typing…" as soon as the bot's message arrives.
            chat.chat_action = None
        message.seq = chat.touch()
        return message

    async def add_user_message(
        self, user_id: int, profile: Mapping[str, Any] | None = None, **content: Any
    ) -> tuple[StoredMessage, int]:
        """Store a person's message and queue its update; returns it and the update id."""
        user = await self.person(user_id, profile)
        self.users[user_id] = user
        chat = self.chat(user_id)
        chat.user = user
        if chat.blocked:
            # Writing to a bot you blocked means pressing "Restart" first, which unblocks it.
            self.set_blocked(user_id, False)
        message = self.add_message(chat, user, from_bot=False, **content)
        update_id = self.queue_update("message", message.to_api(chat.to_api()))
        return message, update_id

    def edited(self, chat: Chat, message: StoredMessage) -> None:
        message.edit_date = self.now()
        message.seq = chat.touch()

    def delete_message(self, chat: Chat, message: StoredMessage) -> None:
        message.deleted = True
        chat.deletions.append((chat.touch(), message.message_id))

    def set_chat_action(self, chat: Chat, action: str) -> None:
        chat.chat_action = action
        chat.chat_action_until = self.clock() + _CHAT_ACTION_SECONDS
        chat.touch()

    def set_blocked(self, user_id: int, blocked: bool | None = None) -> bool:
        """Set or toggle "the user blocked the bot"; the bot gets a my_chat_member update."""
        chat = self.chat(user_id)
        new_state = (not chat.blocked) if blocked is None else blocked
        if new_state != chat.blocked:
            chat.blocked = new_state
            chat.touch()
            # Before any bot called the sandbox there is no bot id to show; 1 stands in.
            bot = self.bot_user or {
                "id": 1,
                "is_bot": True,
                "first_name": self.config.bot_first_name,
            }
            old, new = ("member", "kicked") if new_state else ("kicked", "member")
            member: dict[str, Any] = {"status": new, "user": bot}
            if new == "kicked":
                member["until_date"] = 0
            self.queue_update(
                "my_chat_member",
                {
                    "chat": chat.to_api(),
                    "from": chat.user,
                    "date": self.now(),
                    "old_chat_member": {"status": old, "user": bot}
                    | ({"until_date": 0} if old == "kicked" else {}),
                    "new_chat_member": member,
                },
            )
        return chat.blocked

    # Callback queries -------------------------------------------------------------------------

    async def press(
        self, user_id: int, message_id: int, data: str, *, force: bool = False
    ) -> tuple[CallbackRecord, int]:
        """A person presses an inline button; returns the query and its update id."""
        user = await self.person(user_id)
        self.users.setdefault(user_id, user)
        chat = self.chat(user_id)
        message = chat.live_message(message_id)
        if message is None or not message.from_bot:
            raise ControlError(404, f"no bot message {message_id} in chat {user_id}")
        if not force and data not in _callback_data(message.reply_markup):
            raise ControlError(
                400, f"message {message_id} has no inline button with callback_data {data!r}"
            )
        record = CallbackRecord(
            id=str(secrets.randbits(62)), chat_id=chat.id, message_id=message_id, data=data
        )
        self.callbacks[record.id] = record
        update_id = self.queue_update(
            "callback_query",
            {
                "id": record.id,
                "from": chat.user,
                "message": message.to_api(chat.to_api()),
                "chat_instance": str(chat.id * 7919 % 10**12),
                "data": data,
            },
        )
        return record, update_id

    def answer_callback(self, record: CallbackRecord, answer: dict[str, Any]) -> None:
        record.answer = answer
        chat = self.chat(record.chat_id)
        toast = {"callback_query_id": record.id, "message_id": record.message_id, **answer}
        self.stats.callback_answers.append(toast)
        del self.stats.callback_answers[:-100]
        if answer.get("text") or answer.get("url"):
            chat.toasts.append({**toast, "seq": chat.touch()})
            del chat.toasts[:-50]

    # Updates ----------------------------------------------------------------------------------

    @property
    def updates_changed(self) -> Changes:
        """Wakes getUpdates long polls and the webhook delivery loop."""
        return self._updates_changed

    def queue_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self.updates.append({"update_id": update_id, kind: payload})
        # A bot that never polls must not make a long demo eat memory.
        del self.updates[: -self.config.max_pending_updates]
        self.stats.updates_queued += 1
        self._updates_changed.notify()
        return update_id

    def confirm_updates(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset > 0:
            self.updates = [
                update
                for update in self.updates
                if update["update_id"] >= offset or update["update_id"] in self._sticky
            ]
        else:
            self.updates = self.updates[offset:]

    def drop_pending_updates(self) -> None:
        self.updates.clear()
        self._sticky.clear()
        for delivery in self.deliveries.values():
            delivery.failures, delivery.retry_at = 0, 0.0

    def _deliverable(self, limit: int | None = None) -> list[dict[str, Any]]:
        allowed = self.allowed_updates
        # Telegram discards updates of types the bot opted out of instead of keeping them.
        self.updates = [update for update in self.updates if _allowed(_kind(update), allowed)]
        return self.updates if limit is None else self.updates[:limit]

    def _remember_delivered(self, update: dict[str, Any]) -> None:
        self._sticky.discard(update["update_id"])
        self.delivered[update["update_id"]] = update
        self.delivered.move_to_end(update["update_id"])
        while len(self.delivered) > _DELIVERED_HISTORY:
            self.delivered.popitem(last=False)

    def set_allowed_updates(self, allowed_updates: Iterable[str] | None) -> None:
        """As on Telegram, a bot's ``allowed_updates`` stays until it passes a new list."""
        if allowed_updates is not None:
            kinds = frozenset(allowed_updates)
            self.allowed_updates = kinds or None

    async def get_updates(
        self,
        token: str,
        *,
        offset: int | None,
        limit: int,
        hold: float,
        allowed_updates: Iterable[str] | None,
    ) -> list[dict[str, Any]]:
        """getUpdates: confirm, then answer at once or hold the request up to ``hold`` seconds."""
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        self.set_allowed_updates(allowed_updates)
        self.confirm_updates(offset)
        self.stats.polls_by_bot[token.split(":", 1)[0]] += 1
        previous = self._pollers.get(token)
        poll = _Poll()
        self._pollers[token] = poll
        if previous is not None:
            # Like Telegram: a second poller ends the first one with 409 Conflict.
            previous.terminated = True
            self._updates_changed.notify()
        deadline = self.clock() + hold
        try:
            while True:
                if poll.terminated:
                    raise ApiError(409, _CONFLICT)
                if self.webhook is not None:
                    raise ApiError(409, WEBHOOK_CONFLICT)
                batch = self._deliverable(limit)
                remaining = deadline - self.clock()
                if batch or self.closed or remaining <= 0:
                    for update in batch:
                        self._remember_delivered(update)
                    return batch
                await self._updates_changed.wait(remaining)
        finally:
            if self._pollers.get(token) is poll:
                del self._pollers[token]

    def redeliver(self, update_id: int) -> dict[str, Any]:
        """Hand an already delivered update to the bot again, with the same ``update_id``.

        This is what Telegram does when the bot's answer was lost (a webhook timeout, a crash
        before the next getUpdates confirmed it): the bot must handle it only once.
        """
        if any(update["update_id"] == update_id for update in self.updates):
            raise ControlError(409, f"update {update_id} is still waiting to be delivered")
        update = self.delivered.get(update_id)
        if update is None:
            raise ControlError(404, f"update {update_id} was never delivered (or is forgotten)")
        position = next(
            (i for i, pending in enumerate(self.updates) if pending["update_id"] > update_id),
            len(self.updates),
        )
        # In id order: a poller's next offset then covers the newer updates too.
        self.updates.insert(position, update)
        self._sticky.add(update_id)
        self.webhook_stats.redeliveries += 1
        self._updates_changed.notify()
        return update

    # Webhook ----------------------------------------------------------------------------------

    def set_webhook(self, webhook: Webhook, *, drop_pending_updates: bool) -> None:
        self.webhook = webhook
        self.set_allowed_updates(webhook.allowed_updates)
        if drop_pending_updates:
            self.drop_pending_updates()
        for delivery in self.deliveries.values():
            delivery.failures, delivery.retry_at = 0, 0.0
        # Held getUpdates calls end with 409, and the delivery loop starts at once.
        self._updates_changed.notify()

    def delete_webhook(self, *, drop_pending_updates: bool) -> bool:
        """Remove the webhook; False when there was none (Telegram: "already deleted")."""
        existed = self.webhook is not None
        self.webhook = None
        if drop_pending_updates:
            self.drop_pending_updates()
        self._updates_changed.notify()
        return existed

    def webhook_info(self) -> dict[str, Any]:
        pending = len(self._deliverable())
        if self.webhook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
        return self.webhook.to_info(pending)

    def due_deliveries(self) -> tuple[list[tuple[Hashable, dict[str, Any]]], float | None]:
        """The updates to POST now, and when to look again for a chat waiting to retry.

        One update per chat at a time, in update_id order; at most ``max_connections`` in
        flight overall.
        """
        webhook = self.webhook
        if webhook is None or self.closed:
            return [], None
        now = self.clock()
        in_flight = sum(1 for item in self.deliveries.values() if item.in_flight is not None)
        due: list[tuple[Hashable, dict[str, Any]]] = []
        seen: set[Hashable] = set()
        wake: float | None = None
        for update in self._deliverable():
            key = delivery_key(update)
            if key in seen:
                continue
            seen.add(key)
            delivery = self.deliveries.get(key)
            if delivery is not None and delivery.in_flight is not None:
                continue
            if delivery is not None and delivery.retry_at > now:
                wake = delivery.retry_at if wake is None else min(wake, delivery.retry_at)
                continue
            if in_flight + len(due) >= webhook.max_connections:
                break
            due.append((key, update))
        for key, update in due:
            self.deliveries.setdefault(key, _ChatDelivery()).in_flight = update["update_id"]
        self.webhook_stats.peak_in_flight = max(
            self.webhook_stats.peak_in_flight, in_flight + len(due)
        )
        return due, wake

    def delivery_succeeded(self, key: Hashable, update: dict[str, Any], status: int) -> None:
        """A 2xx came back: Telegram never sends this update again."""
        update_id = update["update_id"]
        self.updates = [pending for pending in self.updates if pending["update_id"] != update_id]
        self._remember_delivered(update)
        self.deliveries.pop(key, None)
        self.webhook_stats.deliveries += 1
        self._record_attempt(key, update_id, status, None)
        self._updates_changed.notify()

    def delivery_failed(
        self, key: Hashable, update: dict[str, Any], status: int | None, error: str
    ) -> float:
        """The update stays pending; the chat waits a capped exponential backoff. Returns it."""
        delivery = self.deliveries.setdefault(key, _ChatDelivery())
        delivery.in_flight = None
        delivery.failures += 1
        config = self.config
        delay = min(
            config.webhook_retry_initial * 2 ** (delivery.failures - 1), config.webhook_retry_max
        )
        delivery.retry_at = self.clock() + delay
        if self.webhook is not None:
            self.webhook.last_error_date = self.now()
            self.webhook.last_error_message = error
        self.webhook_stats.failures += 1
        self._record_attempt(key, update["update_id"], status, error)
        self._updates_changed.notify()
        return delay

    def _record_attempt(
        self, key: Hashable, update_id: int, status: int | None, error: str | None
    ) -> None:
        self.webhook_stats.attempts.append(
            {
                "update_id": update_id,
                "chat": key if isinstance(key, int) else None,
                "status": status,
                "error": error,
                "date": self.now(),
            }
        )

    def webhook_json(self) -> dict[str, Any]:
        """``GET /sandbox/webhook``: getWebhookInfo plus delivery state and counters."""
        webhook = self.webhook
        in_flight = {
            str(key): item.in_flight
            for key, item in self.deliveries.items()
            if item.in_flight is not None
        }
        now = self.clock()
        retrying = {
            str(key): {"failures": item.failures, "retry_in": round(item.retry_at - now, 3)}
            for key, item in self.deliveries.items()
            if item.failures and item.in_flight is None
        }
        return {
            "active": webhook is not None,
            "info": self.webhook_info(),
            "secret_token_set": bool(webhook and webhook.secret_token),
            "in_flight": in_flight,
            "retrying": retrying,
            "stats": self.webhook_stats.to_json(),
            "attempts": list(self.webhook_stats.attempts),
        }

    # Chat feed for the control API ------------------------------------------------------------

    def feed(
        self,
        chat_id: int,
        *,
        origin: str,
        after: int | None,
        cursor: int | None,
        include_user: bool,
    ) -> dict[str, Any]:
        """Messages of a chat for the control API; see ``README.md`` for the JSON shape."""
        chat = self.chat(chat_id)
        # A cursor from before a reset is ahead of the chat: answer the whole chat again and
        # say so, so a client redraws instead of waiting for the old number to come back.
        stale = cursor is not None and cursor > chat.seq
        if stale:
            cursor = 0

        def wanted(message: StoredMessage) -> bool:
            if message.deleted or not (message.from_bot or include_user):
                return False
            if after is not None and message.message_id <= after:
                return False
            return cursor is None or message.seq > cursor

        messages = sorted(
            (message for message in chat.messages.values() if wanted(message)),
            key=lambda message: message.message_id,
        )
        since = cursor
        active = chat.chat_action if chat.chat_action_until > self.clock() else None
        return {
            "chat_id": chat.id,
            "messages": [message.to_feed(origin) for message in messages],
            "deleted": [
                message_id
                for seq, message_id in chat.deletions
                if since is not None and seq > since
            ],
            "toasts": [
                toast for toast in chat.toasts if since is not None and toast["seq"] > since
            ],
            "cursor": chat.seq,
            "last_message_id": chat.next_message_id - 1,
            "chat_action": active,
            "reply_keyboard": chat.reply_keyboard,
            "menu_button": self.menu_button(chat.id),
            "blocked": chat.blocked,
            "reset": stale,
        }

    async def wait_feed(
        self,
        chat_id: int,
        *,
        origin: str,
        after: int | None,
        cursor: int | None,
        include_user: bool,
        wait: float,
    ) -> dict[str, Any]:
        """:meth:`feed`, held until there is something to show or ``wait`` seconds pass.

        In cursor mode any change of the chat ends the wait (an edit, a deletion, a toast,
        "typing…"); with only ``after`` the wait ends when a newer message exists.
        """
        deadline = self.clock() + wait
        while True:
            result = self.feed(
                chat_id, origin=origin, after=after, cursor=cursor, include_user=include_user
            )
            if cursor is not None:
                changed = result["reset"] or result["cursor"] > cursor
            else:
                changed = bool(result["messages"])
            remaining = deadline - self.clock()
            if changed or self.closed or remaining <= 0:
                return result
            # Looked up again each round: a reset replaces the chat objects.
            await self.chat(chat_id).changes.wait(remaining)

    # Files ------------------------------------------------------------------------------------

    def store_photo(self, data: bytes) -> StoredFile | None:
        """Store an image as a photo, sized; None when it is not a PNG/JPEG/GIF/WebP."""
        size = image_size(data)
        if size is None:
            return None
        return self.store_file(
            data, "photo", mime_type=image_mime_type(data), width=size[0], height=size[1]
        )

    def store_file(self, data: bytes, kind: str, **meta: Any) -> StoredFile:
        number = self._next_file_number
        self._next_file_number += 1
        extension = _extension(kind, meta.get("file_name"))
        stored = StoredFile(
            file_id=_FILE_PREFIXES[kind] + secrets.token_urlsafe(24),
            file_unique_id="AgAD" + secrets.token_urlsafe(9),
            file_path=f"{_FILE_FOLDERS[kind]}/file_{number}{extension}",
            kind=kind,
            data=data,
            **meta,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # Commands ---------------------------------------------------------------------------------

    def effective_commands(self, chat_id: int, language_code: str | None) -> list[dict[str, Any]]:
        """The command menu a person sees, by Telegram's scope precedence."""
        for scope in (f"chat:{chat_id}", "all_private_chats", "default"):
            for language in (language_code or "", ""):
                commands = self.commands.get((scope, language))
                if commands:
                    return commands
        return []

    # Faults and maintenance -------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            self.stats.faults_injected += 1
            return fault
        return None

    def reset(self, *, chats: bool = False) -> None:
        """Clear stats, faults and rate-limit buckets; with ``chats`` also people and updates."""
        self.stats = Stats()
        self.webhook_stats = WebhookStats()
        self.faults.clear()
        self.limiter.reset()
        if chats:
            self.users.clear()
            self.callbacks.clear()
            self.drop_pending_updates()
            self.delivered.clear()
            for chat in self.chats.values():
                chat.changes.notify()
            self.chats.clear()

    def close(self) -> None:
        """Release every long poll so the server can stop at once."""
        self.closed = True
        self._updates_changed.notify()
        for chat in self.chats.values():
            chat.changes.notify()

    def snapshot_stats(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "calls": dict(stats.calls),
            "errors": dict(stats.errors),
            "errors_by_method": {
                method: dict(codes) for method, codes in stats.errors_by_method.items()
            },
            "rate_limited": stats.rate_limited,
            "faults_injected": stats.faults_injected,
            "messages_sent": stats.messages_sent,
            "updates_queued": stats.updates_queued,
            "updates_pending": len(self.updates),
            "webhook": self.webhook_stats.to_json(),
            "polls_by_bot": dict(stats.polls_by_bot),
            "callback_answers": list(stats.callback_answers),
            "faults": [fault.to_json() for fault in self.faults],
            "commands": self.commands_json(),
        }

    def commands_json(self) -> list[dict[str, Any]]:
        return [
            {"scope": scope, "language_code": language, "commands": commands}
            for (scope, language), commands in sorted(self.commands.items())
        ]


def command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities, as Telegram adds them to a person's message."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_length(text[: match.start()]),
            "length": utf16_length(match.group(0)),
        }
        for match in _COMMAND.finditer(text)
    ]


def delivery_key(update: Mapping[str, Any]) -> Hashable:
    """The chat an update belongs to; webhook delivery runs one update per chat at a time."""
    payload = update[_kind(update)]
    if isinstance(payload, Mapping):
        for holder in (payload, payload.get("message")):
            if isinstance(holder, Mapping) and isinstance(holder.get("chat"), Mapping):
                return int(holder["chat"]["id"])
        sender = payload.get("from")
        if isinstance(sender, Mapping) and "id" in sender:
            return int(sender["id"])
    return ("update", update["update_id"])


def _allowed(kind: str, allowed: frozenset[str] | None) -> bool:
    return kind not in _OPT_IN_UPDATES if allowed is None else kind in allowed


def _kind(update: Mapping[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


def _callback_data(markup: Mapping[str, Any] | None) -> set[str]:
    if not markup:
        return set()
    return {
        button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    }


def _web_app_keyboard_buttons(markup: Mapping[str, Any] | None) -> set[str]:
    if not markup:
        return set()
    return {
        button["text"]
        for row in markup.get("keyboard", [])
        for button in row
        if isinstance(button, Mapping) and "web_app" in button
    }


def _user_object(user_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": str(fields.get("first_name") or f"User {user_id}"),
    }
    for key in ("last_name", "username", "language_code"):
        if fields.get(key):
            user[key] = str(fields[key])
    return user


def _normalise_identity(raw: Mapping[str, Any]) -> dict[str, Any]:
    person: dict[str, Any] = {
        "id": int(raw["id"]),
        "first_name": str(raw.get("first_name") or f"User {raw['id']}"),
        "role": str(raw.get("role") or "user"),
    }
    for key in ("last_name", "username", "language_code"):
        if raw.get(key):
            person[key] = str(raw[key])
    return person


def _extension(kind: str, file_name: str | None) -> str:
    if kind == "photo":
        return ".jpg"
    if kind == "voice":
        return ".oga"
    if file_name and "." in file_name:
        suffix = file_name.rsplit(".", 1)[1]
        if re.fullmatch(r"[A-Za-z0-9]{1,10}", suffix):
            return "." + suffix.lower()
    return ""
