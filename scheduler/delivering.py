"""Claim, build, send, mark: how one planned delivery goes out exactly once.

For each due delivery a worker claims its ledger key (committed), builds the message only
if the claim won, sends it through the shared rate-limited sender and records the outcome.
Workers run concurrently so that database work for the next message overlaps the send
slots of the previous ones; the sender alone decides the pace.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from scheduler.sender import Part, Sender, SendStatus
from services.clock import Clock
from services.delivery import DeliveryStatus, claim, finish, record_skipped
from services.pushes import DeliveryPlan, DueDelivery
from services.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

_LEDGER_STATUS = {
    SendStatus.SENT: DeliveryStatus.SENT,
    SendStatus.FAILED: DeliveryStatus.FAILED,
    SendStatus.BLOCKED: DeliveryStatus.BLOCKED,
}

# Builds the message of a claimed delivery; an empty result means "nothing to send after all".
Compose = Callable[[DueDelivery], Awaitable[Sequence[Part]]]
DEFAULT_CONCURRENCY = 16


@dataclass
class DeliveryReport:
    due: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    empty: int = 0  # claimed, but nothing to send (recorded as skipped)
    missed: int = 0  # beyond the catch-up window (recorded as skipped)
    taken_elsewhere: int = 0  # another scheduler won the claim
    sent_keys: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        for name in ("due", "sent", "failed", "blocked", "empty", "missed", "taken_elsewhere"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.sent_keys.extend(other.sent_keys)


async def record_missed(
    uow_factory: UnitOfWorkFactory, clock: Clock, plan: DeliveryPlan, report: DeliveryReport
) -> None:
    """Log and record deliveries that are too late to send (status "skipped")."""
    for item in plan.missed:
        late = clock.now() - item.scheduled_at
        reason = f"missed: scheduled {item.scheduled_at.isoformat()}, {late} late"
        if await record_skipped(uow_factory(), item.key, clock.now(), reason):
            report.missed += 1
            log.warning(
                "skipped %s for user %s on %s (ref %r): %s",
                item.key.kind.value,
                item.key.recipient_id,
                item.key.local_date,
                item.key.ref,
                reason,
            )


async def deliver(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    sender: Sender,
    plan: DeliveryPlan,
    compose: Compose,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> DeliveryReport:
    """Send every due delivery of `plan` that this process manages to claim."""
    report = DeliveryReport(due=len(plan.due))
    await record_missed(uow_factory, clock, plan, report)
    queue = deque(plan.due)

    async def worker() -> None:
        while queue:
            item = queue.popleft()
            try:
                await _deliver_one(uow_factory, clock, sender, item, compose, report)
            except Exception:  # e.g. the database went away: the ledger lets a later tick retry
                report.failed += 1
                log.exception(
                    "delivery of %s to user %s broke off",
                    item.key.kind.value,
                    item.key.recipient_id,
                )

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(queue)))))
    return report


async def _deliver_one(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    sender: Sender,
    item: DueDelivery,
    compose: Compose,
    report: DeliveryReport,
) -> None:
    won = await claim(uow_factory(), item.key, clock.now())
    if won is None:
        report.taken_elsewhere += 1
        return
    try:
        parts = await compose(item)
    except Exception as error:  # one broken message must not stop everyone else's
        log.exception("could not build %s for user %s", item.key.kind.value, item.recipient.user_id)
        reason = f"build: {type(error).__name__}: {error}"
        await finish(uow_factory(), won, DeliveryStatus.FAILED, attempts=1, error=reason)
        report.failed += 1
        return
    if not parts:
        await finish(uow_factory(), won, DeliveryStatus.SKIPPED, error="nothing to send")
        report.empty += 1
        return
    result = await sender.send(item.recipient.telegram_id, parts)
    status = _LEDGER_STATUS[result.status]
    await finish(
        uow_factory(),
        won,
        status,
        attempts=result.attempts,
        error=result.error or (None if status is DeliveryStatus.SENT else status.value),
        now=clock.now(),
    )
    if status is DeliveryStatus.SENT:
        report.sent += 1
        report.sent_keys.append((item.key.recipient_id, item.key.kind.value, item.key.ref))
    elif status is DeliveryStatus.BLOCKED:
        report.blocked += 1
        log.info("user %s blocked the bot: marked inactive", item.recipient.user_id)
    else:
        report.failed += 1
