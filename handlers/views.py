"""Texts of the card, history, lists and call logging: pure functions of service DTOs.

Everything a person typed or imported is HTML-escaped; long values are cut so a
message never exceeds Telegram's 4096 characters.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from zoneinfo import ZoneInfo

from services.analytics import SEGMENT_MEANINGS
from services.calls import LoggedCall
from services.clients import ClientCard, HistoryKind, HistoryPage, InteractionView
from services.i18n import Translator
from services.lists import ClientListItem, ListKind, ListPage
from services.search import MAX_RESULTS, SearchPage

NBSP = "\u00a0"
NAME_IN_LIST = 60
COMPANY_IN_LIST = 40
COMMENT_ON_CARD = 300
COMMENT_IN_HISTORY = 200
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def cut(text: str | None, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when something was cut."""
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def h(text: str | None, limit: int = 300) -> str:
    """Escaped (and cut) user data for HTML messages."""
    return escape(cut(text, limit), quote=False)


def money(amount: Decimal) -> str:
    """Russian style: 1 234 567 ₽, kopecks only when there are any (1 234,50 ₽)."""
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole = int(abs(rounded))
    kopecks = int((abs(rounded) - whole) * 100)
    digits = f"{whole:,}".replace(",", NBSP)
    sign = "−" if rounded < 0 else ""
    text = f"{sign}{digits},{kopecks:02d}" if kopecks else f"{sign}{digits}"
    return f"{text}{NBSP}₽"


def fmt_date(day: date, language: str) -> str:
    if language == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return day.strftime("%d.%m.%Y")


def fmt_short_date(day: date, language: str) -> str:
    """For buttons: 05.03 / 5 Mar."""
    if language == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]}"
    return day.strftime("%d.%m")


def fmt_moment(moment: datetime, zone: ZoneInfo, language: str) -> str:
    local = moment.astimezone(zone)
    return f"{fmt_date(local.date(), language)} {local:%H:%M}"


def outcome_label(outcome: str, tr: Translator) -> str:
    return tr(f"calls.outcome.{outcome}")


def segment_meaning(segment: str | None, language: str) -> str:
    if not segment:
        return ""
    return SEGMENT_MEANINGS.get(segment, {}).get(language, "")


def due_text(next_due: date | None, today: date, tr: Translator) -> str:
    """ "Просрочен на 3 дня" in bold, "сегодня", or the date."""
    if next_due is None:
        return tr("card.due.none")
    overdue = (today - next_due).days
    if overdue > 0:
        days = tr.plural("common.days", overdue)
        when = fmt_date(next_due, tr.language)
        return "<b>" + tr("card.due.overdue", days=days) + "</b> " + tr("card.due.since", date=when)
    if overdue == 0:
        return "<b>" + tr("card.due.today") + "</b>"
    return fmt_date(next_due, tr.language)


def _interaction_line(item: InteractionView, zone: ZoneInfo, tr: Translator) -> str:
    who = h(item.user_name, 60) if item.user_name else tr("card.someone")
    line = f"{fmt_moment(item.occurred_at, zone, tr.language)}, {who} — "
    line += outcome_label(item.outcome, tr)
    return line


def card_text(card: ClientCard, tr: Translator, zone: ZoneInfo) -> str:
    lang = tr.language
    lines = [("⭐ " if card.is_vip else "") + f"<b>{h(card.name)}</b>"]
    if card.is_vip:
        reason = f": {h(card.vip_reason, 150)}" if card.vip_reason else ""
        lines.append(tr("card.vip") + reason)
    place = " · ".join(h(v, 150) for v in (card.company, card.city) if v)
    if place:
        lines.append(f"🏢 {place}")
    if card.phones:
        lines.append("📞 " + ", ".join(h(phone, 40) for phone in card.phones[:3]))
    if card.tax_id:
        lines.append(tr("card.tax_id", tax_id=h(card.tax_id, 20)))
    lines.append(tr("card.owner", owner=h(card.owner_name, 60) or tr("card.no_owner")))
    lines.append("")

    snapshot = card.snapshot
    if snapshot is not None and snapshot.segment:
        meaning = segment_meaning(snapshot.segment, lang)
        lines.append(
            tr("card.segment", segment=snapshot.segment) + (f" — {meaning}" if meaning else "")
        )
    else:
        lines.append(tr("card.segment", segment=tr("segments.none")))
    status = snapshot.status if snapshot else None
    status_key = f"status.lifecycle.{status}"
    status_words = (tr(status_key) if tr.has(status_key) else h(status, 30)) if status else ""
    status_words = status_words or tr("status.unknown")
    risk_words = tr(f"status.risk.{card.churn_risk}") if card.churn_risk else tr("status.unknown")
    lines.append(tr("card.status", status=status_words, risk=risk_words))

    if card.last_purchase_on is not None and card.last_purchase_amount is not None:
        lines.append(
            tr(
                "card.last_purchase",
                date=fmt_date(card.last_purchase_on, lang),
                amount=money(card.last_purchase_amount),
            )
        )
    else:
        lines.append(tr("card.no_purchases"))
    lines.append(tr("card.revenue_12m", amount=money(card.revenue_12m)))

    last = card.last_interaction
    if last is not None:
        lines.append(tr("card.last_contact", contact=_interaction_line(last, zone, tr)))
        if last.comment:
            lines.append(f"<i>«{h(last.comment, COMMENT_ON_CARD)}»</i>")
        elif last.has_voice:
            lines.append(tr("card.voice_comment"))
    else:
        lines.append(tr("card.no_contacts"))
    lines.append(tr("card.next_due", due=due_text(card.next_due, card.today, tr)))
    if snapshot is not None and snapshot.cross_sell:
        offer = ", ".join(h(item, 60) for item in snapshot.cross_sell[:3])
        lines.append(tr("card.cross_sell", categories=offer))
    return "\n".join(lines)


