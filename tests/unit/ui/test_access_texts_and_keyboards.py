"""Texts, menus and keyboards of access, /users and /settings: complete, in limits, pure."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, time

import pytest

from services.db.models import Role
from services.user_settings import UserSettingsDTO
from services.users import ManagedUser, UserDTO, UsersPage
from ui.callbacks import CancelCb, InviteCb, SettingsAction, SettingsCb, UsersAction, UsersCb
from ui.i18n import LANGUAGES, Translator, catalog
from ui.keyboards.admin import (
    confirm_reassign_keyboard,
    invite_role_keyboard,
    users_page_keyboard,
)
from ui.keyboards.settings import (
    language_keyboard,
    mute_keyboard,
    push_time_keyboard,
    settings_menu_keyboard,
    timezone_keyboard,
    utc_offset,
)
from ui.menus import MENUS, command_names, commands_for
from ui.texts.admin import render_user_card, render_users_page
from ui.texts.greeting import greeting, help_text
from ui.texts.settings import render_settings

AREAS = ("access", "help", "settings", "admin", "menu")
MY_ERRORS = (
    "access_denied",
    "user_not_found",
    "cannot_change_self",
    "invalid_reassign_target",
    "invalid_invite_role",
    "invite_not_found",
    "invite_expired",
    "invite_used",
    "unknown_timezone",
    "invalid_push_time",
)
BIG_ID = 2**52


def _my_keys(language: str) -> dict[str, object]:
    return {
        key: value
        for key, value in catalog(language).items()
        if key.split(".")[0] in AREAS or key in {f"errors.{code}" for code in MY_ERRORS}
    }


def _placeholders(value: object) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {
        name
        for text in texts
        for _, name, _, _ in string.Formatter().parse(str(text))
        if name is not None
    }


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    ru, en = _my_keys("ru"), _my_keys("en")

    assert set(ru) == set(en)
    assert len(ru) > 80
    for key in ru:
        assert _placeholders(ru[key]) == _placeholders(en[key]), key


def test_plural_forms_are_complete() -> None:
    for language, forms in (("ru", {"one", "few", "many"}), ("en", {"one", "other"})):
        plurals = {k: v for k, v in _my_keys(language).items() if isinstance(v, dict)}
        assert plurals, language
        for key, value in plurals.items():
            assert set(value) == forms, (language, key)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1 сотрудник"),
        (3, "3 сотрудника"),
        (5, "5 сотрудников"),
        (11, "11 сотрудников"),
        (21, "21 сотрудник"),
        (104, "104 сотрудника"),
    ],
)
def test_russian_plurals(n: int, expected: str) -> None:
    assert Translator("ru").plural("admin.users_count", n) == expected


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", [*Role, None])
def test_menus_fit_telegram_rules(language: str, role: Role | None) -> None:
    commands = commands_for(role, language)

    assert [c.command for c in commands] == list(command_names(role))
    for command in commands:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
        assert 3 <= len(command.description) <= 256
        assert not command.description.startswith("menu.")


def test_only_heads_and_admins_get_team_commands() -> None:
    assert "users" not in MENUS[Role.MANAGER] and "invite" not in MENUS[Role.MANAGER]
    assert {"users", "invite"} <= set(MENUS[Role.HEAD]) & set(MENUS[Role.ADMIN])
    assert command_names(None) == ("start",)


def _user(role: Role = Role.MANAGER, name: str = "Анна <Смирнова>", **kw: object) -> UserDTO:
    values: dict[str, object] = dict(
        id=BIG_ID,
        telegram_id=BIG_ID,
        display_name=name,
        role=role,
        timezone=None,
        language=None,
        daily_call_plan=20,
        is_active=True,
    )
    values.update(kw)
    return UserDTO(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", list(Role))
def test_greeting_and_help_escape_names_and_fit(language: str, role: Role) -> None:
    tr = Translator(language)

    text = greeting(_user(role), tr)

    assert "Анна &lt;Смирнова&gt;" in text
    assert "/settings" in text
    assert len(help_text(role, tr)) < 4096
    assert ("/invite" in help_text(role, tr)) is (role is not Role.MANAGER)


def _page(count: int, page: int = 0) -> UsersPage:
    items = tuple(
        ManagedUser(
            user=_user(name="Я" * 200, is_active=number % 2 == 0),
            client_count=number * 1000,
            can_change_status=True,
            can_reassign=True,
        )
        for number in range(count)
    )
    return UsersPage(items=items, page=page, pages=page + 2, total=count * (page + 2), page_size=8)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_full_page_of_long_names_fits_a_message(language: str) -> None:
    tr = Translator(language)
    page = _page(8, page=3)

    text = render_users_page(page, tr)
    keyboard = users_page_keyboard(page)

    assert len(text) < 4096
    assert "25. " in text  # numbering continues across pages
    assert all(len(b.text) <= 42 for row in keyboard.inline_keyboard for b in row)
    assert [b.text for b in keyboard.inline_keyboard[-1]] == ["‹", "4/5", "›"]
    assert len(render_user_card(page.items[1], tr)) < 4096


def _all_callback_data() -> list[str]:
    tr = Translator("ru")
    dto = UserSettingsDTO(
        user_id=BIG_ID,
        language="ru",
        timezone=None,
        push_time=time(8),
        pushes_enabled=True,
        muted_until=None,
    )
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    keyboards = [
        settings_menu_keyboard(dto, tr),
        language_keyboard(tr),
        push_time_keyboard(tr),
        timezone_keyboard(now, tr),
        mute_keyboard(tr),
        invite_role_keyboard(tr),
        users_page_keyboard(_page(8, page=BIG_ID)),
        confirm_reassign_keyboard(BIG_ID, BIG_ID, BIG_ID, tr),
    ]
    data = [
        str(button.callback_data)
        for keyboard in keyboards
        for row in keyboard.inline_keyboard
        for button in row
    ]
    data += [
        UsersCb(
            action=UsersAction.REASSIGN_CONFIRM, user_id=BIG_ID, target_id=BIG_ID, page=BIG_ID
        ).pack(),
        CancelCb().pack(),
        InviteCb(role="manager").pack(),
    ]
    return data


def test_callback_data_stays_within_64_bytes() -> None:
    data = _all_callback_data()

    assert len(data) > 30
    assert all(len(item.encode()) <= 64 for item in data), max(data, key=len)


def test_settings_callbacks_round_trip() -> None:
    packed = SettingsCb(action=SettingsAction.SET_PUSH_TIME, value="0800").pack()

    assert SettingsCb.unpack(packed) == SettingsCb(action="T", value="0800")


def test_utc_offsets() -> None:
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

    assert utc_offset("Europe/Moscow", now) == "UTC+3"
    assert utc_offset("Asia/Kolkata", now) == "UTC+5:30"
    assert utc_offset("America/New_York", now) == "UTC-5"


@pytest.mark.parametrize("language", LANGUAGES)
def test_settings_summary_shows_defaults_and_a_pause_in_local_time(language: str) -> None:
    tr = Translator(language)
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    dto = UserSettingsDTO(
        user_id=1,
        language=None,
        timezone="Asia/Yekaterinburg",
        push_time=time(7, 5),
        pushes_enabled=True,
        muted_until=datetime(2026, 3, 2, 19, 0, tzinfo=UTC),
    )

    text = render_settings(dto, tr, language=language, default_timezone="Europe/Moscow", now=now)

    assert "07:05" in text
    assert "Asia/Yekaterinburg" in text
    # local midnight in Yekaterinburg, written the reader's way
    assert {"ru": "03.03.2026 00:00", "en": "3 Mar 2026 00:00"}[language] in text
