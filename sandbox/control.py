"""The control API under ``/sandbox/``: what people do, what the bot showed them, and faults.

The web chat and the end-to-end tests use only these endpoints; ``README.md`` documents the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from aiohttp import web

from sandbox import webapp
from sandbox.bot_api import CANONICAL, STATE_KEY
from sandbox.errors import ApiError, ControlError
from sandbox.limits import check_web_app_url
from sandbox.media import guess_mime_type
from sandbox.state import Content, Fault, SandboxState, StoredMessage, command_entities

_PROFILE_FIELDS = ("first_name", "last_name", "username", "language_code")
_FAULT_ERRORS = {400, 403, 409, 429, 500, 502, 503, "timeout"}
_MAX_WAIT = 60.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer control API mistakes as ``{"error": ...}`` instead of an HTML error page."""
    try:
        return await handler(request)
    except ControlError as error:
        return web.json_response({"error": error.message}, status=error.status)


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE_KEY]


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _user_id(request: web.Request) -> int:
    try:
        user_id = int(request.match_info["user_id"])
    except ValueError as error:
        raise ControlError(400, "user_id must be an integer") from error
    if user_id <= 0:
        raise ControlError(400, "user_id must be a positive integer")
    return user_id


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError as error:
        raise ControlError(400, "the body must be a JSON object") from error
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _query_int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as error:
        raise ControlError(400, f"{name} must be an integer") from error


def _created(request: web.Request, message: StoredMessage, update_id: int) -> web.Response:
    chat = _state(request).chat(message.chat_id)
    body = {
        **message.to_feed(_origin(request)),
        "chat_id": chat.id,
        "update_id": update_id,
        "cursor": chat.seq,
    }
    return web.json_response(body)


async def info(request: web.Request) -> web.Response:
    state = _state(request)
    config = state.config
    return web.json_response(
        {
            "bot": {
                "id": state.bot_user["id"] if state.bot_user else None,
                "username": config.bot_username,
                "first_name": config.bot_first_name,
            },
            "limits": asdict(config.limits),
            "strict_chats": config.strict_chats,
            "webhook": state.webhook is not None,
            "webapp_themes": webapp.THEMES,
        }
    )


async def list_users(request: web.Request) -> web.Response:
    state = _state(request)
    people = await state.identities()
    for person in people:
        chat = state.chats.get(person["id"])
        person["blocked"] = bool(chat and chat.blocked)
    return web.json_response({"users": people})


