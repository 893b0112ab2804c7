"""A client as a manager sees it: the card, the history of contacts and purchases, VIP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select

from services.access import Viewer, can_see, ensure_can_set_vip, load_client_for
from services.db.models import (
    Client,
    ClientNote,
    ClientPhone,
    ClientSegment,
    Interaction,
    Role,
    Transaction,
    User,
)
from services.errors import AccessDenied, ClientNotFound
from services.explanations import LabelReasons, manager_set, reasons_from
from services.segment_state import ChurnRisk, current_segment, current_segment_join
from services.uow import UnitOfWork

HISTORY_PAGE_SIZE = 8
VIP_REASON_MAX_LENGTH = 300  # clients.vip_reason is String(300)


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class InteractionView:
    id: int
    occurred_at: datetime
    user_name: str | None
    channel: str
    outcome: str
    comment: str | None
    has_voice: bool
    next_contact_on: date | None
    next_contact_at: datetime | None
    meeting_at: datetime | None = None
    meeting_place: str | None = None
    refusal_reason: str | None = None
    order_amount: Decimal | None = None
    has_comment_and_voice: bool = False


@dataclass(frozen=True)
class SnapshotView:
    """What the latest segmentation run said about the client."""

    as_of: date
    abc: str | None
    xyz: str | None
    segment: str | None
    status: str
    p_alive: float | None
    cadence_days: int
    reactivation: bool
    at_risk: bool
    revenue_at_risk: Decimal
    cross_sell: tuple[str, ...]


@dataclass(frozen=True)
class ClientCard:
    client_id: int
    name: str
    company: str | None
    city: str | None
    tax_id: str | None
    phones: tuple[str, ...]
    email: str | None
    owner_id: int | None
    owner_name: str | None
    is_vip: bool
    vip_reason: str | None
    snapshot: SnapshotView | None
    churn_risk: ChurnRisk | None
    last_purchase_on: date | None
    last_purchase_amount: Decimal | None
    revenue_12m: Decimal
    last_interaction: InteractionView | None
    next_due: date | None
    overdue_days: int
    today: date
    can_set_vip: bool
    can_hand_over: bool = False  # heads and admins give a client to another manager
    reasons: LabelReasons | None = None  # the figures behind the labels

    @property
    def segment(self) -> str | None:
        return self.snapshot.segment if self.snapshot else None

    @property
    def status(self) -> str | None:
        return self.snapshot.status if self.snapshot else None


async def latest_snapshot(uow: UnitOfWork, client_id: int) -> ClientSegment | None:
    """The client's current segment state (its latest run's)."""
    return await current_segment(uow.session, client_id)


def _snapshot_view(row: ClientSegment | None) -> SnapshotView | None:
    if row is None:
        return None
    return SnapshotView(
        as_of=row.as_of,
        abc=row.abc,
        xyz=row.xyz,
        segment=row.segment,
        status=row.status,
        p_alive=row.p_alive,
        cadence_days=row.cadence_days,
        reactivation=row.reactivation,
        at_risk=row.at_risk,
        revenue_at_risk=Decimal(row.revenue_at_risk or 0),
        cross_sell=tuple(str(item) for item in (row.cross_sell or [])),
    )


def _interaction_view(row: Interaction, user_name: str | None) -> InteractionView:
    return InteractionView(
        id=row.id,
        occurred_at=row.occurred_at,
        user_name=user_name,
        channel=row.channel,
        outcome=row.outcome,
        comment=row.comment,
        has_voice=row.voice_file_id is not None,
        next_contact_on=row.next_contact_on,
        next_contact_at=row.next_contact_at,
        meeting_at=row.meeting_at,
        meeting_place=row.meeting_place,
        refusal_reason=row.refusal_reason,
        order_amount=row.order_amount,
        has_comment_and_voice=bool(row.comment) and row.voice_file_id is not None,
    )


def format_phone(phone: str) -> str:
    """A normalized Russian number as people write it: +7 912 345-67-89."""
    if len(phone) == 11 and phone.startswith("7"):
        return f"+7 {phone[1:4]} {phone[4:7]}-{phone[7:9]}-{phone[9:11]}"
    return f"+{phone}"


async def build_card(uow: UnitOfWork, viewer: Viewer, client_id: int, now: datetime) -> ClientCard:
    """The card of a client the viewer may see (call inside `async with uow`)."""
    today = viewer.local_today(now)
    session = uow.session
    purchases = select(Transaction).where(Transaction.client_id == client_id)
    newest = purchases.order_by(Transaction.date.desc(), Transaction.id.desc()).limit(1)
    snapshot_row = ClientSegment
    # One round trip for the client, its owner, latest snapshot and purchase figures.
    row = (
        await session.execute(
            select(
                Client,
                User.display_name,
                snapshot_row,
                newest.with_only_columns(Transaction.date).scalar_subquery(),
                newest.with_only_columns(Transaction.amount).scalar_subquery(),
                purchases.with_only_columns(func.coalesce(func.sum(Transaction.amount), 0))
                .where(Transaction.date > one_year_before(today), Transaction.date <= today)
                .scalar_subquery(),
            )
            .outerjoin(User, User.id == Client.owner_id)
            .outerjoin(snapshot_row, current_segment_join())
            .where(Client.id == client_id)
        )
    ).first()
    if row is None:
        raise ClientNotFound(client_id)
    client, owner_name, latest, last_purchase_on, last_purchase_amount, revenue = row
    if not can_see(viewer, client.owner_id):
        raise AccessDenied("client")
    snapshot = _snapshot_view(latest)
    last = (
        await session.execute(
            select(Interaction, User.display_name)
            .outerjoin(User, User.id == Interaction.user_id)
            .where(Interaction.client_id == client_id)
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
            .limit(1)
        )
    ).first()
    phones = tuple(
        format_phone(p)
        for p in await session.scalars(
            select(ClientPhone.phone)
            .where(ClientPhone.client_id == client_id)
            .order_by(ClientPhone.id)
        )
    )
    if not phones and client.phones:
        phones = (client.phones,)
    next_due = client.next_due_on
    reasons = await _reasons(session, latest)
    # a date set on the latest contact, maybe after the recompute: who set it, and when
    if reasons is not None and last is not None and last[0].next_contact_on == next_due:
        reasons = manager_set(reasons, last[1], viewer.local_today(last[0].occurred_at))
    return ClientCard(
        client_id=client.id,
        name=client.name,
        company=client.company,
        city=client.city,
        tax_id=client.tax_id,
        phones=phones,
        email=client.email,
        owner_id=client.owner_id,
        owner_name=owner_name,
        is_vip=client.is_vip,
        vip_reason=client.vip_reason,
        snapshot=snapshot,
        churn_risk=ChurnRisk(latest.risk) if latest is not None and latest.risk else None,
        last_purchase_on=last_purchase_on,
        last_purchase_amount=Decimal(last_purchase_amount)
        if last_purchase_amount is not None
        else None,
        revenue_12m=Decimal(revenue or 0),
        last_interaction=_interaction_view(last[0], last[1]) if last else None,
        next_due=next_due,
        overdue_days=max(0, (today - next_due).days) if next_due else 0,
        today=today,
        can_set_vip=viewer.can_set_vip,
        can_hand_over=viewer.role in (Role.HEAD, Role.ADMIN),
        reasons=reasons,
    )


async def _reasons(session: Any, row: ClientSegment | None) -> LabelReasons | None:
    if row is None:
        return None
    values = {c.key: getattr(row, c.key) for c in ClientSegment.__table__.columns}
    if row.next_due_set_by is not None:
        values["next_due_set_by_name"] = await session.scalar(
            select(User.display_name).where(User.id == row.next_due_set_by)
        )
    return reasons_from(values)


async def get_card(uow: UnitOfWork, viewer: Viewer, client_id: int, now: datetime) -> ClientCard:
    """The client's card; raises `ClientNotFound` or `AccessDenied`."""
    async with uow:
        return await build_card(uow, viewer, client_id, now)


