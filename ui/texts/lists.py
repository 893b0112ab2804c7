"""/today, /week, /reactivate and /risk as text: pure functions of the list DTOs."""

from __future__ import annotations

from services.day import DayProgress, WeekAhead
from services.lists import ClientListItem, ListKind, ListPage
from ui.formatting import VIP_MARK, format_money, format_short_date, format_time, h
from ui.i18n import Translator
from ui.keyboards.lists import day_label
from ui.texts.explain import next_contact_reason, reason_line, risk_short, status_reason

NAME_IN_LIST = 60
COMPANY_IN_LIST = 40


def _list_row(number: int, item: ClientListItem, page: ListPage, tr: Translator) -> str:
    name = (f"{VIP_MARK} " if item.is_vip else "") + f"<b>{h(item.name, NAME_IN_LIST)}</b>"
    if item.company and item.company != item.name:
        name += f" ({h(item.company, COMPANY_IN_LIST)})"
    details = [item.segment] if item.segment else []
    if page.kind in (ListKind.TODAY, ListKind.WEEK) and item.next_due is not None:
        if item.overdue_days > 0:
            details.append(tr("lists.overdue", days=tr.plural("common.days", item.overdue_days)))
        elif item.next_due == page.today:
            details.append(tr("lists.due_today"))
        else:
            details.append(format_short_date(item.next_due, tr))
        if item.call_back_at is not None and page.zone is not None:
            details[-1] += " " + format_time(item.call_back_at.astimezone(page.zone))
    if page.kind == ListKind.RISK:
        at_stake = item.revenue_at_risk
        if item.reasons is not None and item.reasons.value_at_risk is not None:
            at_stake = item.reasons.value_at_risk  # the ranking: value_12m × (1 − P(alive))
        details.append(tr("lists.at_risk_amount", amount=format_money(at_stake, tr)))
    if page.kind == ListKind.REACTIVATION:
        details.append(tr("lists.revenue_amount", amount=format_money(item.revenue_12m, tr)))
    if page.show_owner:
        details.append("👤 " + (h(item.owner_name, 40) or tr("card.no_owner")))
    row = f"{number}. {name}" + (" — " + ", ".join(details) if details else "")
    why = row_reason(item, page.kind, tr)
    return row + "\n" + reason_line(why) if why else row


def row_reason(item: ClientListItem, kind: ListKind, tr: Translator) -> str | None:
    """The one short line under a row: why the client is on this list."""
    reasons = item.reasons
    if reasons is None:
        return None
    if kind == ListKind.RISK:
        return risk_short(reasons, tr)
    if kind == ListKind.REACTIVATION:
        return status_reason(reasons, tr)
    return next_contact_reason(reasons.next_contact, tr)


def list_text(page: ListPage, tr: Translator) -> str:
    count = tr.plural("common.clients", page.total)
    lines = [tr(f"lists.title.{page.kind}", count=count)]
    if page.total == 0:
        lines.append(tr(f"lists.empty.{page.kind}"))
        return "\n".join(lines)
    if page.pages > 1:
        lines.append(tr("lists.page", page=page.page + 1, pages=page.pages))
    lines.append("")
    start = page.page * page.page_size
    for offset, item in enumerate(page.items, start=1):
        lines.append(_list_row(start + offset, item, page, tr))
    return "\n".join(lines)


def progress_text(progress: DayProgress, tr: Translator) -> str:
    """ "Звонков сегодня: 12 из 30 · просрочено 5", for the team or one manager."""
    key = "day.progress" if progress.plan else "day.progress_no_plan"
    line = tr(key, calls=progress.calls, plan=progress.plan, overdue=progress.overdue)
    if progress.manager is not None:
        return tr("day.manager", name=h(progress.manager.display_name, 60)) + " · " + line
    if progress.team:
        return tr("day.team") + " · " + line
    return line


def no_clients_text(tr: Translator, *, of_manager: bool = False) -> str:
    return tr("day.no_clients_of" if of_manager else "day.no_clients")


def day_list_text(page: ListPage, tr: Translator) -> str:
    """One day of /week: its title, then the rows as in any list."""
    assert page.day is not None
    title = tr(
        "day.day_title", day=day_label(page.day, tr), count=tr.plural("common.clients", page.total)
    )
    return "\n".join([title, *list_text(page, tr).split("\n")[1:]])


def week_text(week: WeekAhead, tr: Translator) -> str:
    """/week: how many contacts fall due, and a button per day to open it."""
    lines = []
    if week.manager is not None:
        lines.append(tr("day.manager", name=h(week.manager.display_name, 60)))
    lines.append(tr("day.week_title", count=tr.plural("common.clients", week.total)))
    lines.append(tr("day.week_hint") if week.total else tr("lists.empty.week"))
    return "\n".join(lines)
