"""Client lookup: text normalisation, the name index, and the query use case."""

from services.search.index import SearchIndex, SearchIndexStore, build_index
from services.search.normalize import (
    canonical_token,
    key_variants,
    query_keys,
    query_phone,
    search_keys,
    stem,
    transliterate_to_cyrillic,
    transliterate_to_latin,
)
from services.search.query import MAX_RESULTS, PAGE_SIZE, SearchHit, SearchPage, search_clients

__all__ = [
    "MAX_RESULTS",
    "PAGE_SIZE",
    "SearchHit",
    "SearchIndex",
    "SearchIndexStore",
    "SearchPage",
    "build_index",
    "canonical_token",
    "key_variants",
    "query_keys",
    "query_phone",
    "search_clients",
    "search_keys",
    "stem",
    "transliterate_to_cyrillic",
    "transliterate_to_latin",
]
