"""Lookup results as text."""

from __future__ import annotations

from services.search import MAX_RESULTS, OwnerMatches, SearchPage
from ui.declension import Case, in_case
from ui.formatting import h
from ui.i18n import Translator

NAME_IN_OFFER = 60


def search_text(page: SearchPage, tr: Translator, *, for_log: bool = False) -> str:
    query = h(page.query, 60)
    if page.total == 0:
        return not_found_text(page, tr, for_log=for_log)
    count = tr.plural("common.clients", page.total)
    key = "search.found_for_log" if for_log else "search.found"
    lines = [tr(key, count=count, query=query)]
    if page.truncated:
        lines.append(tr("search.truncated", shown=MAX_RESULTS))
    if page.pages > 1:
        lines.append(tr("lists.page", page=page.page + 1, pages=page.pages))
    return "\n".join(lines)


def _owner(match: OwnerMatches, tr: Translator) -> str:
    if match.owner_name is None:
        return tr("search.elsewhere_no_owner")
    return h(in_case(match.owner_name, Case.GENITIVE, tr), 60)


def not_found_text(page: SearchPage, tr: Translator, *, for_log: bool = False) -> str:
    """Nothing among the viewer's clients: whose client it is, a hint, or the offer to add."""
    query = h(page.query, 60)
    if page.ambiguous_tail:
        return tr(
            "search.ambiguous_tail", count=tr.plural("search.tail_clients", page.ambiguous_tail)
        )
    if page.segment is not None:
        return tr("search.not_found_segment", query=query, segment=page.segment)
    if len(page.elsewhere) == 1 and page.elsewhere[0].client_name:
        match = page.elsewhere[0]
        text = tr(
            "search.elsewhere_one",
            query=query,
            client=h(match.client_name, 80),
            owner=_owner(match, tr),
        )
        return f"{text}\n{tr('search.elsewhere_hint')}"
    if page.elsewhere:
        owners = ", ".join(
            tr(
                "search.elsewhere_owner",
                clients=tr.plural("common.clients", match.count),
                owner=_owner(match, tr),
            )
            for match in page.elsewhere
        )
        return f"{tr('search.elsewhere_many', query=query, owners=owners)}\n" + tr(
            "search.elsewhere_hint"
        )
    text = tr("search.not_found", query=query)
    if offers_new_client(page, for_log=for_log):
        text += "\n\n" + tr("search.offer_add", name=h(page.query, NAME_IN_OFFER))
    return text


def offers_new_client(page: SearchPage, *, for_log: bool = False) -> bool:
    """A name nobody has, typed to find a client: it may be a new one."""
    return (
        page.total == 0
        and not for_log
        and not page.elsewhere
        and not page.ambiguous_tail
        and page.segment is None
        and not page.identifier_like
        and any(ch.isalpha() for ch in page.query)
    )