# --- History ----------------------------------------------------------------------------


class HistoryKind(StrEnum):
    INTERACTION = "interaction"
    PURCHASE = "purchase"
    NOTE = "note"


@dataclass(frozen=True)
class NoteView:
    """A note on the client: not a contact, so it never counts as a call."""

    id: int
    created_at: datetime
    user_name: str | None
    text: str


@dataclass(frozen=True)
class HistoryEntry:
    kind: HistoryKind
    day: date  # the local day of a contact, the date of a purchase
    interaction: InteractionView | None = None
    amount: Decimal | None = None
    category: str | None = None
    order_number: str | None = None
    note: NoteView | None = None


@dataclass(frozen=True)
class HistoryPage:
    client_id: int
    client_name: str
    entries: tuple[HistoryEntry, ...]
    page: int  # zero-based, clamped to the pages that exist
    pages: int
    total: int


async def get_history(
    uow: UnitOfWork,
    viewer: Viewer,
    client_id: int,
    *,
    page: int = 0,
    page_size: int = HISTORY_PAGE_SIZE,
) -> HistoryPage:
    """Contacts and purchases of one client, newest first, one page of them."""
    zone = viewer.zone
    async with uow:
        client = await load_client_for(uow, viewer, client_id)
        session = uow.session
        n_interactions = await session.scalar(
            select(func.count()).where(Interaction.client_id == client_id)
        )
        n_purchases = await session.scalar(
            select(func.count()).where(Transaction.client_id == client_id)
        )
        n_notes = await session.scalar(
            select(func.count()).where(ClientNote.client_id == client_id)
        )
        total = int(n_interactions or 0) + int(n_purchases or 0) + int(n_notes or 0)
        pages = max(1, -(-total // page_size))
        page = min(max(page, 0), pages - 1)
        # Each stream is sorted on its own; the newest (page + 1) * size of each suffice.
        needed = (page + 1) * page_size
        interactions = (
            await session.execute(
                select(Interaction, User.display_name)
                .outerjoin(User, User.id == Interaction.user_id)
                .where(Interaction.client_id == client_id)
                .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
                .limit(needed)
            )
        ).all()
        purchases = (
            await session.execute(
                select(
                    Transaction.id,
                    Transaction.date,
                    Transaction.amount,
                    Transaction.category,
                    Transaction.order_number,
                )
                .where(Transaction.client_id == client_id)
                .order_by(Transaction.date.desc(), Transaction.id.desc())
                .limit(needed)
            )
        ).all()
        notes = (
            await session.execute(
                select(ClientNote, User.display_name)
                .outerjoin(User, User.id == ClientNote.user_id)
                .where(ClientNote.client_id == client_id)
                .order_by(ClientNote.created_at.desc(), ClientNote.id.desc())
                .limit(needed)
            )
        ).all()
        name = client.name
    keyed: list[tuple[tuple[date, int, datetime, int], HistoryEntry]] = []
    for note, user_name in notes:
        local = note.created_at.astimezone(zone)
        note_view = NoteView(note.id, note.created_at, user_name, note.text)
        entry = HistoryEntry(HistoryKind.NOTE, local.date(), note=note_view)
        keyed.append(((local.date(), 1, note.created_at, note.id), entry))
    for row, user_name in interactions:
        view = _interaction_view(row, user_name)
        local = row.occurred_at.astimezone(zone)
        entry = HistoryEntry(HistoryKind.INTERACTION, local.date(), interaction=view)
        keyed.append(((local.date(), 1, row.occurred_at, row.id), entry))
    for tx_id, day, amount, category, order_number in purchases:
        entry = HistoryEntry(
            HistoryKind.PURCHASE,
            day,
            amount=Decimal(amount),
            category=category,
            order_number=order_number,
        )
        keyed.append(((day, 0, datetime.min.replace(tzinfo=zone), tx_id), entry))
    keyed.sort(key=lambda item: item[0], reverse=True)
    window = keyed[page * page_size : (page + 1) * page_size]
    return HistoryPage(
        client_id=client_id,
        client_name=name,
        entries=tuple(entry for _, entry in window),
        page=page,
        pages=pages,
        total=total,
    )


# --- VIP --------------------------------------------------------------------------------


async def set_vip(
    uow: UnitOfWork,
    viewer: Viewer,
    client_id: int,
    *,
    is_vip: bool,
    reason: str | None = None,
    now: datetime,
) -> ClientCard:
    """Mark or unmark a client as VIP (heads, admins, or managers when allowed); commits."""
    ensure_can_set_vip(viewer)
    cleaned = " ".join(reason.split())[:VIP_REASON_MAX_LENGTH] if reason else None
    async with uow:
        client = await load_client_for(uow, viewer, client_id)
        client.is_vip = is_vip
        client.vip_reason = (cleaned or None) if is_vip else None
        await uow.commit()
        return await build_card(uow, viewer, client_id, now)


__all__ = [
    "HISTORY_PAGE_SIZE",
    "ChurnRisk",
    "ClientCard",
    "HistoryEntry",
    "HistoryKind",
    "HistoryPage",
    "InteractionView",
    "NoteView",
    "SnapshotView",
    "build_card",
    "format_phone",
    "get_card",
    "get_history",
    "latest_snapshot",
    "one_year_before",
    "set_vip",
]
