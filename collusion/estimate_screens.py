"""Screens that read the tender's estimate or ceiling price (最高限价 / 招标控制价), when it is known.

A Chinese tender always publishes its ceiling price; many foreign data sets publish a pre-tender
estimate.  Cartels raise the price they are paid: the winning bid sits high relative to the estimate,
the cover bids crowd just under the ceiling, and the bids spread little around it.  The ratios are
scale-free (a bid over the estimate of the same tender), so they compare across tenders and currencies.

Every function is pure.  A tender without an estimate has no estimate screens (``None``); the model then
reads them as missing, which is how it was trained on the markets without one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

from collusion.screens import Price, _prices, _sample_std, _winner

#: A bid within this share under the ceiling (estimate) counts as "just under the ceiling".
CEILING_BAND = 0.03
#: Relative tolerance for "at or under the ceiling" (absorbs rounding of published amounts).
CEILING_RTOL = 1e-9

ESTIMATE_MEANINGS: dict[str, str] = {
    "winner_to_estimate": "winning bid over the estimate (ceiling) price",
    "mean_to_estimate": "mean bid over the estimate (ceiling) price",
    "estimate_ratio_sd": "standard deviation of the bids over the estimate (dispersion around it)",
    "near_ceiling_share": "share of bids within 3 % under the estimate (ceiling) price",
    "above_estimate_share": "share of bids above the estimate (ceiling) price",
    "estimate": "the tender's estimate (ceiling) price: its size",
}

ESTIMATE_NAMES_ZH: dict[str, str] = {
    "winner_to_estimate": "中标价与最高限价（预算）之比",
    "mean_to_estimate": "平均报价与最高限价（预算）之比",
    "estimate_ratio_sd": "报价相对最高限价（预算）的离散程度",
    "near_ceiling_share": "紧贴最高限价（3%以内）的报价占比",
    "above_estimate_share": "高于最高限价（预算）的报价占比",
    "estimate": "项目规模（最高限价或预算金额）",
}


@dataclass(frozen=True, slots=True)
class EstimateScreens:
    """Screens of one tender against its estimate; see ``ESTIMATE_MEANINGS``."""

    winner_to_estimate: float
    mean_to_estimate: float
    estimate_ratio_sd: float
    near_ceiling_share: float
    above_estimate_share: float
    estimate: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def valid_estimate(estimate: Price | None) -> float | None:
    """The estimate as a float, or None when it is absent; ValueError when it is not finite and positive."""
    if estimate is None:
        return None
    e = float(estimate)
    if not math.isfinite(e) or e <= 0:
        raise ValueError(f"the estimate must be finite and positive, got {e!r}")
    return e


def estimate_screens(
    prices: Sequence[Price], estimate: Price | None, winner_index: int | None = None
) -> EstimateScreens | None:
    """All estimate screens of one tender, or None without an estimate.

    ``estimate_ratio_sd`` is 0 for a single bid (sample std, n - 1 denominator).
    """
    e = valid_estimate(estimate)
    xs = _prices(prices)
    if not xs:
        raise ValueError("a tender needs at least one bid")
    if e is None:
        return None
    ratios = [x / e for x in xs]
    w = ratios[_winner(xs, winner_index)]
    under = 1.0 + CEILING_RTOL
    near = sum(1 for r in ratios if 1.0 - CEILING_BAND <= r <= under)
    above = sum(1 for r in ratios if r > under)
    return EstimateScreens(
        winner_to_estimate=w,
        mean_to_estimate=math.fsum(ratios) / len(ratios),
        estimate_ratio_sd=_sample_std(ratios),
        near_ceiling_share=near / len(ratios),
        above_estimate_share=above / len(ratios),
        estimate=e,
    )


def estimate_columns(
    tender: NDArray[np.int64],
    price: NDArray[np.float64],
    winner: NDArray[np.bool_],
    estimate: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``estimate_screens`` of many tenders at once: one row per tender code, columns in
    ``ESTIMATE_MEANINGS`` order, NaN for a tender without an estimate (NaN or not positive in
    ``estimate``, indexed by tender code) or without bids.

    Bids are rows (any order); the winner is the single flagged bid, else the lowest, as in the
    detector.  Prices must be finite and positive (the caller's screens already demand it).
    """
    n_t = len(estimate)
    out = np.full((n_t, len(ESTIMATE_MEANINGS)), np.nan)
    e = np.asarray(estimate, dtype=np.float64)
    has = np.isfinite(e) & (e > 0)
    keep = has[tender]
    t, r = tender[keep], price[keep] / e[tender[keep]]
    if t.size == 0:
        return out
    n = np.bincount(t, minlength=n_t).astype(np.float64)
    ok = n > 0
    mean = np.divide(np.bincount(t, r, n_t), n, out=np.zeros(n_t), where=ok)
    dev = np.bincount(t, (r - mean[t]) ** 2, n_t)
    sd = np.sqrt(np.divide(dev, n - 1, out=np.zeros(n_t), where=n > 1))
    under = 1.0 + CEILING_RTOL
    near = np.bincount(t, ((r >= 1.0 - CEILING_BAND) & (r <= under)).astype(np.float64), n_t)
    above = np.bincount(t, (r > under).astype(np.float64), n_t)
    w = winner[keep]
    n_win = np.bincount(t[w], minlength=n_t)
    lowest = np.full(n_t, np.inf)
    np.minimum.at(lowest, t, r)
    flagged = np.full(n_t, np.nan)
    flagged[t[w]] = r[w]
    win_ratio = np.where(n_win == 1, flagged, lowest)
    cols = [win_ratio, mean, sd, near / np.maximum(n, 1), above / np.maximum(n, 1), e]
    out[ok] = np.column_stack(cols)[ok]
    return out
