"""Texts of adding a client from the chat, editing contacts, notes and handing over."""

from __future__ import annotations

from collections.abc import Sequence

from services.client_records import ClientKind, HandOver
from services.clients import ClientCard, format_phone
from ui.declension import Case, in_case
from ui.formatting import h
from ui.i18n import Translator


def draft_text(
    name: str,
    kind: ClientKind,
    tr: Translator,
    *question: str,
    phones: Sequence[str] = (),
    tax_id: str | None = None,
    city: str | None = None,
) -> str:
    """The new client so far, then what is asked next."""
    lines = [tr("records.add.title", name=h(name, 100))]
    lines.append(tr("records.add.line_kind", kind=tr(f"records.add.kind_{kind.value}")))
    if phones:
        shown = ", ".join(format_phone(phone) for phone in phones)
        lines.append(tr("records.add.line_phones", phones=h(shown, 200)))
    if tax_id:
        lines.append(tr("records.add.line_tax_id", tax_id=h(tax_id, 12)))
    if city:
        lines.append(tr("records.add.line_city", city=h(city, 100)))
    if question:
        lines.append("")
        lines += question
    return "\n".join(lines)


def exists_text(tax_id: str, owner_name: str | None, visible: bool, tr: Translator) -> str:
    if visible:
        return tr("records.add.exists_visible", tax_id=h(tax_id, 12))
    if owner_name is None:
        return tr("records.add.exists_no_owner", tax_id=h(tax_id, 12))
    owner = h(in_case(owner_name, Case.GENITIVE, tr), 60)
    return tr("records.add.exists_hidden", tax_id=h(tax_id, 12), owner=owner)


def contacts_text(card: ClientCard, tr: Translator) -> str:
    return tr("records.contacts.title", name=h(card.name, 100))


def contact_question(card: ClientCard, field: str, tr: Translator) -> str:
    """Asks for the new value and says what is there now."""
    none = tr("records.contacts.none")
    current = {
        "p": ", ".join(card.phones) or none,
        "e": card.email or none,
        "g": card.city or none,
    }[field]
    key = {"p": "ask_phones", "e": "ask_email", "g": "ask_city"}[field]
    return tr(f"records.contacts.{key}", current=h(current, 200))


def note_question(name: str, tr: Translator) -> str:
    return tr("records.note.ask", name=h(name, 100))


def hand_over_text(options: HandOver, tr: Translator) -> str:
    if not options.targets:
        return tr("records.hand.no_targets")
    name = h(options.client_name, 100)
    if options.owner_name is None:
        return tr("records.hand.choose_no_owner", name=name)
    owner = h(in_case(options.owner_name, Case.GENITIVE, tr), 60)
    return tr("records.hand.choose", name=name, owner=owner)


def handed_over_text(card: ClientCard, tr: Translator) -> str:
    target = h(in_case(card.owner_name or "", Case.DATIVE, tr), 60)
    return tr("records.hand.done", name=h(card.name, 100), target=target)
