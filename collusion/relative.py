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
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class MarketReference:
    """The sorted values of each column over a market's tenders (and over each category large enough),
    so that tenders can be ranked against the market without holding its whole feature matrix."""

    market: tuple[FloatArray, ...]
    categories: dict[str, tuple[FloatArray, ...]]

    @classmethod
    def of(cls, x: FloatArray, categories: Sequence[str] | None = None) -> MarketReference:
        x = _matrix(x, categories)
        by_cat: dict[str, tuple[FloatArray, ...]] = {}
        if categories is not None:
            cats = np.asarray(categories, dtype=object)
            for c in sorted(set(categories) - {""}):
                rows = cats == c
                if rows.sum() >= MIN_CATEGORY_HISTORY:
                    by_cat[c] = _sorted_columns(x[rows])
        return cls(_sorted_columns(x), by_cat)

    def ranks(self, x: FloatArray, categories: Sequence[str] | None = None) -> FloatArray:
        """Percentile ranks of the rows of ``x`` (same columns as the reference): within the row's
        category where the reference holds it and the category has enough history for the column,
        else within the market; NaN where neither has ``MIN_MARKET_HISTORY`` values."""
        x = _matrix(x, categories)
        out = np.column_stack([percentile_ranks(x[:, j], ref) for j, ref in enumerate(self.market)])
        out = out.reshape(x.shape)
        if categories is None:
            return out
        cats = np.asarray(categories, dtype=object)
        for c, refs in self.categories.items():
            rows = np.flatnonzero(cats == c)
            for j, ref in enumerate(refs):
                ranked = percentile_ranks(x[rows, j], ref)
                keep = ~np.isnan(ranked)
                out[rows[keep], j] = ranked[keep]
        return out


def _matrix(x: FloatArray, categories: Sequence[str] | None) -> FloatArray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("expected one row per tender")
    if categories is not None and len(categories) != len(x):
        raise ValueError("categories need one entry per tender")
    return x


def _sorted_columns(x: FloatArray) -> tuple[FloatArray, ...]:
    return tuple(np.sort(col[~np.isnan(col)]) for col in x.T)


def market_ranks(x: FloatArray, categories: Sequence[str] | None = None) -> FloatArray:
    """Each column of ``x`` (rows = the market's tenders) as percentile ranks within the market, the
    market being these rows themselves.

    Rows whose category (non-empty string) has at least ``MIN_CATEGORY_HISTORY`` rows are ranked
    within their category; the rest within the whole market.
    """
    return MarketReference.of(x, categories).ranks(x, categories)
