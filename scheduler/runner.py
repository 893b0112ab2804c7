"""APScheduler wiring: one in-memory job that ticks every minute, started with the bot.

Nothing is persisted in APScheduler: the job is registered again at every start, and what
is due is decided by `scheduler.jobs.tick` from the clock and the delivery ledger, so a
restart loses nothing and repeats nothing. One tick also runs right at start, to catch up
on what was missed while the bot was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.inbox import INBOX_EVERY_SECONDS, watch_inbox
from scheduler.jobs import JobContext, TickReport, tick
from scheduler.sender import BotLike, Sender
from services.clock import Clock
from services.import_desk import ImportDesk
from services.inbox import InboxWatcher
from services.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

TICK_JOB_ID = "tick"
STOP_GRACE_SECONDS = 10.0


class PushScheduler:
    """Owns the AsyncIOScheduler and the sender; `start`/`stop` follow the Dispatcher's."""

    def __init__(
        self,
        bot: BotLike,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        default_timezone: str,
        default_language: str,
        sender: Sender | None = None,
        on_tick: Callable[[TickReport], None] | None = None,
        dashboard_url: str | None = None,
        inbox: tuple[InboxWatcher, ImportDesk] | None = None,
    ) -> None:
        self.inbox = inbox  # IMPORT_INBOX: scanned every few seconds, imported once
        self.context = JobContext(
            uow_factory=uow_factory,
            clock=clock,
            sender=sender or Sender(bot),
            default_timezone=default_timezone,
            default_language=default_language,
            dashboard_url=dashboard_url,
        )
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self.on_tick = on_tick  # e.g. the metrics: what each tick sent, skipped, recomputed

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    async def start(self) -> None:
        """Register the minute tick (and one immediate catch-up tick) and start."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.run_tick,
            CronTrigger(second=0, timezone=UTC),
            id=TICK_JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=30,
            replace_existing=True,
        )
        scheduler.add_job(self.run_tick, id=f"{TICK_JOB_ID}-at-start")
        if self.inbox is not None:
            scheduler.add_job(
                self.run_inbox,
                IntervalTrigger(seconds=INBOX_EVERY_SECONDS, timezone=UTC),
                id="inbox",
                max_instances=1,
                coalesce=True,
                replace_existing=True,
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started")

    async def stop(self) -> None:
        """Stop ticking; give a running tick a moment to finish its current sends."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.pause()
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout=STOP_GRACE_SECONDS)
            self._lock.release()
        except TimeoutError:
            log.warning("a tick was still running at shutdown; it is cancelled")
        scheduler.shutdown(wait=False)
        log.info("scheduler stopped")

    async def run_inbox(self) -> None:
        """One scan of the import inbox; a failure is logged and the next scan tries again."""
        if self.inbox is None:
            return
        try:
            await watch_inbox(self.context, *self.inbox)
        except Exception:
            log.exception("import inbox scan failed")

    async def run_tick(self) -> TickReport | None:
        """One tick; a tick still running makes this one a no-op (the next one catches up)."""
        if self._lock.locked():
            return None
        async with self._lock:
            try:
                report = await tick(self.context)
            except Exception:
                log.exception("scheduler tick failed")
                return None
        if self.on_tick is not None:
            self.on_tick(report)
        if report.morning.sent or report.digest.sent or report.reminders.sent:
            log.info(
                "tick %s: %s pushes, %s digests, %s reminders sent",
                report.now.isoformat(timespec="minutes"),
                report.morning.sent,
                report.digest.sent,
                report.reminders.sent,
            )
        return report
