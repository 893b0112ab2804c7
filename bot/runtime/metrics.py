"""Prometheus metrics of one bot process (`GET /metrics`).

Each process has its own registry (several applications can live in one test process);
the counters are fed by an update middleware, a Bot API session middleware, the runtime's
retries and the scheduler's tick reports.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from scheduler.jobs import TickReport
    from scheduler.sender import SenderStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

disable_created_metrics()  # no `*_created` series: they double the output and say little

# The order matters: subclasses before their base classes.
_ERROR_CODES: tuple[tuple[type[BaseException], str], ...] = (
    (TelegramEntityTooLarge, "413"),
    (TelegramNetworkError, "network"),
    (TelegramRetryAfter, "429"),
    (TelegramMigrateToChat, "400"),
    (TelegramBadRequest, "400"),
    (TelegramUnauthorizedError, "401"),
    (TelegramForbiddenError, "403"),
    (TelegramNotFound, "404"),
    (TelegramConflictError, "409"),
    (TelegramServerError, "5xx"),
    (ClientDecodeError, "bad_response"),
    (TelegramAPIError, "other"),
)


def error_code(error: BaseException) -> str:
    """The label for a failed Bot API call: the HTTP status, or what went wrong."""
    for kind, code in _ERROR_CODES:
        if isinstance(error, kind):
            return code
    return "other"


class Metrics:
    """The counters and gauges `/metrics` shows."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.updates = Counter(
            "crmbot_updates",
            "Telegram updates by type and outcome (handled, unhandled, duplicate, error)",
            ["type", "outcome"],
            registry=registry,
        )
        self.handler_errors = Counter(
            "crmbot_handler_errors",
            "Exceptions raised while handling an update",
            ["type"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "crmbot_updates_in_flight", "Updates being handled right now", registry=registry
        )
        self.bot_api_errors = Counter(
            "crmbot_bot_api_errors",
            "Failed Bot API calls by method and HTTP status (network: no answer)",
            ["method", "code"],
            registry=registry,
        )
        self.retries = Counter(
            "crmbot_retries",
            "Retries after a failure, by what was retried",
            ["operation"],
            registry=registry,
        )
        self.pushes = Counter(
            "crmbot_pushes",
            "Scheduled messages by kind and outcome (sent, failed, blocked, skipped)",
            ["kind", "outcome"],
            registry=registry,
        )
        self.recompute_duration = Gauge(
            "crmbot_recompute_last_duration_seconds",
            "How long the last segment recomputation took",
            registry=registry,
        )
        self.recompute_time = Gauge(
            "crmbot_recompute_last_timestamp_seconds",
            "When the last segment recomputation finished (Unix time)",
            registry=registry,
        )
        self.ready = Gauge("crmbot_ready", "1 when /readyz answers 200, else 0", registry=registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def retried(self, operation: str) -> None:
        self.retries.labels(operation).inc()

    def observe_tick(self, report: TickReport) -> None:
        """Count what one scheduler tick delivered and whether it recomputed the segments."""
        for kind, delivery in (
            ("morning_push", report.morning),
            ("digest", report.digest),
            ("reminder", report.reminders),
        ):
            for outcome, count in (
                ("sent", delivery.sent),
                ("failed", delivery.failed),
                ("blocked", delivery.blocked),
                ("skipped", delivery.empty + delivery.missed),
            ):
                if count:
                    self.pushes.labels(kind, outcome).inc(count)
        if report.recompute_seconds is not None:
            self.recompute_duration.set(report.recompute_seconds)
            self.recompute_time.set(time.time())

    def watch_sender(self, stats: SenderStats) -> None:
        """Export the scheduler sender's own retry counts (429 waits, 5xx, network)."""
        self.registry.register(_SenderCollector(stats))


class _SenderCollector(Collector):
    def __init__(self, stats: SenderStats) -> None:
        self._stats = stats

    def collect(self) -> Iterable[CounterMetricFamily]:
        family = CounterMetricFamily(
            "crmbot_push_send_retries",
            "Scheduled sends retried, by reason (429, 5xx, network)",
            labels=["reason"],
        )
        family.add_metric(["429"], self._stats.flood_waits)
        family.add_metric(["5xx"], self._stats.server_errors)
        family.add_metric(["network"], self._stats.network_errors)
        yield family


class BotApiMetrics(BaseRequestMiddleware):
    """Counts failed Bot API calls by method and code (a session middleware)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except (TelegramAPIError, ClientDecodeError) as error:
            name: Any = getattr(method, "__api_method__", type(method).__name__)
            self._metrics.bot_api_errors.labels(str(name), error_code(error)).inc()
            raise
