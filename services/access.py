"""Who may see and act on which client.

Managers work with their own clients; the company setting `visibility = "all"`
lets them see and act on everyone's. Heads and admins see everything. Every
service that touches a client goes through `load_client_for`, so a forged button
for someone else's client is refused however it reached us.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, true

from services.db.models import Client, Role
from services.errors import AccessDenied, ClientNotFound
from services.languages import DEFAULT_LANGUAGE
from services.uow import UnitOfWork
from services.zones import DEFAULT_TIMEZONE, resolve_zone

Visibility = Literal["own", "all"]
_WIDE_ROLES = frozenset({Role.HEAD, Role.ADMIN})


@dataclass(frozen=True)
class Viewer:
    """The person asking, with the company rules that decide what they may see."""

    user_id: int
    role: Role
    display_name: str = ""
    timezone: str = DEFAULT_TIMEZONE
    language: str = DEFAULT_LANGUAGE
    visibility: Visibility = "own"
    managers_can_set_vip: bool = False

    @property
    def sees_all(self) -> bool:
        return self.role in _WIDE_ROLES or self.visibility == "all"

    @property
    def can_set_vip(self) -> bool:
        return self.role in _WIDE_ROLES or self.managers_can_set_vip

    @property
    def scope_owner_id(self) -> int | None:
        """The owner whose clients this viewer works with; None means everyone's."""
        return None if self.sees_all else self.user_id

    @property
    def zone(self) -> ZoneInfo:
        return resolve_zone(self.timezone)

    def local_today(self, now: datetime) -> date:
        """Today's date where the viewer is."""
        return now.astimezone(self.zone).date()


@dataclass(frozen=True)
class CompanyPolicy:
    """The company-wide rules (from the environment) applied to everyone who asks."""

    default_language: str = DEFAULT_LANGUAGE
    default_timezone: str = DEFAULT_TIMEZONE
    visibility: Visibility = "own"
    managers_can_set_vip: bool = False

    def viewer(
        self,
        *,
        user_id: int,
        role: Role | str,
        display_name: str = "",
        timezone: str | None = None,
        language: str | None = None,
    ) -> Viewer:
        """A Viewer with the company defaults filled in for what the person never chose."""
        return Viewer(
            user_id=user_id,
            role=Role(role),
            display_name=display_name,
            timezone=timezone or self.default_timezone,
            language=language or self.default_language,
            visibility=self.visibility,
            managers_can_set_vip=self.managers_can_set_vip,
        )

    def zone(self, timezone: str | None = None) -> ZoneInfo:
        """A person's zone, or the company's."""
        return resolve_zone(timezone, self.default_timezone)


def can_see(viewer: Viewer, owner_id: int | None) -> bool:
    return viewer.sees_all or (owner_id is not None and owner_id == viewer.user_id)


def visible_clients(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause limiting `clients` to what the viewer may see."""
    if viewer.sees_all:
        return true()
    return Client.owner_id == viewer.user_id


async def load_client_for(uow: UnitOfWork, viewer: Viewer, client_id: int) -> Client:
    """The client row if the viewer may see and act on it (call inside `async with uow`).

    Raises `ClientNotFound` for an unknown id and `AccessDenied` for someone else's client.
    """
    client = await uow.session.get(Client, client_id)
    if client is None:
        raise ClientNotFound(client_id)
    if not can_see(viewer, client.owner_id):
        raise AccessDenied("client")
    return client


async def ensure_can_access(uow: UnitOfWork, viewer: Viewer, client_id: int) -> None:
    """Raise unless the viewer may see and act on the client (opens its own read)."""
    async with uow:
        await load_client_for(uow, viewer, client_id)


def ensure_can_set_vip(viewer: Viewer) -> None:
    if not viewer.can_set_vip:
        raise AccessDenied("vip")
