"""The client card and its history: pure functions of the card DTOs and a translator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.analytics import SEGMENT_MEANINGS
from services.clients import ClientCard, HistoryKind, HistoryPage, InteractionView, NoteView
from ui.formatting import VIP_MARK, format_date, format_moment, format_money, format_time, h
from ui.i18n import Translator
from ui.texts.calls import detail_lines, outcome_label
from ui.texts.explain import (
    cross_sell_reason,
    next_contact_reason,
    reason_line,
    risk_reason,
    segment_reason,
    status_reason,
    value_line,
)

COMMENT_ON_CARD = 300
COMMENT_IN_HISTORY = 200


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
        when = format_date(next_due, tr)
        return "<b>" + tr("card.due.overdue", days=days) + "</b> " + tr("card.due.since", date=when)
    if overdue == 0:
        return "<b>" + tr("card.due.today") + "</b>"
    return format_date(next_due, tr)


def _details(item: InteractionView, zone: ZoneInfo, tr: Translator) -> list[str]:
    return detail_lines(
        tr,
        zone,
        meeting_at=item.meeting_at,
        meeting_place=item.meeting_place,
        refusal_reason=item.refusal_reason,
        order_amount=item.order_amount,
    )


def _interaction_line(item: InteractionView, zone: ZoneInfo, tr: Translator) -> str:
    who = h(item.user_name, 60) if item.user_name else tr("card.someone")
    line = f"{format_moment(item.occurred_at, zone, tr)}, {who} — "
    line += outcome_label(item.outcome, tr)
    return line


def _reason(lines: list[str], text: str | None) -> None:
    if text:
        lines.append(reason_line(text))


def card_text(card: ClientCard, tr: Translator, zone: ZoneInfo) -> str:
    lang = tr.language
    lines = [(f"{VIP_MARK} " if card.is_vip else "") + f"<b>{h(card.name)}</b>"]
    if card.is_vip:
        reason = f": {h(card.vip_reason, 150)}" if card.vip_reason else ""
        lines.append(tr("card.vip") + reason)
    place = " · ".join(h(v, 150) for v in (card.company, card.city) if v)
    if place:
        lines.append(f"🏢 {place}")
    if card.phones:
        lines.append("📞 " + ", ".join(h(phone, 40) for phone in card.phones[:3]))
    if card.email:
        lines.append(tr("card.email", email=h(card.email, 100)))
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
    reasons = card.reasons
    if reasons is not None and snapshot is not None and snapshot.segment:
        _reason(lines, segment_reason(reasons, tr))
    status = snapshot.status if snapshot else None
    status_key = f"status.lifecycle.{status}"
    status_words = (tr(status_key) if tr.has(status_key) else h(status, 30)) if status else ""
    status_words = status_words or tr("status.unknown")
    if card.churn_risk:
        risk_words = tr(f"status.risk.{card.churn_risk}")
        lines.append(tr("card.status", status=status_words, risk=risk_words))
    elif status in ("lost", "potential"):  # left, or never came: no risk to speak of
        lines.append(tr("card.status_only", status=status_words))
    else:
        lines.append(tr("card.status", status=status_words, risk=tr("status.unknown")))
    if reasons is not None:
        _reason(lines, status_reason(reasons, tr))
        _reason(lines, risk_reason(reasons, tr))

    if card.last_purchase_on is not None and card.last_purchase_amount is not None:
        lines.append(
            tr(
                "card.last_purchase",
                date=format_date(card.last_purchase_on, tr),
                amount=format_money(card.last_purchase_amount, tr),
            )
        )
    else:
        lines.append(tr("card.no_purchases"))
    lines.append(tr("card.revenue_12m", amount=format_money(card.revenue_12m, tr)))
    if reasons is not None:
        value = value_line(reasons, tr)
        if value:
            lines.append(value)

    last = card.last_interaction
    if last is not None:
        lines.append(tr("card.last_contact", contact=_interaction_line(last, zone, tr)))
        lines += _details(last, zone, tr)
        if last.comment:
            lines.append(f"<i>«{h(last.comment, COMMENT_ON_CARD)}»</i>")
        if last.has_voice and (last.has_comment_and_voice or not last.comment):
            lines.append(tr("card.voice_comment"))
    else:
        lines.append(tr("card.no_contacts"))
    due = due_text(card.next_due, card.today, tr)
    if (
        last is not None
        and last.next_contact_at is not None
        and last.next_contact_on == card.next_due
    ):  # a call-back at a set time: the time too
        due = f"{due} {format_time(last.next_contact_at.astimezone(zone))}"
    lines.append(tr("card.next_due", due=due))
    if reasons is not None and card.next_due is not None:
        _reason(lines, next_contact_reason(reasons.next_contact, tr))
    if snapshot is not None and snapshot.cross_sell:
        offer = ", ".join(h(item, 60) for item in snapshot.cross_sell[:3])
        lines.append(tr("card.cross_sell", categories=offer))
        if reasons is not None:
            _reason(lines, cross_sell_reason(reasons, tr))
    return "\n".join(lines)


def history_text(page: HistoryPage, tr: Translator, zone: ZoneInfo) -> str:
    lines = [tr("card.history.title", name=h(page.client_name, 100))]
    if page.total == 0:
        lines.append(tr("card.history.empty"))
        return "\n".join(lines)
    lines.append(tr("card.history.page", page=page.page + 1, pages=page.pages, total=page.total))
    for entry in page.entries:
        lines.append("")
        if entry.kind == HistoryKind.PURCHASE:
            amount = format_money(entry.amount or Decimal(0), tr)
            what = f" — {h(entry.category, 60)}" if entry.category else ""
            lines.append(f"🛒 {format_date(entry.day, tr)}: {amount}{what}")
            continue
        if entry.kind == HistoryKind.NOTE and entry.note is not None:
            lines += note_lines(entry.note, zone, tr)
            continue
        item = entry.interaction
        if item is None:
            continue
        lines.append(f"📞 {_interaction_line(item, zone, tr)}")
        lines += _details(item, zone, tr)
        if item.comment:
            lines.append(f"<i>«{h(item.comment, COMMENT_IN_HISTORY)}»</i>")
        if item.has_voice and (item.has_comment_and_voice or not item.comment):
            lines.append(tr("card.voice_comment"))
    return "\n".join(lines)


def note_lines(note: NoteView, zone: ZoneInfo, tr: Translator) -> list[str]:
    """A note in the history: when, who, and the text (it is not a contact)."""
    who = h(note.user_name, 60) if note.user_name else tr("card.someone")
    head = f"📝 {format_moment(note.created_at, zone, tr)}, {who} — {tr('card.note_label')}"
    return [head, f"<i>{h(note.text, COMMENT_IN_HISTORY)}</i>"]
