"""The scheduler's entry points: the minute tick and what it runs.

Like handlers, jobs are thin: a service plans or builds, the texts and keyboards render, the
delivery loop sends. Time always comes from the injected clock, so tests call `tick` with
a `FixedClock` and never sleep.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter

from scheduler.delivering import DEFAULT_CONCURRENCY, DeliveryReport, deliver
from scheduler.sender import Sender
from services.clock import Clock
from services.db.locks import advisory_lock
from services.db.models import Role
from services.delivery import DeliveryKind, claim_daily_job, finish_daily_job
from services.digest import build_digest
from services.pushes import (
    CATCH_UP_WINDOW,
    DueDelivery,
    build_morning_push,
    load_reminder,
    plan_daily,
    plan_reminders,
)
from services.segmentation import SegmentationOutcome, recompute_segments
from services.uow import UnitOfWorkFactory
from services.zones import DEFAULT_TIMEZONE, resolve_zone
from ui.i18n import Translator
from ui.keyboards.pushes import morning_push_keyboard, reminder_keyboard
from ui.messages import Part, text_parts
from ui.texts.digest import digest_parts
from ui.texts.pushes import render_morning_push, render_reminder

log = logging.getLogger(__name__)

RECOMPUTE_AT = time(3, 0)  # company time
RECOMPUTE_JOB = "recompute"


@dataclass(frozen=True)
class JobContext:
    """What every job needs; built once by the scheduler (or a test)."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    sender: Sender
    default_timezone: str = DEFAULT_TIMEZONE
    default_language: str = "ru"
    catch_up: timedelta = CATCH_UP_WINDOW
    concurrency: int = DEFAULT_CONCURRENCY
    recompute_at: time | None = RECOMPUTE_AT  # None: segments are recomputed elsewhere
    dashboard_url: str | None = None  # the digest's "Dashboard" button, when served


@dataclass
class TickReport:
    now: datetime
    recomputed: bool = False
    recompute_seconds: float | None = None  # how long the recomputation took, when it ran
    morning: DeliveryReport = field(default_factory=DeliveryReport)
    digest: DeliveryReport = field(default_factory=DeliveryReport)
    reminders: DeliveryReport = field(default_factory=DeliveryReport)


async def tick(ctx: JobContext) -> TickReport:
    """Everything due at this minute: the nightly recomputation, pushes, digests, reminders."""
    now = ctx.clock.now()
    report = TickReport(now)
    started = perf_counter()
    if await nightly_recompute(ctx, now) is not None:
        report.recomputed = True
        report.recompute_seconds = perf_counter() - started
    report.morning = await morning_pushes(ctx, now)
    report.digest = await digests(ctx, now)
    report.reminders = await reminders(ctx, now)
    return report


# --- the manager's morning push -------------------------------------------------------------


async def morning_pushes(ctx: JobContext, now: datetime) -> DeliveryReport:
    plan = await plan_daily(
        ctx.uow_factory(),
        DeliveryKind.MORNING_PUSH,
        [Role.MANAGER],
        now,
        default_timezone=ctx.default_timezone,
        default_language=ctx.default_language,
        catch_up=ctx.catch_up,
    )

    async def compose(item: DueDelivery) -> list[Part]:
        push = await build_morning_push(
            ctx.uow_factory(), item.recipient.user_id, item.key.local_date
        )
        tr = Translator(item.recipient.language)
        text = render_morning_push(push, item.recipient.display_name, tr)
        return list(text_parts(text, morning_push_keyboard(push, tr)))

    return await deliver(
        ctx.uow_factory, ctx.clock, ctx.sender, plan, compose, concurrency=ctx.concurrency
    )


# --- the head's digest ------------------------------------------------------------------------


async def compose_digest(ctx: JobContext, item: DueDelivery) -> list[Part]:
    digest = await build_digest(
        ctx.uow_factory(),
        item.recipient.user_id,
        ctx.clock.now(),
        default_timezone=ctx.default_timezone,
        today=item.key.local_date,
    )
    # matplotlib is CPU-bound: keep the event loop (and the other sends) running
    tr = Translator(item.recipient.language)
    return await asyncio.to_thread(digest_parts, digest, tr, ctx.dashboard_url)


async def digests(ctx: JobContext, now: datetime) -> DeliveryReport:
    plan = await plan_daily(
        ctx.uow_factory(),
        DeliveryKind.DIGEST,
        [Role.HEAD],
        now,
        default_timezone=ctx.default_timezone,
        default_language=ctx.default_language,
        catch_up=ctx.catch_up,
    )

    async def compose(item: DueDelivery) -> list[Part]:
        return await compose_digest(ctx, item)

    return await deliver(
        ctx.uow_factory, ctx.clock, ctx.sender, plan, compose, concurrency=ctx.concurrency
    )


# --- call-back reminders --------------------------------------------------------------------


async def reminders(ctx: JobContext, now: datetime) -> DeliveryReport:
    plan = await plan_reminders(
        ctx.uow_factory(),
        now,
        default_timezone=ctx.default_timezone,
        default_language=ctx.default_language,
        catch_up=ctx.catch_up,
    )

    async def compose(item: DueDelivery) -> list[Part]:
        reminder = await load_reminder(ctx.uow_factory(), int(item.key.ref))
        if reminder is None:  # deleted, or a newer call replaced it since planning
            return []
        tr = Translator(item.recipient.language)
        text = render_reminder(reminder, item.recipient.timezone, tr)
        return list(text_parts(text, reminder_keyboard(reminder, tr)))

    return await deliver(
        ctx.uow_factory, ctx.clock, ctx.sender, plan, compose, concurrency=ctx.concurrency
    )


# --- segments ---------------------------------------------------------------------------------


async def nightly_recompute(ctx: JobContext, now: datetime) -> SegmentationOutcome | None:
    """Recompute the segments once a day after `recompute_at` company time (any process).

    The advisory lock keeps replicas from recomputing side by side; the daily claim in the
    ledger keeps the day's run from being repeated once it is done.
    """
    local = now.astimezone(resolve_zone(None, ctx.default_timezone))
    if ctx.recompute_at is None or local.time() < ctx.recompute_at:
        return None
    async with advisory_lock(ctx.uow_factory(), RECOMPUTE_JOB) as acquired:
        if not acquired:
            return None
        return await _recompute_once(ctx, now, local.date())


async def _recompute_once(
    ctx: JobContext, now: datetime, as_of: date
) -> SegmentationOutcome | None:
    if not await claim_daily_job(ctx.uow_factory(), RECOMPUTE_JOB, as_of, now):
        return None
    log.info("recomputing segments as of %s", as_of)
    try:
        outcome = await recompute_segments(ctx.uow_factory(), as_of, timezone=ctx.default_timezone)
    except Exception:
        log.exception("segment recomputation as of %s failed; it will be retried", as_of)
        await finish_daily_job(ctx.uow_factory(), RECOMPUTE_JOB, as_of, ctx.clock.now(), ok=False)
        return None
    await finish_daily_job(
        ctx.uow_factory(),
        RECOMPUTE_JOB,
        as_of,
        ctx.clock.now(),
        ok=True,
        details={"clients": outcome.clients, "run_id": outcome.run_id},
    )
    return outcome
