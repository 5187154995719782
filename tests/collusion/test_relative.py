"""Market-relative ranks: worked percentiles, minimum history, categories, missing values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from collusion.relative import MIN_CATEGORY_HISTORY, MIN_MARKET_HISTORY, market_ranks, percentile_ranks


def test_mid_rank_percentiles() -> None:
    ref = np.array([1.0, 2.0, 2.0, 3.0])
    # 2.0: one below, two equal -> (1 + 1) / 4; 0.5: none below; 3.5: all below; 1.0: (0 + .5) / 4.
    got = percentile_ranks(np.array([2.0, 0.5, 3.5, 1.0]), ref, min_history=4)
    assert got.tolist() == [0.5, 0.0, 1.0, 0.125]


def test_too_short_a_history_gives_missing() -> None:
    ref = np.arange(MIN_MARKET_HISTORY - 1, dtype=np.float64)
    assert np.isnan(percentile_ranks(ref, ref)).all()
    ref = np.arange(MIN_MARKET_HISTORY, dtype=np.float64)
    assert not np.isnan(percentile_ranks(ref, ref)).any()


def test_missing_values_stay_missing_and_do_not_count() -> None:
    ref = np.r_[np.arange(4.0), [math.nan] * 10]
    got = percentile_ranks(np.array([math.nan, 3.0]), ref, min_history=4)
    assert math.isnan(got[0])
    assert got[1] == pytest.approx(3.5 / 4)


def test_market_ranks_are_free_of_the_market_level() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(50, 3))
    a, b = market_ranks(x), market_ranks(x * 10 + 5)
    assert np.array_equal(a, b)
    assert np.all((a > 0) & (a < 1))
    # The order within the market is kept.
    assert np.array_equal(np.argsort(a[:, 0]), np.argsort(x[:, 0]))


def test_large_categories_rank_within_themselves() -> None:
    n = MIN_CATEGORY_HISTORY
    # Category "a" holds low values, "b" high ones; "c" is too small and is ranked in the market.
    x = np.r_[np.arange(n), 1000 + np.arange(n), [500.0] * 3].reshape(-1, 1)
    cats = ["a"] * n + ["b"] * n + ["c"] * 3
    r = market_ranks(x, cats)
    assert r[0, 0] == pytest.approx(0.5 / n)  # lowest of "a", not of the market
    assert r[n, 0] == pytest.approx(0.5 / n)  # lowest of "b", although above all of "a"
    assert r[-1, 0] == pytest.approx((n + 1.5) / (2 * n + 3))  # market rank of the three equal 500s


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="one row per tender"):
        market_ranks(np.zeros(5))
    with pytest.raises(ValueError, match="one entry per tender"):
        market_ranks(np.zeros((5, 2)), ["a"])