def history_text(page: HistoryPage, tr: Translator, zone: ZoneInfo) -> str:
    lang = tr.language
    lines = [tr("card.history.title", name=h(page.client_name, 100))]
    if page.total == 0:
        lines.append(tr("card.history.empty"))
        return "\n".join(lines)
    lines.append(tr("card.history.page", page=page.page + 1, pages=page.pages, total=page.total))
    for entry in page.entries:
        lines.append("")
        if entry.kind == HistoryKind.PURCHASE:
            amount = money(entry.amount or Decimal(0))
            what = f" — {h(entry.category, 60)}" if entry.category else ""
            lines.append(f"🛒 {fmt_date(entry.day, lang)}: {amount}{what}")
            continue
        item = entry.interaction
        if item is None:
            continue
        lines.append(f"📞 {_interaction_line(item, zone, tr)}")
        if item.comment:
            lines.append(f"<i>«{h(item.comment, COMMENT_IN_HISTORY)}»</i>")
        elif item.has_voice:
            lines.append(tr("card.voice_comment"))
    return "\n".join(lines)


def _list_row(number: int, item: ClientListItem, page: ListPage, tr: Translator) -> str:
    name = ("⭐ " if item.is_vip else "") + f"<b>{h(item.name, NAME_IN_LIST)}</b>"
    if item.company and item.company != item.name:
        name += f" ({h(item.company, COMPANY_IN_LIST)})"
    details = [item.segment] if item.segment else []
    if page.kind in (ListKind.TODAY, ListKind.WEEK) and item.next_due is not None:
        if item.overdue_days > 0:
            details.append(tr("lists.overdue", days=tr.plural("common.days", item.overdue_days)))
        elif item.next_due == page.today:
            details.append(tr("lists.due_today"))
        else:
            details.append(fmt_short_date(item.next_due, tr.language))
    if page.kind == ListKind.RISK:
        details.append(tr("lists.at_risk_amount", amount=money(item.revenue_at_risk)))
    if page.kind == ListKind.REACTIVATION:
        details.append(tr("lists.revenue_amount", amount=money(item.revenue_12m)))
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


def search_text(page: SearchPage, tr: Translator, *, for_log: bool = False) -> str:
    query = h(page.query, 60)
    if page.total == 0:
        return tr("search.not_found", query=query)
    count = tr.plural("common.clients", page.total)
    key = "search.found_for_log" if for_log else "search.found"
    lines = [tr(key, count=count, query=query)]
    if page.truncated:
        lines.append(tr("search.truncated", shown=MAX_RESULTS))
    if page.pages > 1:
        lines.append(tr("lists.page", page=page.page + 1, pages=page.pages))
    return "\n".join(lines)


def saved_text(logged: LoggedCall, tr: Translator, zone: ZoneInfo) -> str:
    lang = tr.language
    when = fmt_date(logged.next_contact_on, lang)
    if logged.next_contact_at is not None:
        when += f" {logged.next_contact_at.astimezone(zone):%H:%M}"
    lines = [
        tr("calls.saved", name=h(logged.card.name, 100)),
        tr("calls.saved_outcome", outcome=outcome_label(logged.outcome, tr)),
        tr("calls.saved_next", date=when),
    ]
    if logged.comment:
        lines.append(f"<i>«{h(logged.comment, COMMENT_ON_CARD)}»</i>")
    elif logged.has_voice:
        lines.append(tr("card.voice_comment"))
    lines.append(tr("calls.undo_hint"))
    return "\n".join(lines)
