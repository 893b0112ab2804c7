"""Invite roles and the errors people see about invites."""

from __future__ import annotations

import pytest

from services.db.models import Role
from services.errors import (
    AccessDenied,
    DomainError,
    InvalidInviteRole,
    InviteAlreadyUsed,
    InviteExpired,
    InviteNotFound,
)
from services.invites import CODE_BYTES, INVITABLE_ROLES, parse_invite_role
from ui.i18n import Translator


@pytest.mark.parametrize(
    ("typed", "role"), [("manager", Role.MANAGER), (" Head ", Role.HEAD), ("MANAGER", Role.MANAGER)]
)
def test_invitable_roles(typed: str, role: Role) -> None:
    assert parse_invite_role(typed) is role


@pytest.mark.parametrize("typed", ["admin", "boss", "", "менеджер"])
def test_other_roles_cannot_be_invited(typed: str) -> None:
    with pytest.raises(InvalidInviteRole) as raised:
        parse_invite_role(typed)
    assert raised.value.params == {"role": typed}


def test_admins_are_never_invited_by_link() -> None:
    assert Role.ADMIN not in INVITABLE_ROLES


def test_a_code_fits_a_start_parameter() -> None:
    # token_urlsafe(n) gives about 1.3 n characters; Telegram allows 64.
    assert CODE_BYTES * 4 // 3 + 2 <= 64


@pytest.mark.parametrize(
    "error",
    [
        InviteNotFound(),
        InviteExpired(),
        InviteAlreadyUsed(),
        InvalidInviteRole("boss"),
        AccessDenied("invite"),
    ],
)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_invite_errors_have_stable_codes_and_translations(
    error: DomainError, language: str
) -> None:
    tr = Translator(language)
    key = f"errors.{error.code}"

    assert tr.has(key)
    text = tr(key, **error.params)
    assert text != key and "{" not in text
    assert len(text) <= 200  # also shown as a button alert
