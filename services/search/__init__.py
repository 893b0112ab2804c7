"""Client lookup: text normalisation, the name index, and the query use case."""

from services.search.index import IndexRow, SearchIndex, SearchIndexStore, build_index
from services.search.normalize import (
    QueryWord,
    canonical_token,
    clean_text,
    compound_parts,
    key_variants,
    query_keys,
    query_phone,
    query_words,
    search_keys,
    stem,
    surface_token,
    transliterate_to_cyrillic,
    transliterate_to_latin,
)
from services.search.query import (
    MAX_RESULTS,
    PAGE_SIZE,
    OwnerMatches,
    SearchHit,
    SearchPage,
    clean_query,
    search_clients,
)

__all__ = [
    "MAX_RESULTS",
    "PAGE_SIZE",
    "IndexRow",
    "OwnerMatches",
    "QueryWord",
    "SearchHit",
    "SearchIndex",
    "SearchIndexStore",
    "SearchPage",
    "build_index",
    "canonical_token",
    "clean_query",
    "clean_text",
    "compound_parts",
    "key_variants",
    "query_keys",
    "query_phone",
    "query_words",
    "search_clients",
    "search_keys",
    "stem",
    "surface_token",
    "transliterate_to_cyrillic",
    "transliterate_to_latin",
]
