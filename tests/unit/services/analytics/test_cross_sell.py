import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from services.analytics import category_lift, cross_sell
from tests.unit.services.analytics.builders import day

AS_OF = day("2024-06-30")


def baskets(rows):
    """``(client_id, category, amount)`` rows, all bought on 2024-06-01 unless dated."""
    return pd.DataFrame(
        {
            "client_id": [r[0] for r in rows],
            "date": [day(r[3]) if len(r) > 3 else day("2024-06-01") for r in rows],
            "amount": [r[2] for r in rows],
            "category": [r[1] for r in rows],
        }
    )


def expected(rows):
    """``(client_id, rank, category, lift, source_category)`` rows."""
    return pd.DataFrame(
        {
            "client_id": [r[0] for r in rows],
            "rank": np.array([r[1] for r in rows], dtype=np.int64),
            "category": [r[2] for r in rows],
            "lift": [r[3] for r in rows],
            "source_category": [r[4] for r in rows],
        }
    )


SHOP = baskets(
    [
        (1, "a", 10), (1, "b", 10),
        (2, "a", 10), (2, "b", 10),
        (3, "a", 10), (3, "c", 10),
        (4, "b", 10), (4, "c", 10),
        (5, "a", 10),
    ]
)  # fmt: skip


def test_lift_matrix_by_hand():
    # 5 buyers; a: 4, b: 3, c: 2; a&b: 2, a&c: 1, b&c: 1.
    # Clients 0..4 are SHOP's clients 1..5; categories 0, 1, 2 are a, b, c.
    pairs_client = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4])
    pairs_category = np.array([0, 1, 0, 1, 0, 2, 1, 2, 0])
    lift = category_lift(pairs_client, pairs_category, 3)
    ab = (2 / 4) / (3 / 5)
    ac = (1 / 4) / (2 / 5)
    bc = (1 / 3) / (2 / 5)
    ba = (2 / 3) / (4 / 5)
    np.testing.assert_allclose(lift[0, 1:], [ab, ac])
    np.testing.assert_allclose(lift[1, [0, 2]], [ba, bc])
    np.testing.assert_allclose(lift[2, :2], [(1 / 2) / (4 / 5), (1 / 2) / (3 / 5)])


def test_suggestions_ranked_by_best_lift():
    got = cross_sell(SHOP, AS_OF)
    high = (2 / 4) / (3 / 5)  # = 0.8333, the best lift towards every candidate here
    low = (1 / 4) / (2 / 5)  # a -> c
    assert_frame_equal(
        got,
        expected(
            [
                (1, 1, "c", high, "b"),  # via b -> c; a -> c is only 0.625
                (2, 1, "c", high, "b"),
                (3, 1, "b", high, "a"),  # a -> b and c -> b tie: the first by name
                (4, 1, "a", high, "b"),  # b -> a; c -> a is only 0.625
                (5, 1, "b", high, "a"),
                (5, 2, "c", low, "a"),
            ]
        ),
    )


def test_ties_go_to_the_category_name_and_limit_applies():
    shop = baskets([(1, "x", 5), (1, "z", 5), (2, "x", 5), (2, "y", 5), (3, "x", 5)])
    got = cross_sell(shop, AS_OF)
    # client 3 bought only x; y and z both have lift 1.0 -> alphabetical.
    assert_frame_equal(
        got,
        expected(
            [
                (1, 1, "y", 1.0, "x"),
                (2, 1, "z", 1.0, "x"),
                (3, 1, "y", 1.0, "x"),
                (3, 2, "z", 1.0, "x"),
            ]
        ),
    )
    assert_frame_equal(
        cross_sell(shop, AS_OF, max_suggestions=1),
        expected([(1, 1, "y", 1.0, "x"), (2, 1, "z", 1.0, "x"), (3, 1, "y", 1.0, "x")]),
    )


def test_returned_later_and_uncategorised_lines_do_not_count():
    shop = baskets(
        [
            (1, "x", 5), (1, "y", 5),
            (2, "x", 5),
            (2, "y", 5), (2, "y", -5),  # fully returned: not bought
            (3, "x", 5), (3, "z", 5, "2024-07-01"),  # after as_of
            (3, None, 5),
        ]
    )  # fmt: skip
    got = cross_sell(shop, AS_OF)
    # buyers: 1 {x, y}, 2 {x}, 3 {x}; lift(x -> y) = (1/3)/(1/3) = 1
    assert_frame_equal(got, expected([(2, 1, "y", 1.0, "x"), (3, 1, "y", 1.0, "x")]))


def test_never_co_bought_categories_are_not_suggested():
    got = cross_sell(baskets([(1, "x", 5), (2, "y", 5)]), AS_OF)
    assert got.empty
    assert list(got.columns) == ["client_id", "rank", "category", "lift", "source_category"]


def test_category_column_is_required():
    with pytest.raises(ValueError, match="category"):
        cross_sell(SHOP.drop(columns="category"), AS_OF)


def test_categorical_and_string_inputs_agree():
    categorical = SHOP.assign(
        category=pd.Categorical(SHOP["category"], categories=["c", "unused", "b", "a"]),
        client_id=SHOP["client_id"].map(lambda i: f"client-{i}"),
    )
    got = cross_sell(categorical, AS_OF)
    plain = cross_sell(SHOP, AS_OF)
    assert list(got["category"]) == list(plain["category"])
    assert list(got["source_category"]) == list(plain["source_category"])
    assert list(got["client_id"]) == [f"client-{i}" for i in plain["client_id"]]
    np.testing.assert_allclose(got["lift"], plain["lift"])


def test_many_categories_path_gives_the_same_answer(monkeypatch):
    import services.analytics.cross_selling as module

    rng = np.random.default_rng(4)
    rows = [
        (int(c), f"cat{int(k):02d}", 10.0)
        for c in range(60)
        for k in rng.choice(12, size=rng.integers(1, 5), replace=False)
    ]
    shop = baskets(rows)
    with_masks = cross_sell(shop, AS_OF)
    monkeypatch.setattr(module, "_MASK_BITS", 0)
    assert_frame_equal(cross_sell(shop, AS_OF), with_masks)
    assert len(with_masks) > 60


def test_source_category_explains_the_lift():
    # Whatever the basket, the lift reported is the lift from the source to the suggestion.
    rng = np.random.default_rng(7)
    rows = [
        (int(c), f"cat{int(k):02d}", 10.0)
        for c in range(200)
        for k in rng.choice(8, size=rng.integers(1, 5), replace=False)
    ]
    shop = baskets(rows)
    got = cross_sell(shop, AS_OF)
    bought = shop.groupby("client_id")["category"].agg(set)
    n = shop["client_id"].nunique()
    buyers = shop.groupby("category")["client_id"].agg(set)
    for row in got.itertuples():
        assert row.source_category in bought[row.client_id]
        assert row.category not in bought[row.client_id]
        both = len(buyers[row.source_category] & buyers[row.category])
        lift = both / len(buyers[row.source_category]) / (len(buyers[row.category]) / n)
        assert row.lift == pytest.approx(lift)
        best = max(
            len(buyers[c] & buyers[row.category]) / len(buyers[c]) for c in bought[row.client_id]
        ) / (len(buyers[row.category]) / n)
        assert row.lift == pytest.approx(best)
