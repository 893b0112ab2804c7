"""Texts of the scheduled messages: the morning push and call-back reminders.

Every line is self-contained HTML (no tag spans two lines), so long texts can be split at
line boundaries.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from services.clients import format_phone
from services.lists import ClientListItem
from services.pushes import MorningPush, Reminder
from services.zones import resolve_zone
from ui.formatting import VIP_MARK, format_money, format_time
from ui.i18n import Translator
from ui.texts.explain import risk_short, status_reason


def _client_label(item: ClientListItem) -> str:
    name = escape(item.name)
    return f"{name} {VIP_MARK}" if item.is_vip else name


# --- the morning push -----------------------------------------------------------------------


def _due_client(item: ClientListItem, tr: Translator) -> str:
    label = _client_label(item)
    if item.overdue_days > 0:
        return f"{label} ({tr.plural('push.overdue', item.overdue_days)})"
    return label


def _at_stake(item: ClientListItem) -> Decimal:
    """Value at risk when the spend model gave one, else revenue at risk."""
    reasons = item.reasons
    if reasons is not None and reasons.value_at_risk is not None:
        return reasons.value_at_risk
    return item.revenue_at_risk


def _with_reason(line: str, item: ClientListItem, at_risk: bool, tr: Translator) -> str:
    """A push row and, after it, the one short reason it is there."""
    if item.reasons is None:
        return line
    why = risk_short(item.reasons, tr) if at_risk else status_reason(item.reasons, tr)
    return f"{line} · <i>{why}</i>" if why else line


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
        lines.extend(
            _with_reason(tr("push.pick_line", client=_client_label(i)), i, False, tr)
            for i in push.reactivation
        )
    if push.at_risk:
        lines.append("")
        lines.append(tr("push.risk_title"))
        lines.extend(
            _with_reason(
                tr(
                    "push.risk_line",
                    client=_client_label(item),
                    amount=format_money(_at_stake(item), tr, whole=True),
                ),
                item,
                True,
                tr,
            )
            for item in push.at_risk
        )
    if push.due_count:
        lines.append("")
        lines.append(tr("push.footer"))
    return "\n".join(lines)


# --- reminders -------------------------------------------------------------------------------


def render_reminder(reminder: Reminder, timezone: str, tr: Translator) -> str:
    local = reminder.at.astimezone(resolve_zone(timezone))
    lines = [tr("push.reminder.title", client=escape(reminder.client_name))]
    if reminder.company:
        lines.append(tr("push.reminder.company", company=escape(reminder.company)))
    lines.append(tr("push.reminder.when", time=format_time(local)))
    if reminder.phones:
        numbers = ", ".join(format_phone(phone) for phone in reminder.phones)
        lines.append(tr("push.reminder.phones", phones=escape(numbers)))
    if reminder.comment:
        lines.append(tr("push.reminder.comment", comment=escape(reminder.comment)))
    return "\n".join(lines)
