"""Clients as living records: added from the chat, contacts edited, notes, handed over.

Every writer here changes what the search index knows (names, owners, cities, phones)
and so stamps `clients_changed` in its own transaction. A client added from the chat
belongs to whoever added it; a later import with the same ИНН or external id matches it
(`services.importing.matching`) instead of adding it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from services.access import Viewer, can_see, load_client_for
from services.clients import ClientCard, build_card, format_phone
from services.db.models import (
    Client,
    ClientDraft,
    ClientNote,
    ClientPhone,
    Interaction,
    Role,
    User,
)
from services.db.versions import clients_changed
from services.errors import (
    AccessDenied,
    ClientAlreadyExists,
    InteractionNotFound,
    InvalidEmail,
    InvalidPhone,
    InvalidReassignTarget,
    InvalidTaxId,
    InvalidValue,
)
from services.normalize import normalize_name, normalize_phone, split_phones, tax_id_checksum_ok
from services.uow import UnitOfWork

NAME_MAX_LENGTH = 300  # clients.name is String(300)
CITY_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000
MAX_PHONES = 5
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]{2,}")
_HANDING_ROLES = frozenset({Role.HEAD, Role.ADMIN})


class ClientKind(StrEnum):
    COMPANY = "company"
    PERSON = "person"


@dataclass(frozen=True)
class NewClient:
    """What the chat asked for; validated by `create_client`."""

    kind: ClientKind
    name: str
    phones: tuple[str, ...] = ()
    tax_id: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class CreatedClient:
    client_id: int
    created: bool  # False: this draft was saved before (a double tap)


def clean_name(text: str) -> str:
    name = " ".join(text.replace("\x00", "").split())
    if not name:
        raise InvalidValue("name", text, "must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidValue("name", text[:40], f"at most {NAME_MAX_LENGTH} characters")
    return name


def clean_tax_id(text: str) -> str:
    """A valid ИНН from what was typed ("ИНН 7701 234 567"); raises `InvalidTaxId`."""
    compact = re.sub(r"(?i)^\s*(инн|inn)\s*:?", "", text)
    compact = re.sub(r"[\s\u00a0\-]", "", compact)
    if not tax_id_checksum_ok(compact):
        raise InvalidTaxId(text.strip()[:20])
    return compact


def clean_phones(text: str) -> tuple[str, ...]:
    """The numbers of a message ("8 916 123-45-67, +7 495 000-00-00"); raises `InvalidPhone`."""
    parts = split_phones(text.replace("\x00", ""))
    phones: dict[str, None] = {}
    for part in parts:
        phone = normalize_phone(part)
        if phone is None:
            raise InvalidPhone(part[:30])
        phones.setdefault(phone, None)
    if not phones or len(phones) > MAX_PHONES:
        raise InvalidPhone(text.strip()[:30])
    return tuple(phones)


def clean_email(text: str) -> str:
    email = text.strip().strip("<>").strip()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.fullmatch(email):
        raise InvalidEmail(text.strip()[:40])
    return email


def clean_city(text: str) -> str:
    city = " ".join(text.replace("\x00", "").split())
    if not city or len(city) > CITY_MAX_LENGTH or not any(ch.isalpha() for ch in city):
        raise InvalidValue("city", text[:40], f"1..{CITY_MAX_LENGTH} characters with letters")
    return city


async def _owner_name(uow: UnitOfWork, owner_id: int | None) -> str | None:
    if owner_id is None:
        return None
    return await uow.session.scalar(select(User.display_name).where(User.id == owner_id))


async def check_tax_id_free(uow: UnitOfWork, viewer: Viewer, tax_id: str) -> None:
    """Raise `ClientAlreadyExists` when a client has this ИНН (opens its own read)."""
    async with uow:
        await _ensure_tax_id_free(uow, viewer, tax_id)


async def _ensure_tax_id_free(uow: UnitOfWork, viewer: Viewer, tax_id: str) -> None:
    row = (
        await uow.session.execute(
            select(Client.id, Client.owner_id).where(Client.tax_id == tax_id).limit(1)
        )
    ).first()
    if row is not None:
        client_id, owner_id = row
        owner = await _owner_name(uow, owner_id)
        raise ClientAlreadyExists(client_id, tax_id, owner, can_see(viewer, owner_id))


async def create_client(
    uow: UnitOfWork, viewer: Viewer, draft_id: str, new: NewClient, *, now: datetime
) -> CreatedClient:
    """Add a client owned by the viewer; the same `draft_id` twice adds it once; commits."""
    name = clean_name(new.name)
    tax_id = clean_tax_id(new.tax_id) if new.tax_id else None
    city = clean_city(new.city) if new.city else None
    phones = tuple(dict.fromkeys(new.phones))[:MAX_PHONES]
    async with uow:
        done = await uow.session.get(ClientDraft, draft_id)
        if done is not None:
            await load_client_for(uow, viewer, done.client_id)
            return CreatedClient(done.client_id, created=False)
        if tax_id is not None:
            try:
                await _ensure_tax_id_free(uow, viewer, tax_id)
            except ClientAlreadyExists:
                # a double tap's twin may have saved this very draft a moment ago
                done = await uow.session.get(ClientDraft, draft_id, populate_existing=True)
                if done is None:
                    raise
                return CreatedClient(done.client_id, created=False)
        client = Client(
            name=name,
            name_normalized=normalize_name(name),
            company=name if new.kind is ClientKind.COMPANY else None,
            tax_id=tax_id,
            phones=", ".join(format_phone(phone) for phone in phones) or None,
            city=city,
            owner_id=viewer.user_id,
            created_at=now,
        )
        client.phone_numbers.extend(ClientPhone(phone=phone) for phone in phones)
        uow.session.add(client)
        await uow.flush()
        uow.session.add(ClientDraft(draft_id=draft_id, client_id=client.id, created_at=now))
        client_id = client.id
        try:
            await uow.flush()
        except IntegrityError:  # the same draft saved at the same moment by a double tap
            await uow.session.rollback()
            done = await uow.session.get(ClientDraft, draft_id)
            if done is None:
                raise
            return CreatedClient(done.client_id, created=False)
        await clients_changed(uow)
        await uow.commit()
    return CreatedClient(client_id, created=True)


async def draft_client(uow: UnitOfWork, viewer: Viewer, draft_id: str) -> int | None:
    """The client a saved draft made (the viewer may see it), or None."""
    async with uow:
        done = await uow.session.get(ClientDraft, draft_id)
        if done is None:
            return None
        await load_client_for(uow, viewer, done.client_id)
        return done.client_id


async def update_contacts(
    uow: UnitOfWork,
    viewer: Viewer,
    client_id: int,
    *,
    now: datetime,
    phones: tuple[str, ...] | None = None,
    email: str | None = None,
    city: str | None = None,
    clear_email: bool = False,
    clear_city: bool = False,
) -> ClientCard:
    """Replace the phones, set or clear the email and the city; commits; the new card."""
    async with uow:
        client = await load_client_for(uow, viewer, client_id)
        if phones is not None:
            phones = tuple(dict.fromkeys(phones))[:MAX_PHONES]
            await uow.session.execute(delete(ClientPhone).where(ClientPhone.client_id == client_id))
            uow.session.add_all(ClientPhone(client_id=client_id, phone=p) for p in phones)
            client.phones = ", ".join(format_phone(phone) for phone in phones) or None
        if email is not None or clear_email:
            client.email = None if clear_email else clean_email(email or "")
        if city is not None or clear_city:
            client.city = None if clear_city else clean_city(city or "")
        await uow.flush()
        await clients_changed(uow)  # the index knows phones and cities
        await uow.commit()
        return await build_card(uow, viewer, client_id, now)


@dataclass(frozen=True)
class SavedNote:
    note_id: int
    client_name: str
    created: bool  # False: the same message was saved before


async def add_note(
    uow: UnitOfWork,
    viewer: Viewer,
    client_id: int,
    text: str,
    *,
    source_key: str | None,
    now: datetime,
) -> SavedNote:
    """A note on the client (not a contact); the same chat message twice saves it once."""
    body = text.replace("\x00", "").strip()
    if not body:
        raise InvalidValue("note", text[:20], "must not be empty")
    body = body[:NOTE_MAX_LENGTH]
    async with uow:
        client = await load_client_for(uow, viewer, client_id)
        name = client.name
        if source_key is not None:
            existing = await uow.session.scalar(
                select(ClientNote.id).where(ClientNote.source_key == source_key)
            )
            if existing is not None:
                return SavedNote(existing, name, created=False)
        note = ClientNote(
            client_id=client_id,
            user_id=viewer.user_id,
            text=body,
            source_key=source_key,
            created_at=now,
        )
        uow.session.add(note)
        try:
            await uow.flush()
        except IntegrityError:  # the same message handled twice at once
            await uow.session.rollback()
            existing = await uow.session.scalar(
                select(ClientNote.id).where(ClientNote.source_key == source_key)
            )
            if existing is None:
                raise
            return SavedNote(existing, name, created=False)
        note_id = note.id
        await uow.commit()
    return SavedNote(note_id, name, created=True)


# --- Handing one client to another manager ------------------------------------------------


@dataclass(frozen=True)
class Colleague:
    id: int
    display_name: str


@dataclass(frozen=True)
class HandOver:
    client_id: int
    client_name: str
    owner_name: str | None
    targets: tuple[Colleague, ...]


def _ensure_may_hand_over(viewer: Viewer) -> None:
    if viewer.role not in _HANDING_ROLES:
        raise AccessDenied("hand_over")


async def hand_over_options(uow: UnitOfWork, viewer: Viewer, client_id: int) -> HandOver:
    """The client and the active managers it could go to (heads and admins only)."""
    _ensure_may_hand_over(viewer)
    async with uow:
        client = await load_client_for(uow, viewer, client_id)
        rows = await uow.session.execute(
            select(User.id, User.display_name)
            .where(
                User.role == Role.MANAGER.value,
                User.is_active.is_(True),
                User.id != func.coalesce(client.owner_id, 0),
            )
            .order_by(User.display_name, User.id)
        )
        targets = tuple(Colleague(uid, name) for uid, name in rows)
        owner = await _owner_name(uow, client.owner_id)
        return HandOver(client.id, client.name, owner, targets)


async def hand_over_client(
    uow: UnitOfWork, viewer: Viewer, client_id: int, target_id: int, *, now: datetime
) -> ClientCard:
    """Give one client to the active manager `target_id`; commits; the new card."""
    _ensure_may_hand_over(viewer)
    async with uow:
        client = await load_client_for(uow, viewer, client_id)
        target = await uow.session.get(User, target_id)
        if target is None or not target.is_active or Role(target.role) is not Role.MANAGER:
            raise InvalidReassignTarget(target_id)
        if client.owner_id != target.id:
            client.owner_id = target.id
            await uow.flush()
            await clients_changed(uow)
            await uow.commit()
        return await build_card(uow, viewer, client_id, now)


# --- Voice comments --------------------------------------------------------------------------


async def voice_file_id(uow: UnitOfWork, viewer: Viewer, interaction_id: int) -> str:
    """The Telegram file id of a voice comment the viewer may hear."""
    async with uow:
        row = (
            await uow.session.execute(
                select(Interaction.client_id, Interaction.voice_file_id).where(
                    Interaction.id == interaction_id
                )
            )
        ).first()
        if row is None or row[1] is None:
            raise InteractionNotFound(interaction_id)
        await load_client_for(uow, viewer, row[0])
        return str(row[1])


async def owned_clients(uow: UnitOfWork, user_id: int) -> int:
    """How many clients a person owns (opens its own read)."""
    async with uow:
        count = await uow.session.scalar(
            select(func.count(Client.id)).where(Client.owner_id == user_id)
        )
        return int(count or 0)
