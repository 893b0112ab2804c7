"""The Bot API half of the sandbox: ``/bot{token}/{method}`` and ``/file/bot{token}/{path}``.

Requests are parsed the way Telegram parses them (query string, JSON, form or multipart, with
objects such as ``reply_markup`` as JSON strings) and answered with Telegram's envelopes and
error texts, so aiogram's own session raises the same exceptions it would in production.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from sandbox.config import LimitsConfig
from sandbox.errors import (
    ApiError,
    bad_request,
    blocked_by_user,
    not_found,
    too_many_requests,
    unauthorized,
)
from sandbox.limits import check_inline_keyboard, check_text_length, check_web_app_url
from sandbox.media import guess_mime_type
from sandbox.state import (
    Chat,
    Content,
    Fault,
    SandboxState,
    StoredFile,
    StoredMessage,
    Webhook,
)
from sandbox.telegram_html import EntityParseError, parse_html

logger = logging.getLogger(__name__)

TOKEN_PATTERN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,100}$")
STATE_KEY: web.AppKey[SandboxState] = web.AppKey("sandbox_state", SandboxState)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_UNCHANGED: Any = object()


@dataclass
class Upload:
    data: bytes
    file_name: str | None
    content_type: str | None


class Params:
    """Parameters of one Bot API call, whatever encoding the client chose."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as error:
                    raise bad_request("can't parse JSON") from error
                if not isinstance(body, dict):
                    raise bad_request("JSON object expected")
                values.update(body)
            else:
                form: MultiDictProxy[Any] = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = Upload(
                            data=value.file.read(),
                            file_name=value.filename,
                            content_type=value.content_type,
                        )
                    else:
                        values[key] = value
        return cls(values, uploads)

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value == "" else value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad_request(f"wrong parameter {name} in request")
        try:
            return int(value)
        except (TypeError, ValueError) as error:
            raise bad_request(f"wrong parameter {name} in request") from error

    def number(self, name: str, default: float) -> float:
        value = self.raw(name)
        try:
            return default if value is None else float(value)
        except (TypeError, ValueError) as error:
            raise bad_request(f"wrong parameter {name} in request") from error

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1", "yes"}
        return bool(value)

    def json(self, name: str, error: str) -> Any:
        value = self.raw(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise bad_request(error) from exc
        return value

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file (a multipart part or ``attach://name``) or a file_id string."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.text(name)
        if value is not None and value.startswith("attach://"):
            attached = self.uploads.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"wrong HTTP URL specified: {name} is not attached")
            return attached
        return value


@dataclass
class Call:
    """One Bot API call being answered."""

    state: SandboxState
    params: Params
    token: str
    bot: dict[str, Any]

    @property
    def limits(self) -> LimitsConfig:
        return self.state.config.limits

    async def chat(self) -> Chat:
        value = self.params.raw("chat_id")
        if value is None:
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError) as error:
            # "@username" addresses channels and groups only; the sandbox has private chats.
            raise bad_request("chat not found") from error
        chat = await self.state.chat_for_bot(chat_id)
        if chat.blocked:
            raise blocked_by_user()
        return chat

    def content(self, name: str, *, caption: bool) -> Content | None:
        source = self.params.text(name)
        parse_mode = self.params.text("parse_mode")
        if source is None:
            if caption:
                return None
            raise bad_request("message text is empty")
        entities: list[dict[str, Any]] = []
        if parse_mode is None:
            plain = source
        elif parse_mode.lower() == "html":
            try:
                plain, entities = parse_html(source)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from error
            parse_mode = "HTML"
        elif parse_mode.lower() in {"markdown", "markdownv2"}:
            # The sandbox renders Markdown as plain text; only HTML is parsed into entities.
            plain = source
        else:
            raise bad_request(f"unsupported parse_mode {parse_mode!r}")
        if not plain.strip():
            if caption:
                return None
            raise bad_request("message text is empty")
        check_text_length(plain, self.limits, caption=caption)
        return Content(source=source, plain=plain, entities=entities, parse_mode=parse_mode)

    def markup(self, *, inline_only: bool) -> tuple[dict[str, Any] | None, Any]:
        """The inline keyboard and the new reply keyboard (``_UNCHANGED`` when not touched)."""
        markup = self.params.json("reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None, _UNCHANGED
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        # Clients that serialise every field send nulls; Telegram reads them as absent.
        markup = _without_nulls(markup)
        if "inline_keyboard" in markup:
            check_inline_keyboard(markup, self.limits)
            return markup, _UNCHANGED
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in markup:
            return None, _reply_keyboard(markup)
        if markup.get("remove_keyboard"):
            return None, None
        if markup.get("force_reply"):
            return None, _UNCHANGED
        raise bad_request("can't parse reply keyboard markup JSON object")

    def reply_to(self, chat: Chat) -> StoredMessage | None:
        parameters = self.params.json("reply_parameters", "can't parse reply parameters JSON")
        if isinstance(parameters, dict):
            message_id = parameters.get("message_id")
            tolerant = bool(parameters.get("allow_sending_without_reply"))
        else:
            message_id = self.params.integer("reply_to_message_id")
            tolerant = self.params.flag("allow_sending_without_reply")
        if message_id is None:
            return None
        try:
            message = chat.live_message(int(message_id))
        except (TypeError, ValueError) as error:
            raise bad_request("message to be replied not found") from error
        if message is None and not tolerant:
            raise bad_request("message to be replied not found")
        return message

    def editable(self, chat: Chat) -> StoredMessage:
        if self.params.raw("inline_message_id") is not None:
            raise bad_request("inline messages are not supported by the sandbox")
        message = chat.live_message(self.message_id())
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def message_id(self) -> int:
        message_id = self.params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        return message_id

    def stored_file(self, name: str, kind: str) -> StoredFile:
        given = self.params.file(name)
        if given is None:
            raise bad_request(f"there is no {name} in the request")
        if isinstance(given, Upload):
            return self._store_upload(given, kind)
        if given.startswith(("http://", "https://")):
            # Telegram would fetch the URL itself; the sandbox has no network.
            raise bad_request("failed to get HTTP URL content")
        stored = self.state.files.get(given)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    def _store_upload(self, upload: Upload, kind: str) -> StoredFile:
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > self.state.config.max_upload_bytes:
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo":
            photo = self.state.store_photo(upload.data)
            if photo is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            return photo
        return self.state.store_file(
            upload.data,
            kind,
            file_name=upload.file_name,
            mime_type=guess_mime_type(upload.file_name, upload.content_type),
        )

    def rate_limit(self, chat: Chat, *, edit: bool = False) -> None:
        if edit and not self.limits.count_edits:
            return
        self.state.limiter.acquire(chat.id, count_global=not edit)


Handler = Callable[[Call], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}
# Telegram's method names are case-insensitive; stats use the canonical spelling.
CANONICAL: dict[str, str] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        CANONICAL[name.lower()] = name
        return handler

    return register


@method("getMe")
async def get_me(call: Call) -> dict[str, Any]:
    return {
        **call.bot,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("getUpdates")
async def get_updates(call: Call) -> list[dict[str, Any]]:
    params = call.params
    allowed = params.json("allowed_updates", "can't parse allowed updates JSON")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed updates JSON")
    limit = min(max(params.integer("limit") or 100, 1), 100)
    timeout = min(max(params.number("timeout", 0.0), 0.0), call.state.config.max_poll_timeout)
    return await call.state.get_updates(
        call.token,
        offset=params.integer("offset"),
        limit=limit,
        hold=timeout,
        allowed_updates=allowed,
    )


@dataclass(frozen=True)
class Described:
    """A result answered with Telegram's optional ``description`` ("Webhook was set")."""

    result: Any
    description: str


_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@method("setWebhook")
async def set_webhook(call: Call) -> Described:
    params = call.params
    url = (params.text("url") or "").strip()
    drop = params.flag("drop_pending_updates")
    if not url:
        # Telegram: "Use an empty string to remove webhook integration".
        existed = call.state.delete_webhook(drop_pending_updates=drop)
        return Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")
    _check_webhook_url(url)
    secret = params.text("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections")
    allowed = params.json("allowed_updates", "can't parse allowed updates JSON")
    if allowed is not None and (
        not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed)
    ):
        raise bad_request("can't parse allowed updates JSON")
    previous = call.state.webhook
    webhook = Webhook(
        url=url,
        token=call.token,
        secret_token=secret,
        # Telegram takes 1-100 and quietly clamps anything else.
        max_connections=min(max(max_connections or 40, 1), 100),
        allowed_updates=allowed if allowed is not None else None,
        has_custom_certificate=params.file("certificate") is not None,
        ip_address=params.text("ip_address"),
    )
    if previous is not None and previous.url == url:
        # The same URL keeps its delivery history, as Telegram keeps last_error_*.
        webhook.last_error_date = previous.last_error_date
        webhook.last_error_message = previous.last_error_message
        if allowed is None:
            webhook.allowed_updates = previous.allowed_updates
    call.state.set_webhook(webhook, drop_pending_updates=drop)
    same = previous is not None and previous.url == url
    return Described(True, "Webhook is already set" if same else "Webhook was set")


def _check_webhook_url(url: str) -> None:
    """Telegram's checks, except HTTPS and its four ports: the sandbox lives on loopback."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        raise bad_request("bad webhook: An HTTP or HTTPS URL must be provided for webhook")
    try:
        port = parts.port
    except ValueError as error:
        raise bad_request("bad webhook: Invalid port specified") from error
    if not parts.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if port == 0:
        raise bad_request("bad webhook: Invalid port specified")


@method("deleteWebhook")
async def delete_webhook(call: Call) -> Described:
    drop = call.params.flag("drop_pending_updates")
    existed = call.state.delete_webhook(drop_pending_updates=drop)
    return Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> dict[str, Any]:
    return call.state.webhook_info()


@method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> bool:
    chat_id = await _menu_chat_id(call)
    button = call.params.json("menu_button", "can't parse menu button JSON object")
    if button is None:
        button = {"type": "default"}
    if not isinstance(button, dict):
        raise bad_request("can't parse menu button JSON object")
    button = _without_nulls(button)
    kind = button.get("type")
    if kind in {"default", "commands"}:
        call.state.set_menu_button(chat_id, {"type": kind})
        return True
    if kind != "web_app":
        raise bad_request("unsupported menu button type")
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("menu button text must be non-empty")
    web_app = button.get("web_app")
    url = web_app.get("url") if isinstance(web_app, dict) else None
    check_web_app_url(url, "menu button")
    call.state.set_menu_button(chat_id, {"type": "web_app", "text": text, "web_app": {"url": url}})
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> dict[str, Any]:
    return call.state.menu_button(await _menu_chat_id(call))


async def _menu_chat_id(call: Call) -> int | None:
    if call.params.raw("chat_id") is None:
        return None
    return (await call.chat()).id


@method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    commands = call.params.json("commands", "can't parse commands JSON object")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands")
    cleaned = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand")
        name = str(command.get("command", "")).removeprefix("/")
        description = str(command.get("description", ""))
        if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": name, "description": description})
    key = _scope_key(call)
    if cleaned:
        call.state.commands[key] = cleaned
    else:
        call.state.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> list[dict[str, Any]]:
    return call.state.commands.get(_scope_key(call), [])


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    call.state.commands.pop(_scope_key(call), None)
    return True


@method("sendMessage")
async def send_message(call: Call) -> dict[str, Any]:
    chat = await call.chat()
    text = call.content("text", caption=False)
    inline, keyboard = call.markup(inline_only=False)
    reply_to = call.reply_to(chat)
    call.rate_limit(chat)
    message = call.state.add_message(
        chat, call.bot, from_bot=True, text=text, reply_markup=inline, reply_to=reply_to
    )
    return _sent(call, chat, message, keyboard)


async def _send_media(call: Call, kind: str) -> dict[str, Any]:
    """sendPhoto, sendDocument, sendVoice: one stored file (`kind`) with an optional caption."""
    chat = await call.chat()
    caption = call.content("caption", caption=True)
    inline, keyboard = call.markup(inline_only=False)
    reply_to = call.reply_to(chat)
    media = {kind: call.stored_file(kind, kind)}
    call.rate_limit(chat)
    message = call.state.add_message(
        chat,
        call.bot,
        from_bot=True,
        caption=caption,
        reply_markup=inline,
        reply_to=reply_to,
        **media,
    )
    return _sent(call, chat, message, keyboard)


@method("sendPhoto")
async def send_photo(call: Call) -> dict[str, Any]:
    return await _send_media(call, "photo")


@method("sendDocument")
async def send_document(call: Call) -> dict[str, Any]:
    return await _send_media(call, "document")


@method("sendVoice")
async def send_voice(call: Call) -> dict[str, Any]:
    return await _send_media(call, "voice")


@method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    chat = await call.chat()
    action = call.params.text("action")
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    call.state.set_chat_action(chat, action)
    return True


@method("editMessageText")
async def edit_message_text(call: Call) -> dict[str, Any]:
    chat = await call.chat()
    message = call.editable(chat)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text = call.content("text", caption=False)
    inline, _ = call.markup(inline_only=True)
    # Telegram compares what a person would see: same text, entities and keyboard is no edit.
    if text is not None and text.same_as(message.text) and inline == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    call.rate_limit(chat, edit=True)
    message.text = text
    message.reply_markup = inline
    return _edited(call, chat, message)


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> dict[str, Any]:
    chat = await call.chat()
    message = call.editable(chat)
    if message.photo is None and message.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption = call.content("caption", caption=True)
    inline, _ = call.markup(inline_only=True)
    same_caption = (caption is None and message.caption is None) or (
        caption is not None and caption.same_as(message.caption)
    )
    if same_caption and inline == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    call.rate_limit(chat, edit=True)
    message.caption = caption
    message.reply_markup = inline
    return _edited(call, chat, message)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    chat = await call.chat()
    message = call.editable(chat)
    inline, _ = call.markup(inline_only=True)
    if inline == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    call.rate_limit(chat, edit=True)
    message.reply_markup = inline
    return _edited(call, chat, message)


@method("deleteMessage")
async def delete_message(call: Call) -> bool:
    value = call.params.raw("chat_id")
    if value is None:
        raise bad_request("chat_id is empty")
    try:
        chat = await call.state.chat_for_bot(int(value))
    except ValueError as error:
        raise bad_request("chat not found") from error
    message = chat.live_message(call.message_id())
    if message is None:
        raise bad_request("message to delete not found")
    call.state.delete_message(chat, message)
    return True


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    query_id = call.params.text("callback_query_id") or ""
    record = call.state.callbacks.get(query_id)
    if record is None or record.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = call.params.text("text")
    if text and call.limits.enabled and len(text) > call.limits.max_callback_answer_length:
        raise bad_request("MESSAGE_TOO_LONG")
    call.state.answer_callback(
        record,
        {
            "text": text,
            "show_alert": call.params.flag("show_alert"),
            "url": call.params.text("url"),
        },
    )
    return True


@method("getFile")
async def get_file(call: Call) -> dict[str, Any]:
    file_id = call.params.text("file_id") or ""
    stored = call.state.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > call.state.config.max_download_bytes:
        raise bad_request("file is too big")
    return stored.to_file()


async def _accepted(call: Call) -> bool:
    """Bot settings that change nothing a person sees in the sandbox."""
    return True


for _name in ("setMyDescription", "setMyShortDescription", "setMyName"):
    method(_name)(_accepted)

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _sent(call: Call, chat: Chat, message: StoredMessage, keyboard: Any) -> dict[str, Any]:
    if keyboard is not _UNCHANGED:
        chat.reply_keyboard = keyboard
    call.state.stats.messages_sent += 1
    return message.to_api(chat.to_api())


def _edited(call: Call, chat: Chat, message: StoredMessage) -> dict[str, Any]:
    call.state.edited(chat, message)
    return message.to_api(chat.to_api())


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _reply_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    rows = markup.get("keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    normalised = []
    for row in rows:
        buttons = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse keyboard button: Text must be non-empty")
            if "web_app" in button:
                web_app = button["web_app"]
                url = web_app.get("url") if isinstance(web_app, dict) else None
                check_web_app_url(url, "keyboard button")
            buttons.append(button)
        normalised.append(buttons)
    return {**markup, "keyboard": normalised}


def _scope_key(call: Call) -> tuple[str, str]:
    scope = call.params.json("scope", "can't parse BotCommandScope JSON object") or {}
    if not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(scope.get("type", "default"))
    parts = [kind]
    if kind in {"chat", "chat_administrators", "chat_member"}:
        parts.append(str(scope.get("chat_id")))
    if kind == "chat_member":
        parts.append(str(scope.get("user_id")))
    return ":".join(parts), call.params.text("language_code") or ""


def _fault_error(fault: Fault) -> ApiError:
    if fault.error == 429:
        return too_many_requests(fault.retry_after)
    if fault.error == 403 and not fault.description:
        return blocked_by_user()
    default = {400: "Bad Request", 500: "Internal Server Error", 502: "Bad Gateway"}
    description = fault.description or default.get(int(fault.error), "Error")
    return ApiError(int(fault.error), description)


async def run_method(state: SandboxState, token: str, name: str, params: Params) -> Any:
    """Answer one Bot API method; raises :class:`ApiError` as Telegram would answer."""
    handler = HANDLERS.get(name)
    if handler is None:
        raise not_found()
    bot = state.bot_for_token(token)
    return await handler(Call(state=state, params=params, token=token, bot=bot))


async def handle_method(request: web.Request) -> web.StreamResponse:
    """``/bot{token}/{method}``: one Bot API call."""
    state = request.app[STATE_KEY]
    token = request.match_info["token"]
    sent_name = request.match_info["method"]
    name = CANONICAL.get(sent_name.lower(), sent_name)
    state.stats.calls[name] += 1
    try:
        if not TOKEN_PATTERN.match(token):
            raise unauthorized()
        state.learn_token(token)
        params = await Params.from_request(request)
        chat_id = params.raw("chat_id")
        fault = state.take_fault(name, _int_or_none(chat_id))
        if fault is not None:
            if fault.error == "timeout":
                return await _drop_connection(request, min(fault.hold, state.config.max_fault_hold))
            raise _fault_error(fault)
        result = await run_method(state, token, name, params)
    except ApiError as error:
        state.stats.record_error(name, error.code)
        if error.code >= 500 or error.code == 404:
            logger.info("sandbox %s -> %s %s", name, error.code, error.description)
        return web.json_response(error.payload(), status=error.code)
    if isinstance(result, Described):
        return web.json_response(
            {"ok": True, "result": result.result, "description": result.description}
        )
    return web.json_response({"ok": True, "result": result})


async def run_method_from_webhook_answer(
    state: SandboxState, token: str, values: dict[str, Any], uploads: dict[str, Upload]
) -> None:
    """A method the bot put in its answer to a webhook POST; Telegram reports no result."""
    sent_name = str(values.pop("method", ""))
    name = CANONICAL.get(sent_name.lower(), sent_name)
    state.stats.calls[name] += 1
    state.webhook_stats.methods_in_responses += 1
    try:
        await run_method(state, token, name, Params(values, uploads))
    except ApiError as error:
        state.stats.record_error(name, error.code)
        logger.info("sandbox webhook answer %s -> %s %s", name, error.code, error.description)


async def handle_file(request: web.Request) -> web.StreamResponse:
    """``/file/bot{token}/{path}``: download a file found by getFile."""
    state = request.app[STATE_KEY]
    if not TOKEN_PATTERN.match(request.match_info["token"]):
        return web.json_response(unauthorized().payload(), status=401)
    stored = state.files_by_path.get(request.match_info["path"])
    if stored is None:
        return web.json_response(not_found().payload(), status=404)
    return web.Response(body=stored.data, content_type="application/octet-stream")


async def _drop_connection(request: web.Request, hold: float) -> web.StreamResponse:
    """Hold the request, then close the connection without an answer.

    The client sees either its own timeout (when shorter than ``hold``) or a dropped
    connection; both are how a request to Telegram "times out" in real life.
    """
    await asyncio.sleep(hold)
    transport = request.transport
    if transport is not None:
        transport.abort()
    # Writing this answer fails on the aborted transport, which aiohttp treats as a client that
    # went away: nothing reaches the client and nothing is logged as a server error.
    return web.Response(status=504)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
