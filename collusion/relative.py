"""Screens relative to their own market: percentile ranks within the region's (or input file's) history.

A cartel's prices are unusual *where they happen*: a CV of 3 % is low among road works and ordinary
among milk contracts.  The rank of a tender's screen among the screens of its market's tenders carries
that, whatever the market's level.  The reference is the market's history including the tender itself
(the platform holds the region's history; the offline scorer the whole input file).

Minimum history: a rank needs ``MIN_MARKET_HISTORY`` tenders with the screen defined in the market,
else it is missing (NaN) and the model falls back on its missing-value branches.  Where a category
(e.g. works / goods / services, or a contract type) holds at least ``MIN_CATEGORY_HISTORY`` tenders, the
rank is taken within the category instead.  Pure numpy functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Tenders with the screen defined that a market needs before a rank means anything.
MIN_MARKET_HISTORY = 30
#: Tenders a category needs before ranks are taken within it rather than within the whole market.
MIN_CATEGORY_HISTORY = 100


def percentile_ranks(
    values: FloatArray, reference: FloatArray, min_history: int = MIN_MARKET_HISTORY
) -> FloatArray:
    """Mid-rank percentile of each value among ``reference``: (# below + ½ # equal) / # reference.

    NaN values, and every value when the reference has fewer than ``min_history`` defined entries,
    give NaN.  NaN entries of the reference are ignored.  Results lie in [0, 1].
    """
    v = np.asarray(values, dtype=np.float64)
    ref = np.sort(np.asarray(reference, dtype=np.float64)[~np.isnan(reference)])
    out = np.full(v.shape, np.nan)
    if ref.size < max(min_history, 1):
        return out
    ok = ~np.isnan(v)
    below = np.searchsorted(ref, v[ok], side="left")
    upto = np.searchsorted(ref, v[ok], side="right")
    out[ok] = (below + 0.5 * (upto - below)) / ref.size
    return out


def market_ranks(x: FloatArray, categories: Sequence[str] | None = None) -> FloatArray:
    """Each column of ``x`` (rows = the market's tenders) as percentile ranks within the market.

    Rows whose category (non-empty string) has at least ``MIN_CATEGORY_HISTORY`` rows are ranked
    within their category; the rest within the whole market.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("expected one row per tender")
    out = (
        np.column_stack([percentile_ranks(x[:, j], x[:, j]) for j in range(x.shape[1])])
        if x.size
        else x.copy()
    )
    if categories is None:
        return out.reshape(x.shape)
    if len(categories) != len(x):
        raise ValueError("categories need one entry per tender")
    cats = np.asarray(categories, dtype=object)
    for c in sorted(set(categories) - {""}):
        rows = np.flatnonzero(cats == c)
        if rows.size < MIN_CATEGORY_HISTORY:
            continue
        sub = x[rows]
        for j in range(x.shape[1]):
            ranked = percentile_ranks(sub[:, j], sub[:, j])
            keep = ~np.isnan(ranked)
            out[rows[keep], j] = ranked[keep]
    return out
