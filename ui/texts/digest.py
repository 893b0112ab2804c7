"""The head of sales' digest: its text, its charts, and the message parts both the
scheduler and `/digest` send.

Every line is self-contained HTML (no tag spans two lines), so the text can be split at
line boundaries. Each client the digest names carries a number that is also on its
button (`named_clients`), so every one of them opens with a tap.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from services.dashboard import ClientFlow
from services.digest import CallsPeriod, Digest
from services.model_check import ModelCheckView
from ui.charts import MAX_BARS, BarRow, ChartLegend, calls_vs_plan_png
from ui.formatting import format_money, format_range, format_short_date
from ui.i18n import Translator
from ui.keyboards.digest import digest_keyboard, named_clients
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


def days_label(start: date, end: date, tr: Translator) -> str:
    """ "01.12" or "01.12–09.12": the days [start, end] of a client flow."""
    if start == end:
        return format_short_date(start, tr)
    return format_range(format_short_date(start, tr), format_short_date(end, tr), tr)


def _calls_section(
    period: CallsPeriod, title_key: str, tr: Translator, before: CallsPeriod | None = None
) -> list[str]:
    lines = [
        tr(
            title_key,
            period=period_label(period, tr),
            calls=period.calls,
            plan=period.plan,
            percent=_percent(period.calls, period.plan, tr),
        )
        + (tr("digest.before", calls=before.calls) if before is not None else "")
    ]
    if not period.managers:
        lines.append(tr("digest.no_managers"))
    for manager in period.managers:
        if manager.plan:
            line = tr(
                "digest.calls_line",
                name=escape(manager.name),
                calls=manager.calls,
                plan=manager.plan,
                percent=_percent(manager.calls, manager.plan, tr),
            )
        else:
            line = tr("digest.calls_line_no_plan", name=escape(manager.name), calls=manager.calls)
        earlier = before.of(manager.user_id) if before is not None else None
        if earlier is not None:
            line += tr("digest.before", calls=earlier.calls)
        lines.append(line)
    return lines


def _change(old: str | None, new: str | None) -> str:
    return f"{old or '—'}→{new or '—'}"


def _flow_lines(this: ClientFlow, before: ClientFlow, tr: Translator) -> list[str]:
    return [
        tr(
            "digest.clients_line",
            new=this.new,
            new_prev=before.new,
            lost=this.lost,
            lost_prev=before.lost,
            returned=this.returned,
            returned_prev=before.returned,
        ),
        tr(
            "digest.revenue_line",
            new=format_money(this.revenue_new, tr, whole=True),
            new_prev=format_money(before.revenue_new, tr, whole=True),
            existing=format_money(this.revenue_existing, tr, whole=True),
            existing_prev=format_money(before.revenue_existing, tr, whole=True),
        ),
    ]


def _clients_section(digest: Digest, tr: Translator) -> list[str]:
    if digest.figures_as_of is None:
        return [tr("digest.clients_not_computed")]
    this, last = digest.this_month, digest.last_month
    lines = [
        tr(
            "digest.clients_title",
            period=days_label(this.start, this.end, tr),
            previous=days_label(last.start, last.end, tr),
        )
    ]
    if digest.figures_as_of < digest.today - timedelta(days=1):
        lines.append(tr("digest.clients_stale", date=format_short_date(digest.figures_as_of, tr)))
    lines += _flow_lines(this, last, tr)
    if digest.week is not None:
        week = digest.week
        lines.append("")
        lines.append(
            tr(
                "digest.week_clients_title",
                period=days_label(week.flow.start, week.flow.end, tr),
                previous=days_label(week.flow_before.start, week.flow_before.end, tr),
            )
        )
        lines += _flow_lines(week.flow, week.flow_before, tr)
    return lines


def render_digest(digest: Digest, tr: Translator) -> str:
    numbers = {client_id: n for n, (client_id, _) in enumerate(named_clients(digest), start=1)}
    lines = [tr("digest.title", date=format_short_date(digest.today, tr)), ""]
    lines += _calls_section(digest.last_day, "digest.calls_title", tr)
    if digest.week is not None:
        lines.append("")
        lines += _calls_section(
            digest.week.calls, "digest.week_title", tr, before=digest.week.calls_before
        )

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

    lines.append("")
    lines += _clients_section(digest, tr)

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
                    number=numbers[migration.client_id],
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
                amount=format_money(digest.at_stake_total, tr, whole=True),
            )
        )
        lines.extend(
            tr(
                "digest.risk_line",
                number=numbers[item.client_id],
                client=escape(item.name),
                owner=escape(item.owner_name or tr("digest.no_owner")),
                amount=format_money(item.at_stake, tr, whole=True),
            )
            for item in digest.at_risk
        )
    else:
        lines.append(tr("digest.risk_none"))
    if digest.model_check is not None:
        lines.append("")
        lines.append(model_check_line(digest.model_check, tr))
    if numbers:
        lines.append("")
        lines.append(tr("digest.tap_hint"))
    return "\n".join(lines)


def model_check_line(check: ModelCheckView, tr: Translator) -> str:
    """ "Модель ждала 1 650 покупок за квартал, было 1 882" (the last quarter's backtest)."""

    def number(n: int) -> str:
        return f"{n:,}".replace(",", tr("format.thousands"))

    predicted = round(check.predicted_total)
    return tr(
        "digest.model_check",
        predicted=tr.plural("digest.purchases", predicted, count=number(predicted)),
        actual=number(check.actual_total),
        start=format_short_date(check.calibration_end + timedelta(days=1), tr),
        end=format_short_date(check.holdout_end, tr),
    )


def _below_plan(period: CallsPeriod, tr: Translator) -> str:
    below = [m for m in period.managers if m.plan and m.calls < m.plan]
    if not period.managers or not any(m.plan for m in period.managers):
        return ""
    if not below:
        return tr("digest.caption_all_on_plan")
    names = ", ".join(
        tr("digest.caption_name", name=escape(m.name), percent=_percent(m.calls, m.plan, tr))
        for m in sorted(below, key=lambda m: m.calls / m.plan)
    )
    return tr("digest.caption_below", names=names)


def digest_caption(digest: Digest, tr: Translator) -> str:
    """What the chart does not say: the team's total, who is below plan, overdue contacts."""
    period = digest.last_day
    parts = [
        tr(
            "digest.caption",
            period=period_label(period, tr),
            calls=period.calls,
            plan=period.plan,
            percent=_percent(period.calls, period.plan, tr),
        ),
        _below_plan(period, tr),
        tr("digest.caption_overdue", n=sum(m.overdue for m in digest.overdue)),
    ]
    return "\n".join(part for part in parts if part)


def week_caption(digest: Digest, tr: Translator) -> str:
    assert digest.week is not None
    week, before = digest.week.calls, digest.week.calls_before
    return "\n".join(
        part
        for part in (
            tr(
                "digest.week_caption",
                period=period_label(week, tr),
                calls=week.calls,
                plan=week.plan,
                percent=_percent(week.calls, week.plan, tr),
                before=before.calls,
            ),
            _below_plan(week, tr),
        )
        if part
    )


def _chart_figures(calls: int, plan: int, tr: Translator) -> str:
    """ "24 из 30 · 80%", or just the calls when there is no plan."""
    if not plan:
        return str(calls)
    return tr("digest.chart_figures", calls=calls, plan=plan, percent=_percent(calls, plan, tr))


def _rows(period: CallsPeriod, tr: Translator, before: CallsPeriod | None = None) -> list[BarRow]:
    rows = []
    for manager in period.managers:
        figures = _chart_figures(manager.calls, manager.plan, tr)
        earlier = before.of(manager.user_id) if before is not None else None
        rows.append(
            BarRow(
                manager.name,
                figures,
                manager.calls,
                manager.plan,
                None if before is None else (earlier.calls if earlier else 0),
            )
        )
    if len(rows) > MAX_BARS:
        rest = rows[MAX_BARS - 1 :]
        calls, plan = sum(r.value for r in rest), sum(r.target for r in rest)
        previous = None if before is None else sum(r.previous or 0 for r in rest)
        rows = rows[: MAX_BARS - 1]
        rows.append(
            BarRow(
                tr("digest.chart_others", n=len(rest)),
                tr(
                    "digest.chart_figures",
                    calls=calls,
                    plan=plan,
                    percent=_percent(calls, plan, tr),
                ),
                calls,
                plan,
                previous,
            )
        )
    return rows


def _legend(tr: Translator) -> ChartLegend:
    return ChartLegend(
        at_plan=tr("digest.chart_at_plan"),
        below_plan=tr("digest.chart_below_plan"),
        plan=tr("digest.chart_plan"),
        previous=tr("digest.chart_week_before"),
    )


def digest_chart(digest: Digest, tr: Translator) -> bytes:
    """Calls vs plan per manager for the last working day (PNG; CPU-bound: use a thread)."""
    title = tr("digest.chart_title", period=period_label(digest.last_day, tr))
    return calls_vs_plan_png(title, _rows(digest.last_day, tr), _legend(tr))


def week_chart(digest: Digest, tr: Translator) -> bytes:
    """The past week per manager against plan, with the week before in grey (PNG)."""
    assert digest.week is not None
    week = digest.week
    title = tr("digest.week_chart_title", period=period_label(week.calls, tr))
    return calls_vs_plan_png(title, _rows(week.calls, tr, week.calls_before), _legend(tr))


def digest_parts(digest: Digest, tr: Translator, dashboard_url: str | None = None) -> list[Part]:
    """The charts with their captions (two on the first working day of a week), then the
    figures with a button per client named and the dashboard; CPU-bound: use a thread."""
    parts: list[Part] = [
        PhotoPart(digest_chart(digest, tr), "digest.png", digest_caption(digest, tr))
    ]
    if digest.week is not None:
        parts.append(PhotoPart(week_chart(digest, tr), "week.png", week_caption(digest, tr)))
    parts += text_parts(render_digest(digest, tr), digest_keyboard(digest, tr, dashboard_url))
    return parts