async def post_message(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    body = await _json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ControlError(400, "text must be a non-empty string")
    if len(text) > 4096:
        # Telegram apps split longer text into several messages before sending.
        raise ControlError(400, "text is longer than 4096 characters")
    state = _state(request)
    reply_to = None
    if body.get("reply_to_message_id") is not None:
        try:
            reply_to = state.chat(user_id).live_message(int(body["reply_to_message_id"]))
        except (TypeError, ValueError) as error:
            raise ControlError(400, "reply_to_message_id must be an integer") from error
    message, update_id = await state.add_user_message(
        user_id,
        {key: body.get(key) for key in _PROFILE_FIELDS},
        text=Content(source=text, plain=text, entities=command_entities(text)),
        reply_to=reply_to,
    )
    return _created(request, message, update_id)


async def get_messages(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    try:
        wait = min(max(float(request.query.get("wait") or 0), 0.0), _MAX_WAIT)
    except ValueError as error:
        raise ControlError(400, "wait must be a number of seconds") from error
    include_user = request.query.get("include_user", "").lower() in {"1", "true", "yes"}
    feed = await _state(request).wait_feed(
        user_id,
        origin=_origin(request),
        after=_query_int(request, "after"),
        cursor=_query_int(request, "cursor"),
        include_user=include_user,
        wait=wait,
    )
    return web.json_response(feed)


async def post_callback(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    body = await _json_body(request)
    data = body.get("data")
    message_id = body.get("message_id")
    if not isinstance(data, str) or not isinstance(message_id, int):
        raise ControlError(400, "message_id (int) and data (str) are required")
    state = _state(request)
    record, update_id = await state.press(user_id, message_id, data, force=bool(body.get("force")))
    chat = state.chat(user_id)
    return web.json_response(
        {
            "callback_query_id": record.id,
            "update_id": update_id,
            "chat_id": chat.id,
            "message_id": message_id,
            "cursor": chat.seq,
            "last_message_id": chat.next_message_id - 1,
        }
    )


async def get_callback(request: web.Request) -> web.Response:
    record = _state(request).callbacks.get(request.match_info["query_id"])
    if record is None:
        raise ControlError(404, "unknown callback query")
    return web.json_response(
        {
            "callback_query_id": record.id,
            "chat_id": record.chat_id,
            "message_id": record.message_id,
            "data": record.data,
            "answered": record.answer is not None,
            "answer": record.answer,
        }
    )


async def _upload(request: web.Request) -> tuple[bytes, str, str | None, dict[str, Any]]:
    if not request.content_type.startswith("multipart/"):
        raise ControlError(400, "send multipart/form-data with a 'file' part")
    form = await request.post()
    part = form.get("file")
    if not isinstance(part, web.FileField):
        raise ControlError(400, "a 'file' part is required")
    data = part.file.read()
    if not data:
        raise ControlError(400, "the file is empty")
    if len(data) > _state(request).config.max_upload_bytes:
        raise ControlError(413, "the file is too large")
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return data, part.filename or "file", part.content_type, fields


async def post_document(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    data, file_name, content_type, fields = await _upload(request)
    state = _state(request)
    stored = state.store_file(
        data,
        "document",
        file_name=file_name,
        mime_type=guess_mime_type(file_name, content_type),
    )
    caption_text = fields.get("caption") or None
    caption = Content(source=caption_text, plain=caption_text) if caption_text else None
    message, update_id = await state.add_user_message(
        user_id,
        {key: fields.get(key) for key in _PROFILE_FIELDS},
        document=stored,
        caption=caption,
    )
    return _created(request, message, update_id)


async def post_voice(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    data, _, content_type, fields = await _upload(request)
    try:
        duration = max(int(fields.get("duration") or 1), 1)
    except ValueError as error:
        raise ControlError(400, "duration must be an integer number of seconds") from error
    state = _state(request)
    stored = state.store_file(
        data, "voice", mime_type=content_type or "audio/ogg", duration=duration
    )
    message, update_id = await state.add_user_message(
        user_id, {key: fields.get(key) for key in _PROFILE_FIELDS}, voice=stored
    )
    return _created(request, message, update_id)


async def post_photo(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    data, _, _, fields = await _upload(request)
    state = _state(request)
    stored = state.store_photo(data)
    if stored is None:
        raise ControlError(400, "file must be a PNG, JPEG, GIF or WebP image")
    caption = fields.get("caption")
    message, update_id = await state.add_user_message(
        user_id,
        {key: fields.get(key) for key in _PROFILE_FIELDS},
        photo=stored,
        caption=Content(source=caption, plain=caption) if caption else None,
    )
    return _created(request, message, update_id)


async def post_block(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    body = await _json_body(request)
    wanted = body.get("blocked")
    if wanted is not None and not isinstance(wanted, bool):
        raise ControlError(400, "blocked must be true, false or absent (toggle)")
    blocked = _state(request).set_blocked(user_id, wanted)
    return web.json_response({"user_id": user_id, "blocked": blocked})


async def user_commands(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    state = _state(request)
    language = request.query.get("language_code") or (state.users.get(user_id) or {}).get(
        "language_code"
    )
    return web.json_response({"commands": state.effective_commands(user_id, language)})


async def all_commands(request: web.Request) -> web.Response:
    return web.json_response({"commands": _state(request).commands_json()})


async def post_fault(request: web.Request) -> web.Response:
    body = await _json_body(request)
    method = body.get("method")
    error: Any = body.get("error")
    if isinstance(error, str) and error.isdigit():
        error = int(error)
    if not isinstance(method, str) or not method:
        raise ControlError(400, 'method is required, e.g. "sendMessage"')
    if error not in _FAULT_ERRORS:
        raise ControlError(400, f"error must be one of {sorted(map(str, _FAULT_ERRORS))}")
    state = _state(request)
    try:
        fault = Fault(
            method=CANONICAL.get(method.lower(), method),
            error=error,
            times=int(body.get("times", 1)),
            retry_after=int(body.get("retry_after", 5)),
            hold=min(float(body.get("hold", 1.0)), state.config.max_fault_hold),
            description=body.get("description"),
            chat_id=None if body.get("chat_id") is None else int(body["chat_id"]),
        )
    except (TypeError, ValueError) as exc:
        raise ControlError(400, "times, retry_after, hold and chat_id must be numbers") from exc
    if fault.times < 1:
        raise ControlError(400, "times must be at least 1")
    state.add_fault(fault)
    return web.json_response({"faults": [item.to_json() for item in state.faults]})


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": [item.to_json() for item in _state(request).faults]})


async def delete_faults(request: web.Request) -> web.Response:
    _state(request).faults.clear()
    return web.json_response({"faults": []})


async def stats(request: web.Request) -> web.Response:
    return web.json_response(_state(request).snapshot_stats())


async def reset(request: web.Request) -> web.Response:
    body = await _json_body(request)
    _state(request).reset(chats=bool(body.get("chats")))
    return web.json_response({"ok": True})


async def get_webhook(request: web.Request) -> web.Response:
    return web.json_response(_state(request).webhook_json())


async def redeliver(request: web.Request) -> web.Response:
    try:
        update_id = int(request.match_info["update_id"])
    except ValueError as error:
        raise ControlError(400, "update_id must be an integer") from error
    update = _state(request).redeliver(update_id)
    return web.json_response({"update_id": update_id, "update": update})


async def menu_button(request: web.Request) -> web.Response:
    return web.json_response(_state(request).menu_button(_user_id(request)))


async def webapp_init_data(request: web.Request) -> web.Response:
    """A correctly signed ``initData`` for this person, as if they opened a Mini App."""
    user_id = _user_id(request)
    state = _state(request)
    query = request.query
    theme = query.get("theme") or "light"
    if theme not in webapp.THEMES:
        raise ControlError(400, f"theme must be one of {sorted(webapp.THEMES)}")
    source = query.get("source") or "menu"
    if source not in {"inline", "menu", "keyboard"}:
        raise ControlError(400, "source must be inline, menu or keyboard")
    url = query.get("url")
    if url:
        try:
            check_web_app_url(url, "Mini App")
        except ApiError as error:
            raise ControlError(400, error.description.removeprefix("Bad Request: ")) from error
    token = state.bot_token(_query_int(request, "bot_id"))
    auth_date = _query_int(request, "auth_date")
    user = await state.person(user_id)
    # Telegram gives a query_id (for answerWebAppQuery) to inline and menu buttons only.
    query_id = webapp.new_query_id() if source != "keyboard" else None
    fields = webapp.init_data_fields(
        user,
        token,
        auth_date=state.now() if auth_date is None else auth_date,
        query_id=query_id,
        start_param=query.get("start_param") or None,
    )
    init_data = webapp.encode_init_data(fields)
    return web.json_response(
        {
            "init_data": init_data,
            "fields": fields,
            "user": json.loads(fields["user"]),
            "bot_id": int(token.split(":", 1)[0]),
            "theme_params": webapp.THEMES[theme],
            "launch_url": webapp.launch_url(url, init_data, theme) if url else None,
        }
    )


async def post_web_app_data(request: web.Request) -> web.Response:
    """``Telegram.WebApp.sendData`` from a Mini App opened by a reply keyboard button."""
    user_id = _user_id(request)
    body = await _json_body(request)
    data, button_text = body.get("data"), body.get("button_text")
    if not isinstance(data, str) or not isinstance(button_text, str) or not button_text:
        raise ControlError(400, "data (str) and button_text (str) are required")
    if not 1 <= len(data.encode("utf-8")) <= 4096:
        # Telegram.WebApp.sendData refuses empty data and more than 4096 bytes.
        raise ControlError(400, "data must be 1-4096 bytes")
    message, update_id = await _state(request).add_web_app_data(
        user_id, data, button_text, force=bool(body.get("force"))
    )
    return _created(request, message, update_id)


async def download(request: web.Request) -> web.StreamResponse:
    stored = _state(request).files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "unknown file")
    headers = {"Cache-Control": "private, max-age=3600"}
    if stored.kind == "document":
        name = (stored.file_name or "file").replace('"', "")
        # filename* carries non-ASCII names (Cyrillic file names are common for this team).
        headers["Content-Disposition"] = (
            f'attachment; filename="{name.encode("ascii", "replace").decode()}"; '
            f"filename*=UTF-8''{quote(name)}"
        )
    content_type = stored.mime_type or "application/octet-stream"
    return web.Response(body=stored.data, content_type=content_type, headers=headers)


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/sandbox/info", info)
    router.add_get("/sandbox/users", list_users)
    router.add_post("/sandbox/users/{user_id}/messages", post_message)
    router.add_get("/sandbox/users/{user_id}/messages", get_messages)
    router.add_post("/sandbox/users/{user_id}/callbacks", post_callback)
    router.add_post("/sandbox/users/{user_id}/documents", post_document)
    router.add_post("/sandbox/users/{user_id}/voice", post_voice)
    router.add_post("/sandbox/users/{user_id}/photos", post_photo)
    router.add_post("/sandbox/users/{user_id}/block", post_block)
    router.add_get("/sandbox/users/{user_id}/commands", user_commands)
    router.add_get("/sandbox/callbacks/{query_id}", get_callback)
    router.add_get("/sandbox/commands", all_commands)
    router.add_post("/sandbox/faults", post_fault)
    router.add_get("/sandbox/faults", get_faults)
    router.add_delete("/sandbox/faults", delete_faults)
    router.add_get("/sandbox/stats", stats)
    router.add_post("/sandbox/reset", reset)
    router.add_get("/sandbox/files/{file_id}", download)
    router.add_get("/sandbox/webhook", get_webhook)
    router.add_post("/sandbox/updates/{update_id}/redeliver", redeliver)
    router.add_get("/sandbox/users/{user_id}/menu_button", menu_button)
    router.add_get("/sandbox/users/{user_id}/webapp_init_data", webapp_init_data)
    router.add_post("/sandbox/users/{user_id}/web_app_data", post_web_app_data)
