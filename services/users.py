"""People who use the bot: adding them and listing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from services.db.models import Client, Role, User
from services.db.versions import clients_changed
from services.errors import (
    AccessDenied,
    CannotChangeSelf,
    InvalidReassignTarget,
    InvalidValue,
    UserAlreadyExists,
    UserNotFound,
)
from services.languages import LANGUAGES
from services.uow import UnitOfWork

NAME_MAX_LENGTH = 200  # users.display_name is String(200)
MAX_DAILY_CALL_PLAN = 1000  # beyond this it is a typo, not a plan
# Telegram user ids are positive and fit in 52 bits; the column is BIGINT.
MAX_TELEGRAM_ID = 2**52


@dataclass(frozen=True)
class UserDTO:
    id: int
    telegram_id: int | None
    display_name: str
    role: Role
    timezone: str | None
    language: str | None
    daily_call_plan: int
    is_active: bool
    push_time: time | None = None
    pushes_enabled: bool = True
    muted_until: datetime | None = None


def _to_dto(user: User) -> UserDTO:
    return UserDTO(
        id=user.id,
        telegram_id=user.telegram_id,
        display_name=user.display_name,
        role=Role(user.role),
        timezone=user.timezone,
        language=user.language,
        daily_call_plan=user.daily_call_plan,
        is_active=user.is_active,
        push_time=user.push_time,
        pushes_enabled=user.pushes_enabled,
        muted_until=user.muted_until,
    )


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(role.value for role in Role)
        raise InvalidValue("role", value, f"expected one of: {allowed}") from None


def validate_timezone(value: str) -> str:
    """Return the IANA name if `zoneinfo` knows it, else raise `InvalidValue`."""
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # ValueError: names like "../etc" or "" that are not even valid keys
        raise InvalidValue(
            "timezone", value, "unknown IANA time zone (e.g. Europe/Moscow)"
        ) from None
    return name


def _validate_language(value: str) -> str:
    language = value.strip().lower()
    if language not in LANGUAGES:
        raise InvalidValue("language", value, f"expected one of: {', '.join(LANGUAGES)}")
    return language


def _validate_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise InvalidValue("name", value, "must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidValue("name", value, f"at most {NAME_MAX_LENGTH} characters")
    return name


async def add_user(
    uow: UnitOfWork,
    telegram_id: int,
    role: Role | str,
    name: str,
    *,
    timezone: str | None = None,
    language: str | None = None,
    daily_call_plan: int | None = None,
) -> UserDTO:
    """Register a person by Telegram id; opens `uow` and commits.

    `timezone` and `language` left as None mean "the company default" and are
    resolved where they are used, so changing the default moves everyone who
    never chose. `daily_call_plan` None takes the schema default.
    """
    if not 0 < telegram_id < MAX_TELEGRAM_ID:
        raise InvalidValue("telegram_id", telegram_id, "must be a positive Telegram user id")
    user = User(
        telegram_id=telegram_id,
        role=parse_role(role) if isinstance(role, str) else role,
        display_name=_validate_name(name),
        timezone=validate_timezone(timezone) if timezone is not None else None,
        language=_validate_language(language) if language is not None else None,
    )
    if daily_call_plan is not None:
        if not 0 <= daily_call_plan <= MAX_DAILY_CALL_PLAN:
            raise InvalidValue(
                "daily_call_plan", daily_call_plan, f"expected 0..{MAX_DAILY_CALL_PLAN}"
            )
        user.daily_call_plan = daily_call_plan

    async with uow:
        existing = await uow.session.scalar(select(User.id).where(User.telegram_id == telegram_id))
        if existing is not None:
            raise UserAlreadyExists(telegram_id)
        uow.session.add(user)
        try:
            await uow.flush()
        except IntegrityError as error:
            # Someone added the same id between our check and the insert.
            raise UserAlreadyExists(telegram_id) from error
        dto = _to_dto(user)
        await uow.commit()
    return dto


_ROLE_ORDER = case({Role.ADMIN.value: 0, Role.HEAD.value: 1}, value=User.role, else_=2)


async def list_users(uow: UnitOfWork, *, include_inactive: bool = True) -> list[UserDTO]:
    """Everyone, admins first, then heads, then managers, each by name; opens `uow`."""
    query = select(User).order_by(_ROLE_ORDER, User.display_name, User.id)
    if not include_inactive:
        query = query.where(User.is_active.is_(True))
    async with uow:
        users = (await uow.session.scalars(query)).all()
        return [_to_dto(user) for user in users]


async def find_active_user(uow: UnitOfWork, telegram_id: int) -> UserDTO | None:
    """The registered, active user with this Telegram id; None for strangers and the deactivated."""
    async with uow:
        user = await uow.session.scalar(
            select(User).where(User.telegram_id == telegram_id, User.is_active.is_(True))
        )
        return _to_dto(user) if user is not None else None


# --- Managing people from the bot (/users): every call re-checks the actor's role ---

USERS_PAGE_SIZE = 8
MANAGING_ROLES = frozenset({Role.HEAD, Role.ADMIN})


@dataclass(frozen=True)
class ManagedUser:
    """A person as a head or an admin sees them in /users, with what they may do to them."""

    user: UserDTO
    client_count: int
    can_change_status: bool
    can_reassign: bool


@dataclass(frozen=True)
class UsersPage:
    items: tuple[ManagedUser, ...]
    page: int  # zero-based, clamped to the pages that exist
    pages: int
    total: int
    page_size: int


@dataclass(frozen=True)
class ReassignOptions:
    source: ManagedUser
    targets: tuple[UserDTO, ...]


@dataclass(frozen=True)
class ReassignPreview:
    source: ManagedUser
    target: UserDTO


@dataclass(frozen=True)
class ReassignResult:
    source: UserDTO
    target: UserDTO
    moved: int


def to_user_dto(user: User) -> UserDTO:
    return _to_dto(user)


async def load_active_actor(uow: UnitOfWork, actor_id: int) -> User:
    """The acting user, fresh from the database; a deactivated or unknown actor may do nothing."""
    actor = await uow.session.get(User, actor_id)
    if actor is None or not actor.is_active:
        raise AccessDenied("inactive")
    return actor


async def _load_manager_actor(uow: UnitOfWork, actor_id: int, action: str) -> User:
    actor = await load_active_actor(uow, actor_id)
    if Role(actor.role) not in MANAGING_ROLES:
        raise AccessDenied(action)
    return actor


def _may_change_status(actor: User, target: User) -> bool:
    if actor.id == target.id:
        return False
    if Role(actor.role) is Role.ADMIN:
        return True
    return Role(target.role) is Role.MANAGER


async def _client_counts(uow: UnitOfWork, user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = await uow.session.execute(
        select(Client.owner_id, func.count(Client.id))
        .where(Client.owner_id.in_(user_ids))
        .group_by(Client.owner_id)
    )
    return {owner_id: count for owner_id, count in rows if owner_id is not None}


def _managed(actor: User, target: User, client_count: int) -> ManagedUser:
    return ManagedUser(
        user=_to_dto(target),
        client_count=client_count,
        can_change_status=_may_change_status(actor, target),
        can_reassign=client_count > 0,
    )


async def _load_target(uow: UnitOfWork, user_id: int) -> User:
    target = await uow.session.get(User, user_id)
    if target is None:
        raise UserNotFound(user_id)
    return target


async def list_users_page(
    uow: UnitOfWork, *, actor_id: int, page: int = 0, page_size: int = USERS_PAGE_SIZE
) -> UsersPage:
    """One page of everyone (active first, then by role and name); heads and admins only."""
    async with uow:
        actor = await _load_manager_actor(uow, actor_id, "users")
        total = await uow.session.scalar(select(func.count(User.id))) or 0
        pages = max(1, -(-total // page_size))
        page = min(max(page, 0), pages - 1)
        users = (
            await uow.session.scalars(
                select(User)
                .order_by(User.is_active.desc(), _ROLE_ORDER, User.display_name, User.id)
                .offset(page * page_size)
                .limit(page_size)
            )
        ).all()
        counts = await _client_counts(uow, [user.id for user in users])
        items = tuple(_managed(actor, user, counts.get(user.id, 0)) for user in users)
    return UsersPage(items=items, page=page, pages=pages, total=total, page_size=page_size)


async def get_managed_user(uow: UnitOfWork, *, actor_id: int, user_id: int) -> ManagedUser:
    async with uow:
        actor = await _load_manager_actor(uow, actor_id, "users")
        target = await _load_target(uow, user_id)
        counts = await _client_counts(uow, [target.id])
        return _managed(actor, target, counts.get(target.id, 0))


def _check_status_change(actor: User, target: User) -> None:
    if actor.id == target.id:
        raise CannotChangeSelf()
    if not _may_change_status(actor, target):
        raise AccessDenied("user_status")


async def prepare_status_change(uow: UnitOfWork, *, actor_id: int, user_id: int) -> ManagedUser:
    """The person about to be (de)activated, if the actor may do it: for the confirmation."""
    async with uow:
        actor = await _load_manager_actor(uow, actor_id, "users")
        target = await _load_target(uow, user_id)
        _check_status_change(actor, target)
        counts = await _client_counts(uow, [target.id])
        return _managed(actor, target, counts.get(target.id, 0))


async def set_user_active(
    uow: UnitOfWork, *, actor_id: int, user_id: int, active: bool
) -> ManagedUser:
    """Deactivate (or bring back) a person; the deactivated are strangers to the bot; commits.

    Admins may change anyone but themselves; heads only managers. Clients stay with
    their owner: moving them is a separate, explicit step (`reassign_clients`).
    """
    async with uow:
        actor = await _load_manager_actor(uow, actor_id, "users")
        target = await _load_target(uow, user_id)
        _check_status_change(actor, target)
        target.is_active = active
        await uow.flush()
        counts = await _client_counts(uow, [target.id])
        result = _managed(actor, target, counts.get(target.id, 0))
        await uow.commit()
    return result


async def _reassign_targets(uow: UnitOfWork, source_id: int) -> list[User]:
    return list(
        (
            await uow.session.scalars(
                select(User)
                .where(
                    User.role == Role.MANAGER.value,
                    User.is_active.is_(True),
                    User.id != source_id,
                )
                .order_by(User.display_name, User.id)
            )
        ).all()
    )


async def reassign_options(uow: UnitOfWork, *, actor_id: int, source_id: int) -> ReassignOptions:
    """The person whose clients would move, and the active managers who could take them."""
    async with uow:
        actor = await _load_manager_actor(uow, actor_id, "reassign")
        source = await _load_target(uow, source_id)
        counts = await _client_counts(uow, [source.id])
        targets = await _reassign_targets(uow, source.id)
        return ReassignOptions(
            source=_managed(actor, source, counts.get(source.id, 0)),
            targets=tuple(_to_dto(user) for user in targets),
        )


async def _load_reassign_target(uow: UnitOfWork, source: User, target_id: int) -> User:
    target = await uow.session.get(User, target_id)
    if (
        target is None
        or target.id == source.id
        or not target.is_active
        or Role(target.role) is not Role.MANAGER
    ):
        raise InvalidReassignTarget(target_id)
    return target


async def preview_reassign(
    uow: UnitOfWork, *, actor_id: int, source_id: int, target_id: int
) -> ReassignPreview:
    """What `reassign_clients` would do, checked, for the confirmation question."""
    async with uow:
        actor = await _load_manager_actor(uow, actor_id, "reassign")
        source = await _load_target(uow, source_id)
        target = await _load_reassign_target(uow, source, target_id)
        counts = await _client_counts(uow, [source.id])
        return ReassignPreview(
            source=_managed(actor, source, counts.get(source.id, 0)), target=_to_dto(target)
        )


async def reassign_clients(
    uow: UnitOfWork, *, actor_id: int, source_id: int, target_id: int
) -> ReassignResult:
    """Give every client of `source_id` to the active manager `target_id`; commits."""
    async with uow:
        await _load_manager_actor(uow, actor_id, "reassign")
        source = await _load_target(uow, source_id)
        target = await _load_reassign_target(uow, source, target_id)
        moved = await uow.session.execute(
            update(Client)
            .where(Client.owner_id == source.id)
            .values(owner_id=target.id)
            .execution_options(synchronize_session=False)
        )
        result = ReassignResult(
            source=_to_dto(source),
            target=_to_dto(target),
            moved=moved.rowcount,  # type: ignore[attr-defined]
        )
        await clients_changed(uow)  # the search index knows owners
        await uow.commit()
    return result
