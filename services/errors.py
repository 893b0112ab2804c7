"""Domain errors: a business rule said no.

Services raise these; entry points turn them into replies. The bot's error
router looks up the translation `errors.<code>` with `params` as placeholders
and falls back to the English message (`str(error)`), which is also what the
command line prints. Add new errors here, each with its own `code`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every expected, user-facing failure."""

    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params: dict[str, Any] = params


class InvalidValue(DomainError):
    """A value given by a person (role, time zone, plan...) is not acceptable."""

    code = "invalid_value"

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"invalid {field} {value!r}: {reason}", field=field, value=value)
        self.field = field
        self.reason = reason


class UserAlreadyExists(DomainError):
    code = "user_already_exists"

    def __init__(self, telegram_id: int) -> None:
        super().__init__(
            f"a user with Telegram id {telegram_id} already exists", telegram_id=telegram_id
        )
        self.telegram_id = telegram_id


class DemoDataConflict(DomainError):
    """The demo cannot be loaded because real data holds what it needs."""

    code = "demo_data_conflict"

    def __init__(self, telegram_ids: list[int]) -> None:
        ids = ", ".join(str(i) for i in telegram_ids)
        super().__init__(
            f"Telegram ids reserved for the demo users are already taken: {ids}; "
            "remove those users or load the demo with --reset (it deletes them)",
            telegram_ids=ids,
        )
        self.telegram_ids = telegram_ids


class AccessDenied(DomainError):
    """The current user's role does not allow this action (also: forged button data)."""

    code = "access_denied"

    def __init__(self, action: str) -> None:
        super().__init__(f"not allowed: {action}", action=action)
        self.action = action


class UserNotFound(DomainError):
    code = "user_not_found"

    def __init__(self, user_id: int) -> None:
        super().__init__(f"no user with id {user_id}", user_id=user_id)
        self.user_id = user_id


class CannotChangeSelf(DomainError):
    """Deactivating yourself would lock the last admin out; someone else must do it."""

    code = "cannot_change_self"

    def __init__(self) -> None:
        super().__init__("you cannot deactivate yourself")


class InvalidReassignTarget(DomainError):
    """Clients can move only to another active manager."""

    code = "invalid_reassign_target"

    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} is not another active manager", user_id=user_id)
        self.user_id = user_id


class InvalidInviteRole(DomainError):
    code = "invalid_invite_role"

    def __init__(self, role: str) -> None:
        super().__init__(f"cannot invite role {role!r}: expected manager or head", role=role)
        self.role = role


class InviteNotFound(DomainError):
    code = "invite_not_found"

    def __init__(self) -> None:
        super().__init__("this invite link is not valid")


class InviteExpired(DomainError):
    code = "invite_expired"

    def __init__(self) -> None:
        super().__init__("this invite link has expired")


class InviteAlreadyUsed(DomainError):
    code = "invite_used"

    def __init__(self) -> None:
        super().__init__("this invite link has already been used")


class UnknownTimezone(DomainError):
    code = "unknown_timezone"

    def __init__(self, value: str) -> None:
        super().__init__(f"unknown time zone {value!r} (e.g. Europe/Moscow)", value=value)
        self.value = value


class InvalidPushTime(DomainError):
    code = "invalid_push_time"

    def __init__(self, value: str) -> None:
        super().__init__(f"invalid time {value!r}: expected HH:MM, e.g. 09:30", value=value)
        self.value = value


# --- Clients, call logging and lists (the manager's bot) ---


class ClientNotFound(DomainError):
    code = "client_not_found"

    def __init__(self, client_id: int) -> None:
        super().__init__(f"no client with id {client_id}", client_id=client_id)
        self.client_id = client_id


class InteractionNotFound(DomainError):
    code = "interaction_not_found"

    def __init__(self, interaction_id: int) -> None:
        super().__init__(
            f"no logged contact with id {interaction_id}", interaction_id=interaction_id
        )
        self.interaction_id = interaction_id


class UndoExpired(DomainError):
    """A logged call can be undone only for a short while after it was saved."""

    code = "undo_expired"

    def __init__(self, minutes: int) -> None:
        super().__init__(f"a logged call can be undone within {minutes} minutes", minutes=minutes)
        self.minutes = minutes


class InvalidNextContact(DomainError):
    """The next contact date or time cannot be used (in the past, malformed)."""

    code = "invalid_next_contact"

    def __init__(self, value: str) -> None:
        super().__init__(f"cannot schedule the next contact for {value!r}", value=value)
        self.value = value


class StaleAction(DomainError):
    """A button of a conversation that has already finished or moved on."""

    code = "stale_action"

    def __init__(self) -> None:
        super().__init__("this button belongs to a finished step; start again")


# --- Clients as records: adding and editing from the chat ---


class InvalidTaxId(DomainError):
    """Not a Russian tax id: 10 digits for a company, 12 for a person, with a valid checksum."""

    code = "invalid_tax_id"

    def __init__(self, value: str) -> None:
        super().__init__(f"not a valid ИНН: {value!r}", value=value)
        self.value = value


class InvalidPhone(DomainError):
    code = "invalid_phone"

    def __init__(self, value: str) -> None:
        super().__init__(f"not a phone number: {value!r}", value=value)
        self.value = value


class InvalidEmail(DomainError):
    code = "invalid_email"

    def __init__(self, value: str) -> None:
        super().__init__(f"not an email address: {value!r}", value=value)
        self.value = value


class ClientAlreadyExists(DomainError):
    """A client with this tax id is in the base already (perhaps a colleague's)."""

    code = "client_exists"

    def __init__(self, client_id: int, tax_id: str, owner_name: str | None, visible: bool) -> None:
        super().__init__(f"a client with ИНН {tax_id} exists (id {client_id})", tax_id=tax_id)
        self.client_id = client_id
        self.tax_id = tax_id
        self.owner_name = owner_name
        self.visible = visible


class ManagerNotFound(DomainError):
    """`/today Смирнова`: nobody of the team is called like that."""

    code = "manager_not_found"

    def __init__(self, query: str) -> None:
        super().__init__(f"no manager called {query!r}", query=query)
        self.query = query


class InvalidAmount(DomainError):
    """An order's amount that is not a positive number of roubles and kopecks."""

    code = "invalid_amount"

    def __init__(self, value: str) -> None:
        super().__init__(f"not an amount: {value!r}", value=value)
