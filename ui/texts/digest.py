"""The head of sales' digest: its text, its chart, and the message parts both the
scheduler and `/digest` send.

Every line is self-contained HTML (no tag spans two lines), so the text can be split at
line boundaries.
"""

from __future__ import annotations

from datetime import date
from html import escape

from services.digest import CallsPeriod, ClientFlow, Digest
from ui.charts import CallsChartLabels, calls_vs_plan_png
from ui.formatting import format_money, format_range, format_short_date, month_name
from ui.i18n import Translator
from ui.messages import Part, PhotoPart, text_parts


def _percent(calls: int, plan: int, tr: Translator) -> str:
    if not plan:
        return tr("digest.no_plan")
    return tr("digest.percent", n=round(100 * calls / plan))


def period_label(period: CallsPeriod, tr: Translator) -> str:
    """ "13.03" for one day, "13.03–15.03" when the period spans a weekend or holidays."""
    last = date.fromordinal(period.end.toordinal() - 1)
    if last == period.start:
        return format_short_date(period.start, tr)
    return format_range(format_short_date(period.start, tr), format_short_date(last, tr), tr)


def _calls_section(period: CallsPeriod, title_key: str, tr: Translator) -> list[str]:
    lines = [
        tr(
            title_key,
            period=period_label(period, tr),
            calls=period.calls,
            plan=period.plan,
            percent=_percent(period.calls, period.plan, tr),
        )
    ]
    if not period.managers:
        lines.append(tr("digest.no_managers"))
    for manager in period.managers:
        if manager.plan:
            lines.append(
                tr(
                    "digest.calls_line",
                    name=escape(manager.name),
                    calls=manager.calls,
                    plan=manager.plan,
                    percent=_percent(manager.calls, manager.plan, tr),
                )
            )
        else:
            lines.append(
                tr("digest.calls_line_no_plan", name=escape(manager.name), calls=manager.calls)
            )
    return lines


def _month(flow: ClientFlow, tr: Translator) -> str:
    return month_name(flow.month.month, tr)


def _change(old: str | None, new: str | None) -> str:
    return f"{old or '—'}→{new or '—'}"


def render_digest(digest: Digest, tr: Translator) -> str:
    lines = [tr("digest.title", date=format_short_date(digest.today, tr)), ""]
    lines += _calls_section(digest.last_day, "digest.calls_title", tr)
    if digest.week is not None:
        lines.append("")
        lines += _calls_section(digest.week, "digest.week_title", tr)

    lines.append("")
    total_overdue = sum(m.overdue for m in digest.overdue)
    if total_overdue:
        lines.append(tr("digest.overdue_title", total=total_overdue))
        lines.extend(
            tr("digest.overdue_line", name=escape(m.name), n=m.overdue)
            for m in sorted(digest.overdue, key=lambda m: (-m.overdue, m.name))
            if m.overdue
        )
    else:
        lines.append(tr("digest.overdue_none"))

    this, last = digest.this_month, digest.last_month
    lines.append("")
    lines.append(tr("digest.clients_title", month=_month(this, tr), last_month=_month(last, tr)))
    lines.append(
        tr(
            "digest.clients_line",
            new=this.new,
            new_prev=last.new,
            lost=this.lost,
            lost_prev=last.lost,
            returned=this.returned,
            returned_prev=last.returned,
        )
    )
    lines.append(
        tr(
            "digest.revenue_line",
            new=format_money(this.revenue_new, tr, whole=True),
            new_prev=format_money(last.revenue_new, tr, whole=True),
            existing=format_money(this.revenue_existing, tr, whole=True),
            existing_prev=format_money(last.revenue_existing, tr, whole=True),
        )
    )

    if digest.migration_dates is not None and digest.migrations_total:
        since, until = digest.migration_dates
        lines.append("")
        lines.append(
            tr(
                "digest.migrations_title",
                since=format_short_date(since, tr),
                until=format_short_date(until, tr),
                n=digest.migrations_total,
            )
        )
        for migration in digest.migrations:
            changes = []
            if migration.abc_from != migration.abc_to:
                changes.append(_change(migration.abc_from, migration.abc_to))
            if migration.xyz_from != migration.xyz_to:
                changes.append(_change(migration.xyz_from, migration.xyz_to))
            lines.append(
                tr(
                    "digest.migration_line",
                    client=escape(migration.name),
                    owner=escape(migration.owner_name or tr("digest.no_owner")),
                    change=", ".join(changes),
                )
            )

    lines.append("")
    if digest.at_risk_total:
        lines.append(
            tr(
                "digest.risk_title",
                clients=tr.plural("digest.clients", digest.at_risk_total),
                amount=format_money(digest.revenue_at_risk_total, tr, whole=True),
            )
        )
        lines.extend(
            tr(
                "digest.risk_line",
                client=escape(item.name),
                owner=escape(item.owner_name or tr("digest.no_owner")),
                amount=format_money(item.revenue_at_risk, tr, whole=True),
            )
            for item in digest.at_risk
        )
    else:
        lines.append(tr("digest.risk_none"))
    return "\n".join(lines)


def digest_caption(digest: Digest, tr: Translator) -> str:
    return tr("digest.caption", period=period_label(digest.last_day, tr))


def digest_chart(digest: Digest, tr: Translator) -> bytes:
    """Calls vs plan per manager for the last working day (PNG; CPU-bound: use a thread)."""
    managers = digest.last_day.managers
    return calls_vs_plan_png(
        [m.name for m in managers],
        [m.calls for m in managers],
        [m.plan for m in managers],
        CallsChartLabels(
            title=digest_caption(digest, tr),
            calls=tr("digest.chart_calls"),
            plan=tr("digest.chart_plan"),
            others=tr("digest.chart_others", n="{n}"),
        ),
    )


def digest_parts(digest: Digest, tr: Translator) -> list[Part]:
    """The chart with its caption, then the figures; CPU-bound (matplotlib): use a thread."""
    return [
        PhotoPart(digest_chart(digest, tr), "digest.png", digest_caption(digest, tr)),
        *text_parts(render_digest(digest, tr)),
    ]
