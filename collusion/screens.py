"""Per-tender price screens computed from the raw bid prices of one tender.

Screens are statistics of the bid distribution that cartels tend to distort: cover bids are placed
close together or at regular distances above the designated winner, which lowers the dispersion and
widens the gap between the winner and the rest.  Every function is pure, accepts floats or
``Decimal`` and returns a finite float for every input (degenerate tenders get documented values, not
NaN), so the screens can be fed to a model without special-casing.

References for the classic screens:

* CV, SPD, DIFFP, RD, KURT, SKEW, KS: Imhof, Karagök & Rutz (2018), "Screening for bid rigging -
  does it work?", Journal of Competition Law & Economics 14(2), 235-261; Huber & Imhof (2019),
  "Machine learning with screens for detecting bid-rigging cartels", International Journal of
  Industrial Organization 65, 277-301.
* RD here follows Imhof et al.: ``(b2 - b1) / s_losing`` where b1 <= b2 are the two lowest bids and
  ``s_losing`` is the sample standard deviation (n - 1 denominator) of the losing bids, i.e. of all
  bids except the lowest one.  (The precomputed RD shipped with the labelled data uses all bids but
  the highest instead; we do not use it.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

Price = float | int | Decimal

#: Cap for RD when the losing bids are all equal but the winner is below them (division by zero).
RD_CAP = 100.0
#: Sorted bids whose successive steps (or ratios) vary by less than this CV count as "equal steps".
EQUAL_STEP_CV = 0.05
#: A losing bid within this relative distance above the winning bid is "clustered above the winner".
CLUSTER_BAND = 0.02
#: Relative tolerance under which two prices count as identical (absorbs float rounding only).
IDENTICAL_RTOL = 1e-9

#: One-line meaning of each screen, in English; keys are the ``TenderScreens`` field names.
SCREEN_MEANINGS: dict[str, str] = {
    "n_bids": "number of bids in the tender",
    "cv": "coefficient of variation: sample standard deviation of the bids over their mean",
    "spread": "relative spread: (highest - lowest) / lowest",
    "diffp": "relative gap between the two lowest bids: (second lowest - lowest) / lowest",
    "rd": "relative distance: gap between the two lowest bids over the std of the losing bids",
    "gap_share": "gap between the two lowest bids as a share of the whole range",
    "kurtosis": "excess kurtosis of the bids (peaked or flat distribution)",
    "skewness": "skewness of the bids (asymmetry around the mean)",
    "ks_uniform": "Kolmogorov-Smirnov distance between the bids and a uniform spread over their range",
    "step_cv": "variation of the differences between successive sorted bids (low = equal steps)",
    "ratio_cv": "variation of the ratios between successive sorted bids (low = equal ratios)",
    "equal_steps": "1 if the sorted bids rise in near-constant steps",
    "equal_ratios": "1 if the sorted bids rise by near-constant ratios",
    "identical_share": "share of bids whose price equals another bid's price",
    "cluster_above_winner": "share of losing bids within 2 % above the winning bid",
    "losing_cv": "coefficient of variation of the losing bids (all bids except the winner)",
    "winner_z": "how far the winning bid lies below the mean bid, in standard deviations",
    "lowest_z": "how far the lowest bid lies below the mean bid, in standard deviations",
    "gap_ratio": "gap between the two lowest bids over the average gap between successive bids",
    "second_gap_share": "gap between the second and third lowest bids as a share of the whole range",
    "top_gap_share": "gap between the two highest bids as a share of the whole range",
    "max_gap_share": "largest gap between successive sorted bids as a share of the whole range",
    "median_gap_ratio": "median gap between successive sorted bids over their mean gap",
    "upper_half_share": "share of bids above the middle of the range",
    "mad_ratio": "mean absolute deviation of the bids over their standard deviation",
    "winner_rank": "share of the other bids priced below the winning bid (0 = the lowest bid won)",
}


@dataclass(frozen=True, slots=True)
class TenderScreens:
    """Screens of one tender; see ``SCREEN_MEANINGS`` for each field."""

    n_bids: int
    cv: float
    spread: float
    diffp: float
    rd: float
    gap_share: float
    kurtosis: float
    skewness: float
    ks_uniform: float
    step_cv: float
    ratio_cv: float
    equal_steps: bool
    equal_ratios: bool
    identical_share: float
    cluster_above_winner: float
    # Within-tender rank and relative-gap screens (scale-free; added with model format 2).
    losing_cv: float
    winner_z: float
    lowest_z: float
    gap_ratio: float
    second_gap_share: float
    top_gap_share: float
    max_gap_share: float
    median_gap_ratio: float
    upper_half_share: float
    mad_ratio: float
    winner_rank: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _prices(prices: Sequence[Price]) -> list[float]:
    values = [float(p) for p in prices]
    for v in values:
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"bid prices must be finite and positive, got {v!r}")
    return values


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


def _sample_std(xs: Sequence[float]) -> float:
    """Sample standard deviation (n - 1 denominator); 0 for fewer than two values."""
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _central_moments(xs: Sequence[float]) -> tuple[float, float, float]:
    m = _mean(xs)
    n = len(xs)
    m2 = math.fsum((x - m) ** 2 for x in xs) / n
    m3 = math.fsum((x - m) ** 3 for x in xs) / n
    m4 = math.fsum((x - m) ** 4 for x in xs) / n
    return m2, m3, m4


def _all_equal(xs: Sequence[float]) -> bool:
    return max(xs) - min(xs) <= IDENTICAL_RTOL * max(xs)


def cv(prices: Sequence[Price]) -> float:
    """Sample std over mean; 0 for a single bid or identical bids."""
    xs = _prices(prices)
    return _sample_std(xs) / _mean(xs) if len(xs) > 1 else 0.0


def spread(prices: Sequence[Price]) -> float:
    """(max - min) / min; 0 for a single bid."""
    xs = _prices(prices)
    return (max(xs) - min(xs)) / min(xs)


def diffp(prices: Sequence[Price]) -> float:
    """(second lowest - lowest) / lowest; 0 for a single bid."""
    xs = sorted(_prices(prices))
    return (xs[1] - xs[0]) / xs[0] if len(xs) > 1 else 0.0


def rd(prices: Sequence[Price]) -> float:
    """(b2 - b1) / s_losing (Imhof et al. 2018).

    Needs two losing bids (n >= 3); 0 otherwise and when b1 == b2; ``RD_CAP`` when the losing bids
    are identical but the lowest bid is below them; capped at ``RD_CAP`` in general.
    """
    xs = sorted(_prices(prices))
    if len(xs) < 3:
        return 0.0
    gap = xs[1] - xs[0]
    if gap <= IDENTICAL_RTOL * xs[1]:
        return 0.0
    s = _sample_std(xs[1:])
    if s <= IDENTICAL_RTOL * xs[1]:
        return RD_CAP
    return min(gap / s, RD_CAP)


def gap_share(prices: Sequence[Price]) -> float:
    """(b2 - b1) / (max - min) in [0, 1]; 0 with fewer than three bids or no range (uninformative)."""
    xs = sorted(_prices(prices))
    if len(xs) < 3 or _all_equal(xs):
        return 0.0
    return (xs[1] - xs[0]) / (xs[-1] - xs[0])


def skewness(prices: Sequence[Price]) -> float:
    """Adjusted Fisher-Pearson skewness (as scipy ``skew(bias=False)``); 0 for n < 3 or equal bids."""
    xs = _prices(prices)
    n = len(xs)
    if n < 3 or _all_equal(xs):
        return 0.0
    m2, m3, _ = _central_moments(xs)
    g1 = m3 / (m2 * math.sqrt(m2))
    return g1 * math.sqrt(n * (n - 1)) / (n - 2)


def kurtosis(prices: Sequence[Price]) -> float:
    """Bias-corrected excess kurtosis (as scipy ``kurtosis(bias=False)``); 0 for n < 4 or equal bids."""
    xs = _prices(prices)
    n = len(xs)
    if n < 4 or _all_equal(xs):
        return 0.0
    m2, _, m4 = _central_moments(xs)
    g2 = m4 / m2**2 - 3.0
    return ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3))


def ks_uniform(prices: Sequence[Price]) -> float:
    """Two-sided KS statistic between the bids and the uniform law on [min, max].

    0 for a single bid; 1 when all bids are equal (a point mass is as far from uniform as it gets).
    """
    xs = sorted(_prices(prices))
    n = len(xs)
    if n == 1:
        return 0.0
    if _all_equal(xs):
        return 1.0
    lo, width = xs[0], xs[-1] - xs[0]
    d = 0.0
    for i, x in enumerate(xs):
        u = (x - lo) / width
        d = max(d, (i + 1) / n - u, u - i / n)
    return d


def _cv_of(values: Sequence[float]) -> float:
    """CV of positive step sizes; 1.0 (what random spacings give) when undefined."""
    if len(values) < 2:
        return 1.0
    m = _mean(values)
    if m <= 0:
        return 1.0
    return _sample_std(values) / m


def step_cv(prices: Sequence[Price]) -> float:
    """CV of the differences between successive sorted bids; 1.0 with fewer than three bids or equal bids."""
    xs = sorted(_prices(prices))
    if len(xs) < 3 or _all_equal(xs):
        return 1.0
    return _cv_of([b - a for a, b in itertools.pairwise(xs)])


def ratio_cv(prices: Sequence[Price]) -> float:
    """CV of the log-ratios between successive sorted bids; 1.0 with fewer than three bids or equal bids."""
    xs = sorted(_prices(prices))
    if len(xs) < 3 or _all_equal(xs):
        return 1.0
    return _cv_of([math.log(b / a) for a, b in itertools.pairwise(xs)])


def identical_share(prices: Sequence[Price]) -> float:
    """Share of bids whose price equals (to ``IDENTICAL_RTOL``) another bid's price; 0 for one bid."""
    xs = sorted(_prices(prices))
    n = len(xs)
    if n < 2:
        return 0.0
    same = [False] * n
    for i in range(n - 1):
        if xs[i + 1] - xs[i] <= IDENTICAL_RTOL * xs[i + 1]:
            same[i] = same[i + 1] = True
    return sum(same) / n


