"""Cross-sell suggestions from category co-purchases (association lift)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy import sparse

from services.analytics._frames import (
    amounts_to_cents,
    dates_to_days,
    encode_ids,
    group_starts,
    require_columns,
    segment_sums,
    sort_pairs,
    to_day,
)

# Rows of the (client-category pairs x categories) scratch matrix per chunk:
# bounds memory at ~100 MB whatever the number of clients.
_CHUNK_CELLS = 12_000_000
# Baskets fit in one int64 bit mask up to this many categories.
_MASK_BITS = 62


def category_lift(
    bought_client: np.ndarray, bought_category: np.ndarray, n_categories: int
) -> np.ndarray:
    """Lift matrix ``L[c, d] = P(d | c) / P(d)`` over clients.

    ``P(d | c)`` is the share of clients who bought ``c`` that also bought
    ``d``; ``P(d)`` the share of all buying clients who bought ``d``. Inputs
    are the distinct (client, category) pairs bought. Rows of categories
    nobody bought are 0.
    """
    n_clients = int(bought_client.max()) + 1 if len(bought_client) else 0
    incidence = sparse.csr_matrix(
        (np.ones(len(bought_client), dtype=np.float64), (bought_client, bought_category)),
        shape=(n_clients, n_categories),
    )
    together = (incidence.T @ incidence).toarray()
    buyers_of = np.diag(together).copy()
    n_buyers = int(np.count_nonzero(np.bincount(bought_client)))
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = together * n_buyers / np.outer(buyers_of, buyers_of)
    return np.nan_to_num(lift, nan=0.0, posinf=0.0)


def cross_sell(
    transactions: pd.DataFrame, as_of: dt.date, max_suggestions: int = 3
) -> pd.DataFrame:
    """Suggest categories each client has not bought yet, by co-purchase lift.

    A client has *bought* a category when its net amount in that category
    over the whole history up to ``as_of`` is positive (a fully returned
    category does not count). For a client and a category ``d`` it has not
    bought, the score is ``max(lift(c -> d))`` over the categories ``c`` it
    bought, with ``lift(c -> d) = P(d | c) / P(d)`` over clients (see
    :func:`category_lift`). Candidates nobody co-bought (score 0) are never
    suggested; ties go to the category name in ascending order.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``client_id``, ``date``, ``amount``, ``category``; rows without
        a category or after ``as_of`` are ignored.
    as_of : datetime.date
    max_suggestions : int
        Suggestions per client (the settings' ``cross_sell_max_suggestions``).

    Returns
    -------
    DataFrame
        Sorted by ``client_id`` then ``rank``, with columns:

        - ``client_id``
        - ``rank`` (int64, 1 = best)
        - ``category``: the suggestion
        - ``lift`` (float64): the score, ``lift(source_category -> category)``
        - ``source_category``: the bought category behind the score, so that
          a text can say "buyers of <source_category> buy <category> <lift>
          times more often" (among equal lifts, the first by name).
    """
    require_columns(transactions, ("client_id", "date", "amount", "category"), "transactions")
    if max_suggestions < 0:
        raise ValueError("max_suggestions must not be negative")
    empty = pd.DataFrame(
        {
            "client_id": transactions["client_id"].iloc[:0].to_numpy(),
            "rank": np.zeros(0, dtype=np.int64),
            "category": transactions["category"].iloc[:0].to_numpy(),
            "lift": np.zeros(0, dtype=np.float64),
            "source_category": transactions["category"].iloc[:0].to_numpy(),
        }
    )
    keep = (dates_to_days(transactions["date"], "transactions.date") <= to_day(as_of)) & (
        transactions["category"].notna().to_numpy()
    )
    rows = transactions[keep]
    if len(rows) == 0 or max_suggestions == 0:
        return empty

    client, client_ids = encode_ids(rows["client_id"])
    category, categories = encode_ids(rows["category"], "category")
    cents = amounts_to_cents(rows["amount"])
    order, pair_client, pair_category = sort_pairs(
        client, category, len(client_ids), len(categories)
    )
    starts = group_starts(pair_client, pair_category)
    net = segment_sums(cents[order], starts)
    bought = net > 0
    b_client = pair_client[starts][bought]
    b_category = pair_category[starts][bought]
    if len(b_client) == 0:
        return empty
    n_cat = len(categories)
    lift = category_lift(b_client, b_category, n_cat)
    k = min(max_suggestions, n_cat)
    client_starts = group_starts(b_client)
    buyer_codes = b_client[client_starts]

    if n_cat <= _MASK_BITS:
        # Many clients share the same basket: score each distinct basket once.
        bits = np.left_shift(np.int64(1), b_category.astype(np.int64))
        masks = segment_sums(bits, client_starts)  # distinct bits: sum == OR
        unique_masks, basket_of_buyer = np.unique(masks, return_inverse=True)
        has = np.empty((len(unique_masks), n_cat), dtype=bool)
        for bit in range(n_cat):  # column by column: no baskets x categories int64 scratch
            has[:, bit] = (unique_masks >> bit) & 1
        basket_pair, category_pair = np.nonzero(has)
        basket, rank, category, score, source = _top_candidates(
            basket_pair, category_pair, len(unique_masks), lift, k
        )
        # Expand the suggestions of each basket to the clients holding it.
        per_basket = np.bincount(basket, minlength=len(unique_masks))
        first_row = np.concatenate(([0], np.cumsum(per_basket)[:-1]))
        basket_of_buyer = basket_of_buyer.reshape(-1)
        n_rows = per_basket[basket_of_buyer]
        offsets = np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
        rows = np.repeat(first_row[basket_of_buyer], n_rows) + (
            np.arange(int(n_rows.sum())) - offsets
        )
        client_codes = np.repeat(buyer_codes, n_rows)
        rank, category, score = rank[rows], category[rows], score[rows]
        source = source[rows]
    else:
        buyer_index = np.repeat(
            np.arange(len(client_starts)), np.diff(np.append(client_starts, len(b_client)))
        )
        buyer, rank, category, score, source = _top_candidates(
            buyer_index, b_category, len(client_starts), lift, k
        )
        client_codes = buyer_codes[buyer]

    if len(client_codes) == 0:
        return empty
    return pd.DataFrame(
        {
            "client_id": client_ids[client_codes],
            "rank": rank.astype(np.int64),
            "category": categories[category],
            "lift": score,
            "source_category": categories[source],
        }
    )


def _top_candidates(
    owner: np.ndarray, category: np.ndarray, n_owners: int, lift: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Top-``k`` unbought categories per owner (client or basket) by best lift.

    ``owner``/``category`` are the bought pairs sorted by owner then category,
    every owner in ``0..n_owners-1`` present. Returns ``(owner, rank,
    category, score, source)`` rows sorted by owner then rank, where
    ``source`` is the bought category giving the score (the first by name
    among equal ones); zero scores are dropped.
    """
    n_cat = lift.shape[0]
    starts = group_starts(owner)
    bounds = np.append(starts, len(owner))
    per_chunk = max(1, _CHUNK_CELLS // max(n_cat, 1))
    outputs: list[tuple[np.ndarray, ...]] = []
    i = 0
    while i < n_owners:
        # Chunk by pairs so that the pairs x categories scratch stays bounded.
        j = int(np.searchsorted(bounds, bounds[i] + per_chunk, side="right")) - 1
        j = min(max(j, i + 1), n_owners)
        lo, hi = bounds[i], bounds[j]
        pair_lift = lift[category[lo:hi]]
        local_starts = starts[i:j] - lo
        scores = np.maximum.reduceat(pair_lift, local_starts, axis=0)
        pair_owner = owner[lo:hi] - i
        scores[pair_owner, category[lo:hi]] = 0.0  # never suggest what was bought
        # A stable sort of -score keeps ascending category codes, i.e. names,
        # among equal scores.
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_score = np.take_along_axis(scores, top, axis=1)
        # The source of each suggestion: the owner's first bought pair whose
        # lift towards the suggested category equals the score.
        matches = np.take_along_axis(pair_lift, top[pair_owner], axis=1) == top_score[pair_owner]
        pair_index = np.arange(hi - lo)[:, None]
        first = np.minimum.reduceat(np.where(matches, pair_index, hi - lo), local_starts, axis=0)
        valid = top_score > 0
        rows, ranks = np.nonzero(valid)
        source = category[lo:hi][np.minimum(first[valid], hi - lo - 1)]
        outputs.append((rows + i, ranks + 1, top[valid], top_score[valid], source))
        i = j
    if not outputs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0), empty
    return tuple(np.concatenate(parts) for parts in zip(*outputs, strict=True))  # type: ignore[return-value]
