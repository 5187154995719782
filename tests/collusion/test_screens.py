"""Worked examples (computed by hand, see comments) and invariants of the price screens."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from collusion.screens import (
    CLUSTER_BAND,
    RD_CAP,
    SCREEN_MEANINGS,
    TenderScreens,
    cluster_above_winner,
    kurtosis,
    screens,
    skewness,
)


def test_equal_steps_example() -> None:
    # 100, 110, 120, 130: mean 115, sample std sqrt(500/3) = 12.9099.
    s = screens([130, 100, 120, 110])
    assert s.n_bids == 4
    assert s.cv == pytest.approx(math.sqrt(500 / 3) / 115)
    assert s.spread == pytest.approx(0.3)
    assert s.diffp == pytest.approx(0.1)
    # Losing bids 110, 120, 130 have sample std 10; the gap 110 - 100 is 10.
    assert s.rd == pytest.approx(1.0)
    assert s.gap_share == pytest.approx(1 / 3)
    assert s.skewness == pytest.approx(0.0, abs=1e-12)
    # m2 = 125, m4 = 25625, g2 = 1.64 - 3 = -1.36; G2 = ((5 * -1.36 + 6) * 3) / (2 * 1) = -1.2.
    assert s.kurtosis == pytest.approx(-1.2)
    # Uniform positions 0, 1/3, 2/3, 1 against the ECDF steps 1/4 .. 1: largest gap 1/4.
    assert s.ks_uniform == pytest.approx(0.25)
    assert s.step_cv == pytest.approx(0.0, abs=1e-12)
    assert s.equal_steps
    # Log-ratios 0.09531, 0.08701, 0.08004: CV 0.0874, above the 0.05 threshold.
    assert s.ratio_cv == pytest.approx(0.0874, abs=1e-3)
    assert not s.equal_ratios
    assert s.identical_share == 0.0
    assert s.cluster_above_winner == 0.0


def test_equal_ratios_example() -> None:
    # Each bid 10 % above the previous: steps 10, 11, 12.1 (CV 0.0952) but constant ratios.
    s = screens([100, 110, 121, 133.1])
    assert s.ratio_cv == pytest.approx(0.0, abs=1e-9)
    assert s.equal_ratios
    assert s.step_cv == pytest.approx(0.0952, abs=1e-3)
    assert not s.equal_steps


def test_rank_and_gap_screens_example() -> None:
    # Sorted 100, 110, 112, 114, 124: range 24, gaps 10, 2, 2, 10 (mean gap 6, median 6).
    s = screens([112, 124, 100, 114, 110])
    assert s.gap_ratio == pytest.approx(10 / 6)
    assert s.second_gap_share == pytest.approx(2 / 24)
    assert s.top_gap_share == pytest.approx(10 / 24)
    assert s.max_gap_share == pytest.approx(10 / 24)
    assert s.median_gap_ratio == pytest.approx(1.0)
    # Mid-range 112: only 114 and 124 lie strictly above it.
    assert s.upper_half_share == pytest.approx(2 / 5)
    # Mean 112; deviations 12, 2, 0, 2, 12: MAD 5.6, sample std sqrt(296 / 4) = 8.6023.
    assert s.mad_ratio == pytest.approx(5.6 / math.sqrt(74))
    assert s.lowest_z == pytest.approx(12 / math.sqrt(74))
    assert s.winner_z == s.lowest_z
    # Losing 110, 112, 114, 124: mean 115, sample std sqrt(116 / 3).
    assert s.losing_cv == pytest.approx(math.sqrt(116 / 3) / 115)
    assert s.winner_rank == 0.0


def test_winner_screens_for_average_bid_auctions() -> None:
    s = screens([100, 103, 104, 110], winner_index=1)
    assert s.winner_rank == pytest.approx(1 / 3)
    sd = math.sqrt(((100 - 104.25) ** 2 + 1.25**2 + 0.25**2 + 5.75**2) / 3)
    assert s.winner_z == pytest.approx((104.25 - 103) / sd)
    assert s.lowest_z == pytest.approx((104.25 - 100) / sd)
    assert s.losing_cv == pytest.approx(stats.variation([100, 104, 110], ddof=1))


def test_identical_prices_and_cluster() -> None:
    s = screens([100, 100, 101, 150])
    assert s.identical_share == 0.5
    assert s.diffp == 0.0
    assert s.rd == 0.0
    # Winner 100 (first lowest); losing 100, 101, 150; only 101 lies in (100, 102].
    assert s.cluster_above_winner == pytest.approx(1 / 3)


def test_winner_index_for_average_bid_auctions() -> None:
    # Winner is 103 (not the lowest); losing 100, 104, 110; 104 lies in (103, 105.06].
    assert cluster_above_winner([100, 103, 104, 110], winner_index=1) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="out of range"):
        screens([1, 2], winner_index=2)


def test_single_bid_is_defined() -> None:
    s = screens([100])
    assert s == TenderScreens(
        1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, False, False, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.5, math.sqrt(2 / math.pi), 0.0,
    )  # fmt: skip


def test_two_bids() -> None:
    s = screens([100, 120])
    assert s.cv == pytest.approx(math.sqrt(200) / 110)
    assert s.spread == pytest.approx(0.2)
    assert s.diffp == pytest.approx(0.2)
    assert s.rd == 0.0  # needs two losing bids
    assert s.ks_uniform == pytest.approx(0.5)
    assert s.skewness == 0.0
    assert s.kurtosis == 0.0


def test_all_equal_prices() -> None:
    s = screens([50, 50, 50])
    assert (s.cv, s.spread, s.diffp, s.rd) == (0.0, 0.0, 0.0, 0.0)
    assert s.identical_share == 1.0
    assert s.ks_uniform == 1.0
    assert (s.step_cv, s.equal_steps) == (1.0, False)


def test_rd_capped_when_losing_bids_equal() -> None:
    assert screens([100, 120, 120, 120]).rd == RD_CAP


def test_decimal_equals_float() -> None:
    d = screens([Decimal("100.10"), Decimal("104.55"), Decimal("99.99")])
    f = screens([100.10, 104.55, 99.99])
    assert d == f


@pytest.mark.parametrize("bad", [[], [0], [-1, 2], [float("nan"), 1], [float("inf")]])
def test_invalid_prices(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="bid"):
        screens(bad)


def test_every_screen_documented() -> None:
    assert set(SCREEN_MEANINGS) == set(TenderScreens.__dataclass_fields__)


prices = st.lists(st.floats(min_value=0.01, max_value=1e9, allow_nan=False), min_size=1, max_size=40)


@given(prices)
def test_always_finite(xs: list[float]) -> None:
    assert all(math.isfinite(v) for v in screens(xs).as_dict().values())


@given(prices, st.floats(min_value=1e-3, max_value=1e3), st.randoms())
def test_scale_and_order_invariant(xs: list[float], c: float, rnd: object) -> None:
    # A bid within rounding of the winner or of the cluster band's edge may land on either side
    # once scaled: the screen's threshold is exact, float multiplication is not.
    w = min(xs)
    assume(all(x == w or abs(x - w) > 1e-9 * w for x in xs))
    assume(all(abs(x - w * (1 + CLUSTER_BAND)) > 1e-9 * w for x in xs))
    shuffled = list(xs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = screens(xs).as_dict()
    b = screens([x * c for x in shuffled]).as_dict()
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-6, abs=1e-6), k


@given(st.lists(st.floats(min_value=1, max_value=1e6), min_size=4, max_size=30, unique=True))
def test_moments_match_scipy(xs: list[float]) -> None:
    if max(xs) - min(xs) < 1e-6 * max(xs):
        return
    assert skewness(xs) == pytest.approx(stats.skew(xs, bias=False), rel=1e-6, abs=1e-6)
    assert kurtosis(xs) == pytest.approx(stats.kurtosis(xs, bias=False), rel=1e-6, abs=1e-6)