def cluster_above_winner(prices: Sequence[Price], winner_index: int | None = None) -> float:
    """Share of losing bids priced in (w, w * (1 + CLUSTER_BAND)] where w is the winning bid.

    The winner is the lowest bid unless ``winner_index`` says otherwise; 0 for a single bid.
    """
    xs = _prices(prices)
    if len(xs) < 2:
        return 0.0
    w_idx = _winner(xs, winner_index)
    w = xs[w_idx]
    losing = [x for i, x in enumerate(xs) if i != w_idx]
    return sum(1 for x in losing if w < x <= w * (1 + CLUSTER_BAND)) / len(losing)


def _winner(xs: Sequence[float], winner_index: int | None) -> int:
    if winner_index is None:
        return min(range(len(xs)), key=lambda i: xs[i])
    if not 0 <= winner_index < len(xs):
        raise ValueError(f"winner_index {winner_index} out of range for {len(xs)} bids")
    return winner_index


def losing_cv(prices: Sequence[Price], winner_index: int | None = None) -> float:
    """CV (sample std over mean) of the losing bids; 0 with fewer than two losing bids."""
    xs = _prices(prices)
    w_idx = _winner(xs, winner_index)
    losing = [x for i, x in enumerate(xs) if i != w_idx]
    return _sample_std(losing) / _mean(losing) if len(losing) > 1 else 0.0


