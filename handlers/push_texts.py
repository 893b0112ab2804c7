"""Texts of the scheduled messages and the digest: pure functions of DTOs and a translator.

Shared by the scheduler's jobs and the `/digest` command. Every line is self-contained HTML
(no tag spans two lines), so long texts can be split at line boundaries.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from services.charts import CallsChartLabels, calls_vs_plan_png
from services.digest import CallsPeriod, ClientFlow, Digest
from services.i18n import Translator
from services.lists import ClientListItem
from services.pushes import MorningPush, Reminder

VIP_MARK = "⭐"


def format_money(amount: Decimal, tr: Translator, area: str = "push") -> str:
    """Whole roubles with thousands separated: "1 234 567 ₽" / "₽1,234,567"."""
    rounded = int(amount.quantize(Decimal(1)))
    grouped = f"{rounded:,}"
    if tr.language == "ru":
        grouped = grouped.replace(",", "\u00a0")
    return tr(f"{area}.money", amount=grouped)


def format_date(day: date, tr: Translator) -> str:
    return tr(
        "digest.date", day=day.day, month=day.month, mon=tr(f"digest.month_short.m{day.month}")
    )


def _client_label(item: ClientListItem) -> str:
    name = escape(item.name)
    return f"{name} {VIP_MARK}" if item.is_vip else name


# --- the morning push -----------------------------------------------------------------------


def _due_client(item: ClientListItem, tr: Translator) -> str:
    label = _client_label(item)
    if item.overdue_days > 0:
        return f"{label} ({tr.plural('push.overdue', item.overdue_days)})"
    return label


def render_morning_push(push: MorningPush, name: str, tr: Translator) -> str:
    """The morning summary; a morning with nothing at all is one short line."""
    if push.is_empty:
        return tr("push.nothing_due")
    lines = [tr("push.greeting", name=escape(name))]
    if push.due_count:
        if push.overdue_count:
            lines.append(tr("push.due_overdue", n=push.due_count, overdue=push.overdue_count))
        else:
            lines.append(tr("push.due", n=push.due_count))
        for group in push.groups:
            clients = ", ".join(_due_client(item, tr) for item in group.first)
            rest = group.count - len(group.first)
            if rest > 0:
                clients += f", {tr('push.more', n=rest)}"
            lines.append(
                tr(
                    "push.group",
                    segment=group.segment or tr("push.no_segment"),
                    count=group.count,
                    clients=clients,
                )
            )
    else:
        lines.append(tr("push.nothing_due"))
    if push.reactivation:
        lines.append("")
        lines.append(tr("push.reactivation_title"))
        lines.extend(tr("push.pick_line", client=_client_label(i)) for i in push.reactivation)
    if push.at_risk:
        lines.append("")
        lines.append(tr("push.risk_title"))
        lines.extend(
            tr(
                "push.risk_line",
                client=_client_label(item),
                amount=format_money(item.revenue_at_risk, tr),
            )
            for item in push.at_risk
        )
    if push.due_count:
        lines.append("")
        lines.append(tr("push.footer"))
    return "\n".join(lines)


# --- reminders -------------------------------------------------------------------------------


def render_reminder(reminder: Reminder, timezone: str, tr: Translator) -> str:
    local = reminder.at.astimezone(ZoneInfo(timezone))
    lines = [tr("push.reminder.title", client=escape(reminder.client_name))]
    if reminder.company:
        lines.append(tr("push.reminder.company", company=escape(reminder.company)))
    lines.append(tr("push.reminder.when", time=local.strftime("%H:%M")))
    if reminder.comment:
        lines.append(tr("push.reminder.comment", comment=escape(reminder.comment)))
    return "\n".join(lines)


# --- the digest ------------------------------------------------------------------------------


def _percent(calls: int, plan: int, tr: Translator) -> str:
    if not plan:
        return tr("digest.no_plan")
    return tr("digest.percent", n=round(100 * calls / plan))


def period_label(period: CallsPeriod, tr: Translator) -> str:
    """ "13.03" for one day, "13.03–15.03" when the period spans a weekend or holidays."""
    last = date.fromordinal(period.end.toordinal() - 1)
    if last == period.start:
        return format_date(period.start, tr)
    return tr("digest.range", start=format_date(period.start, tr), end=format_date(last, tr))


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
    return tr(f"digest.month.m{flow.month.month}")


def _change(old: str | None, new: str | None) -> str:
    return f"{old or '—'}→{new or '—'}"


def render_digest(digest: Digest, tr: Translator) -> str:
    lines = [tr("digest.title", date=format_date(digest.today, tr)), ""]
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
            new=format_money(this.revenue_new, tr, "digest"),
            new_prev=format_money(last.revenue_new, tr, "digest"),
            existing=format_money(this.revenue_existing, tr, "digest"),
            existing_prev=format_money(last.revenue_existing, tr, "digest"),
        )
    )

    if digest.migration_dates is not None and digest.migrations_total:
        since, until = digest.migration_dates
        lines.append("")
        lines.append(
            tr(
                "digest.migrations_title",
                since=format_date(since, tr),
                until=format_date(until, tr),
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
                amount=format_money(digest.revenue_at_risk_total, tr, "digest"),
            )
        )
        lines.extend(
            tr(
                "digest.risk_line",
                client=escape(item.name),
                owner=escape(item.owner_name or tr("digest.no_owner")),
                amount=format_money(item.revenue_at_risk, tr, "digest"),
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
