"""The dashboard page's texts: its catalog, the number and date formats, segment meanings.

The page is drawn in the browser; it gets every word from here, in the viewer's language,
so the bot and the dashboard write figures, dates and statuses the same way.
"""

from __future__ import annotations

from typing import Any

from services.analytics.settings import SEGMENTS
from ui.i18n import DEFAULT_LANGUAGE, Translator, catalog
from ui.texts.card import segment_meaning

_SECTIONS = ("webapp.", "format.", "status.lifecycle.")


def page_texts(tr: Translator) -> dict[str, Any]:
    """Keys without the `webapp.` prefix (others keep theirs), Russian where one is missing.

    Plural entries are tables of CLDR forms (`one`, `few`, `many`, `other`).
    """
    texts: dict[str, Any] = {}
    for language in (DEFAULT_LANGUAGE, tr.language):
        for key, value in catalog(language).items():
            if key.startswith(_SECTIONS):
                texts[key.removeprefix("webapp.")] = value
    for segment in SEGMENTS:
        texts[f"segment.{segment}"] = segment_meaning(segment, tr.language)
    return texts
