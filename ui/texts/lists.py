"""/today, /week, /reactivate and /risk as text: pure functions of the list DTOs."""

from __future__ import annotations

from services.lists import ClientListItem, ListKind, ListPage
from ui.formatting import VIP_MARK, format_money, format_short_date, h
from ui.i18n import Translator

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
    if page.kind == ListKind.RISK:
        details.append(tr("lists.at_risk_amount", amount=format_money(item.revenue_at_risk, tr)))
    if page.kind == ListKind.REACTIVATION:
        details.append(tr("lists.revenue_amount", amount=format_money(item.revenue_12m, tr)))
    if page.show_owner:
        details.append("👤 " + (h(item.owner_name, 40) or tr("card.no_owner")))
    return f"{number}. {name}" + (" — " + ", ".join(details) if details else "")


def list_text(page: ListPage, tr: Translator) -> str:
    count = tr.plural("common.clients", page.total)
    lines = [tr(f"lists.title.{page.kind}", count=count)]
    if page.total == 0:
        lines.append(tr(f"lists.empty.{page.kind}"))
        return "\n".join(lines)
    if page.pages > 1:
        lines.append(tr("lists.page", page=page.page + 1, pages=page.pages))
    lines.append("")
    start = page.page * 10
    for offset, item in enumerate(page.items, start=1):
        lines.append(_list_row(start + offset, item, page, tr))
    return "\n".join(lines)
