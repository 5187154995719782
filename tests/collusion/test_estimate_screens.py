"""Estimate (ceiling price) screens: worked examples, the no-estimate path and bad input."""

from __future__ import annotations

import math

import pytest

from collusion.estimate_screens import CEILING_BAND, ESTIMATE_MEANINGS, ESTIMATE_NAMES_ZH, estimate_screens


def test_worked_example_lowest_wins() -> None:
    # Ceiling 100: bids 90, 98, 99, 105 -> ratios .90 .98 .99 1.05; the lowest (.90) wins.
    e = estimate_screens([98, 90, 105, 99], 100)
    assert e is not None
    assert e.winner_to_estimate == pytest.approx(0.90)
    assert e.mean_to_estimate == pytest.approx((0.90 + 0.98 + 0.99 + 1.05) / 4)
    m = 0.98
    assert e.estimate_ratio_sd == pytest.approx(
        math.sqrt(((0.90 - m) ** 2 + (0.98 - m) ** 2 + (0.99 - m) ** 2 + (1.05 - m) ** 2) / 3)
    )
    # .98 and .99 lie in [0.97, 1]; .90 is too low, 1.05 is above the ceiling.
    assert e.near_ceiling_share == pytest.approx(2 / 4)
    assert e.above_estimate_share == pytest.approx(1 / 4)
    assert e.estimate == 100.0


def test_given_winner_and_ceiling_edges() -> None:
    # Average-bid auction: the second bid won.  A bid exactly at the ceiling is under it, not above;
    # a bid exactly at the band's lower edge counts as near.
    low = 100 * (1 - CEILING_BAND)
    e = estimate_screens([80, low, 100], 100, winner_index=1)
    assert e is not None
    assert e.winner_to_estimate == pytest.approx(low / 100)
    assert e.near_ceiling_share == pytest.approx(2 / 3)
    assert e.above_estimate_share == 0.0


def test_single_bid_has_no_dispersion() -> None:
    e = estimate_screens([120], 100)
    assert e is not None
    assert (e.winner_to_estimate, e.estimate_ratio_sd, e.above_estimate_share) == (1.2, 0.0, 1.0)


def test_scale_free() -> None:
    a = estimate_screens([90, 95, 99], 100)
    b = estimate_screens([9e6, 9.5e6, 9.9e6], 1e7)
    assert a is not None
    assert b is not None
    for k, v in a.as_dict().items():
        if k != "estimate":
            assert getattr(b, k) == pytest.approx(v)


def test_without_estimate_there_are_none() -> None:
    assert estimate_screens([90, 95, 99], None) is None


@pytest.mark.parametrize("bad", [0, -5, math.nan, math.inf])
def test_bad_estimate_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="estimate"):
        estimate_screens([90, 95], bad)


def test_bad_bids_are_refused_even_without_estimate() -> None:
    with pytest.raises(ValueError, match="finite and positive"):
        estimate_screens([90, -1], None)
    with pytest.raises(ValueError, match="at least one bid"):
        estimate_screens([], 100)
    with pytest.raises(ValueError, match="out of range"):
        estimate_screens([90, 95], 100, winner_index=2)


def test_every_screen_is_named_in_both_languages() -> None:
    assert set(ESTIMATE_MEANINGS) == set(ESTIMATE_NAMES_ZH)
