"""Lookup results as text."""

from __future__ import annotations

from services.search import MAX_RESULTS, SearchPage
from ui.formatting import h
from ui.i18n import Translator


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