def below_mean_z(prices: Sequence[Price], index: int) -> float:
    """(mean - bid) / sample std for the bid at ``index``; 0 with fewer than three bids or equal bids."""
    xs = _prices(prices)
    if len(xs) < 3 or _all_equal(xs):
        return 0.0
    return (_mean(xs) - xs[index]) / _sample_std(xs)


#: Values of the relative-gap screens when they are undefined (fewer than three bids or no range):
#: no gap stands out, the gaps are as even as they get, the bids sit symmetrically, and the
#: deviation ratio is the normal law's sqrt(2 / pi).
GAP_DEFAULTS: dict[str, float] = {
    "gap_ratio": 0.0,
    "second_gap_share": 0.0,
    "top_gap_share": 0.0,
    "max_gap_share": 0.0,
    "median_gap_ratio": 1.0,
    "upper_half_share": 0.5,
    "mad_ratio": math.sqrt(2 / math.pi),
}


def gap_screens(prices: Sequence[Price]) -> dict[str, float]:
    """Relative gaps between the sorted bids, all scaled by the range (see ``SCREEN_MEANINGS``)."""
    xs = sorted(_prices(prices))
    n = len(xs)
    if n < 3 or _all_equal(xs):
        return dict(GAP_DEFAULTS)
    width = xs[-1] - xs[0]
    gaps = [(b - a) / width for a, b in itertools.pairwise(xs)]
    ordered = sorted(gaps)
    k = len(ordered)
    median = ordered[k // 2] if k % 2 else (ordered[k // 2 - 1] + ordered[k // 2]) / 2
    mid = (xs[0] + xs[-1]) / 2
    m = _mean(xs)
    return {
        "gap_ratio": gaps[0] * (n - 1),
        "second_gap_share": gaps[1],
        "top_gap_share": gaps[-1],
        "max_gap_share": ordered[-1],
        "median_gap_ratio": median * (n - 1),
        "upper_half_share": sum(1 for x in xs if x > mid) / n,
        "mad_ratio": math.fsum(abs(x - m) for x in xs) / n / _sample_std(xs),
    }


def winner_rank(prices: Sequence[Price], winner_index: int | None = None) -> float:
    """Share of the other bids strictly below the winning bid; 0 for one bid or a lowest winner."""
    xs = _prices(prices)
    if len(xs) < 2:
        return 0.0
    w = xs[_winner(xs, winner_index)]
    return sum(1 for x in xs if x < w) / (len(xs) - 1)


def screens(prices: Sequence[Price], winner_index: int | None = None) -> TenderScreens:
    """All screens of one tender.  ``prices`` must be non-empty, finite and positive."""
    xs = _prices(prices)
    if not xs:
        raise ValueError("a tender needs at least one bid")
    s_cv, r_cv = step_cv(xs), ratio_cv(xs)
    enough = len(xs) >= 3 and not _all_equal(xs)
    return TenderScreens(
        n_bids=len(xs),
        cv=cv(xs),
        spread=spread(xs),
        diffp=diffp(xs),
        rd=rd(xs),
        gap_share=gap_share(xs),
        kurtosis=kurtosis(xs),
        skewness=skewness(xs),
        ks_uniform=ks_uniform(xs),
        step_cv=s_cv,
        ratio_cv=r_cv,
        equal_steps=enough and s_cv < EQUAL_STEP_CV,
        equal_ratios=enough and r_cv < EQUAL_STEP_CV,
        identical_share=identical_share(xs),
        cluster_above_winner=cluster_above_winner(xs, winner_index),
        losing_cv=losing_cv(xs, winner_index),
        winner_z=below_mean_z(xs, _winner(xs, winner_index)),
        lowest_z=below_mean_z(xs, min(range(len(xs)), key=lambda i: xs[i])),
        **gap_screens(xs),
        winner_rank=winner_rank(xs, winner_index),
    )
