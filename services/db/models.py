"""The data model. The schema itself is created only by the Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.db.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY = Numeric(16, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Role(StrEnum):
    MANAGER = "manager"
    HEAD = "head"
    ADMIN = "admin"


class Channel(StrEnum):
    CALL = "call"
    MEETING = "meeting"
    MESSAGE = "message"
    EMAIL = "email"


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    CALL_BACK = "call_back"
    MEETING_SET = "meeting_set"
    ORDER = "order"
    REFUSED = "refused"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.MANAGER)
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_call_plan: Mapped[int] = mapped_column(Integer, default=20)
    push_time: Mapped[time | None] = mapped_column(Time)
    pushes_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    muted_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clients: Mapped[list[Client]] = relationship(back_populates="owner")


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_normalized: Mapped[str] = mapped_column(String(300), index=True)
    company: Mapped[str | None] = mapped_column(String(300))
    tax_id: Mapped[str | None] = mapped_column(String(12), index=True)
    phones: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_vip: Mapped[bool] = mapped_column(Boolean, default=False)
    vip_reason: Mapped[str | None] = mapped_column(String(300))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    next_due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship(back_populates="clients")
    phone_numbers: Mapped[list[ClientPhone]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_clients_owner_next_due", "owner_id", "next_due_on"),)


class ClientPhone(Base):
    """One normalized phone number (digits only, Russian numbers as 7XXXXXXXXXX)."""

    __tablename__ = "client_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20), index=True)

    client: Mapped[Client] = relationship(back_populates="phone_numbers")

    __table_args__ = (UniqueConstraint("client_id", "phone", name="uq_client_phones_client_phone"),)


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(300))
    file_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Transaction(Base):
    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    order_number: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    dedup_key: Mapped[str | None] = mapped_column(String(200))  # readable; not indexed
    dedup_hash: Mapped[int | None] = mapped_column(BigInteger)  # key_hashes(): unique per client
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("ix_transactions_client_date", "client_id", "date"),
        UniqueConstraint("client_id", "dedup_hash", name="uq_transactions_client_dedup_hash"),
    )


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.CALL)
    outcome: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    next_contact_on: Mapped[date | None] = mapped_column(Date)
    next_contact_at: Mapped[datetime | None] = mapped_column()
    voice_file_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The call draft it was saved from: saving the same draft twice inserts nothing.
    draft_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    # The client's next contact before this call: what undo restores.
    previous_due: Mapped[date | None] = mapped_column(Date)
    meeting_at: Mapped[datetime | None] = mapped_column()
    meeting_place: Mapped[str | None] = mapped_column(String(200))
    refusal_reason: Mapped[str | None] = mapped_column(String(200))
    order_amount: Mapped[Decimal | None] = mapped_column(MONEY)

    __table_args__ = (
        Index("ix_interactions_client_occurred", "client_id", "occurred_at"),
        Index("ix_interactions_user_occurred", "user_id", "occurred_at"),
        # counts a manager's calls of a period from the index alone (the digest, the dashboard)
        Index("ix_interactions_user_channel_occurred", "user_id", "channel", "occurred_at"),
        Index("ix_interactions_next_contact_at", "next_contact_at"),
        {"sqlite_autoincrement": True},  # an undone call's id is never reused
    )


class ClientNote(Base):
    """A note on a client that is not a contact (a call, a meeting): shown in the history."""

    __tablename__ = "client_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    # The chat message it came from ("chat:message"): the same update twice adds one note.
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_client_notes_client_created", "client_id", "created_at"),)


class ClientDraft(Base):
    """A client added from the chat, by the id of the conversation that added it.

    Saving the same draft twice (a double tap, a redelivered update) finds this row
    and opens the client it made instead of adding another.
    """

    __tablename__ = "client_drafts"

    draft_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SegmentationRun(Base):
    """One recomputation of the segments: its date, model and settings."""

    __tablename__ = "segmentation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    model: Mapped[dict[str, Any]] = mapped_column(default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    n_clients: Mapped[int] = mapped_column(Integer, default=0)
    # history rows the run wrote: clients whose tracked state changed on `as_of`
    n_changed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientSegment(Base):
    """A client's current segment state: one row per client, rewritten by every run.

    What lists, cards, pushes and the digest read. Its columns are the snapshot
    columns: a column named like a column of `analyze_clients`' result is stored
    from it (see `services.segment_state`). `next_due` is NULL while there is
    nothing to count a cadence from (no purchase, no logged contact): then the
    client is due on every run's date.
    """

    __tablename__ = "client_segments"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int | None] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    abc: Mapped[str | None] = mapped_column(String(1))
    xyz: Mapped[str | None] = mapped_column(String(1))
    segment: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16))
    risk: Mapped[str | None] = mapped_column(String(8))
    revenue: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    # window revenue at the client's run before `as_of`: what it was before a migration
    previous_revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    deal_cycle_days: Mapped[float | None] = mapped_column(Float)
    p_alive: Mapped[float | None] = mapped_column(Float)
    churn_probability: Mapped[float | None] = mapped_column(Float)
    expected_purchases_90d: Mapped[float | None] = mapped_column(Float)
    cadence_days: Mapped[int] = mapped_column(Integer)
    next_due: Mapped[date | None] = mapped_column(Date)
    reactivation: Mapped[bool] = mapped_column(Boolean, default=False)
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    revenue_at_risk: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    upsell: Mapped[bool] = mapped_column(Boolean, default=False)
    cross_sell: Mapped[list[Any]] = mapped_column(default=list)
    # the money at stake and the figures behind the labels (`services.analytics.explain`)
    value_12m: Mapped[Decimal | None] = mapped_column(MONEY)
    value_at_risk: Mapped[Decimal | None] = mapped_column(MONEY)
    revenue_share: Mapped[float | None] = mapped_column(Float)
    revenue_rank: Mapped[int | None] = mapped_column(Integer)
    ranked_clients: Mapped[int | None] = mapped_column(Integer)
    active_months: Mapped[int | None] = mapped_column(Integer)
    window_months: Mapped[int | None] = mapped_column(Integer)
    days_since_last_purchase: Mapped[int | None] = mapped_column(Integer)
    repeat_purchases: Mapped[int | None] = mapped_column(Integer)
    history_days: Mapped[int | None] = mapped_column(Integer)
    last_touch: Mapped[date | None] = mapped_column(Date)
    last_contact: Mapped[date | None] = mapped_column(Date)
    cadence_source: Mapped[str | None] = mapped_column(String(10))
    next_due_source: Mapped[str | None] = mapped_column(String(8))
    next_due_set_by: Mapped[int | None] = mapped_column(Integer)  # users.id, no constraint
    # the first cross-sell suggestion's reason: buyers of `cross_sell_from` buy it `lift`× more
    cross_sell_from: Mapped[str | None] = mapped_column(String(200))
    cross_sell_lift: Mapped[float | None] = mapped_column(Float)

    # every run rewrites every row: half-empty pages keep those updates HOT (no index
    # writes, no growth between VACUUMs)
    __table_args__ = {"postgresql_with": {"fillfactor": 50}}  # noqa: RUF012


class SegmentHistory(Base):
    """A client's tracked state from `as_of` on: a row only on the dates it changed.

    The state of a client as of a date is its row with the greatest `as_of` not
    after that date. Tracked: ABC, XYZ, segment, status, churn risk band, the
    at-risk and reactivation flags, cadence and next due date (NULL: due on each
    run's date, as in `ClientSegment`).
    """

    __tablename__ = "segment_history"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    abc: Mapped[str | None] = mapped_column(String(1))
    xyz: Mapped[str | None] = mapped_column(String(1))
    segment: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16))
    risk: Mapped[str | None] = mapped_column(String(8))
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    reactivation: Mapped[bool] = mapped_column(Boolean, default=False)
    cadence_days: Mapped[int] = mapped_column(Integer)
    next_due: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_segment_history_as_of", "as_of"),)


class ModelCheck(Base):
    """How the purchase model did on the team's own data: one backtest per month."""

    __tablename__ = "model_checks"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    calibration_end: Mapped[date] = mapped_column(Date)
    holdout_end: Mapped[date] = mapped_column(Date)
    clients: Mapped[int] = mapped_column(Integer)
    predicted_total: Mapped[float] = mapped_column(Float)
    actual_total: Mapped[int] = mapped_column(Integer)
    mae: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DashboardState(Base):
    """When the dashboard's aggregates were computed, and as of which day (one row)."""

    __tablename__ = "dashboard_state"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    as_of: Mapped[date] = mapped_column(Date)
    segments_as_of: Mapped[date | None] = mapped_column(Date)  # the snapshot counted
    first_day: Mapped[date] = mapped_column(Date)  # the first day in `dashboard_days`
    clients: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DashboardSegment(Base):
    """Clients and revenue per ABC×XYZ segment and owner (`owner_id` 0: everyone).

    `segment` "" holds the clients without a segment (no purchase in the window).
    """

    __tablename__ = "dashboard_segments"

    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment: Mapped[str] = mapped_column(String(2), primary_key=True)
    clients: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[Decimal] = mapped_column(MONEY)
    at_risk_clients: Mapped[int] = mapped_column(Integer)
    revenue_at_risk: Mapped[Decimal] = mapped_column(MONEY)


class DashboardDay(Base):
    """New, lost and returned clients and revenue new vs existing of one day and owner.

    `owner_id` 0 is the whole company. A client's event counts on its first such day
    of the calendar month, so any run of days within a month sums to distinct
    clients (`services.analytics.accounting.daily_accounting`). Days without any
    figure have no row.
    """

    __tablename__ = "dashboard_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    new_clients: Mapped[int] = mapped_column(Integer, default=0)
    lost_clients: Mapped[int] = mapped_column(Integer, default=0)
    returned_clients: Mapped[int] = mapped_column(Integer, default=0)
    revenue_new: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    revenue_existing: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))


class AppSetting(Base):
    """Business settings as data: segmentation thresholds, cadence table, working days."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None] = mapped_column()


class Delivery(Base):
    """The ledger that makes each scheduled push go out once per recipient, kind and day."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    local_date: Mapped[date] = mapped_column(Date)
    ref: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        UniqueConstraint(
            "recipient_id", "kind", "local_date", "ref", name="uq_deliveries_recipient_kind_day"
        ),
    )


class DataVersion(Base):
    """A version stamp of data that processes cache (see services/db/versions.py)."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchSnapshot(Base):
    """The search index as last built, so a restarted bot need not build it before answering."""

    __tablename__ = "search_snapshots"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)  # the data_versions stamp it was built at
    rules: Mapped[str] = mapped_column(String(32))  # which code built it: another is not read
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FsmRecord(Base):
    """Conversation state of one chat, so a half-logged call survives a restart."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InboxFile(Base):
    """The watched inbox's ledger: one row per file content, so each is imported once."""

    __tablename__ = "inbox_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # importing | done | failed
    batch_id: Mapped[int | None] = mapped_column(Integer)
    report_path: Mapped[str | None] = mapped_column(String(1000))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
