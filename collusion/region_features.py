"""Screen-model inputs that need more than the tender's own prices: its estimate (ceiling price) and its
screens' ranks among the region's history.

The detector holds the region's history (``GraphIndex``); the offline scorer holds the whole input
file, loaded into the same index.  Either is "the market" for ``collusion.relative``.  A tender without
an estimate gets NaN estimate columns; a region with fewer than ``relative.MIN_MARKET_HISTORY`` tenders
with screens gets NaN ranks; the model takes its missing-value branches for both (see
docs/collusion-model.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from collusion.estimate_screens import ESTIMATE_MEANINGS, estimate_columns, estimate_screens
from collusion.graph import GraphIndex
from collusion.relative import MarketReference
from collusion.screen_model import FEATURE_NAMES, ScreenModel, feature_matrix, rank_inputs, with_market_ranks
from collusion.screens import TenderScreens
from collusion.screens_batch import ScreenTable

FloatArray = NDArray[np.float64]
_CHUNK = 4096  # tenders turned into feature rows at once while building the reference


@dataclass(frozen=True, slots=True)
class RegionInputs:
    """Per tender code: estimate screens (rows of ``estimate_columns``) and category; the region's
    rank reference (None when the model reads no ranks)."""

    estimates: FloatArray
    categories: list[str]
    reference: MarketReference | None

    def rows(self, tenders: Sequence[int], items: Sequence[TenderScreens]) -> FloatArray:
        """Feature rows of these tenders (codes) with their screens."""
        est = self.estimates[np.asarray(tenders, np.int64)] if len(tenders) else self.estimates[:0]
        x = feature_matrix(items)
        x[:, _EST_AT] = est
        if self.reference is None:
            return x
        return with_market_ranks(x, [self.categories[t] for t in tenders], self.reference)


_EST_AT = [FEATURE_NAMES.index(f) for f in ESTIMATE_MEANINGS]


def region_inputs(model: ScreenModel, index: GraphIndex, table: ScreenTable) -> RegionInputs:
    """Estimate screens of every tender and, if the model reads ranks, the region's reference."""
    n_t = len(index.tids)
    est = np.full(n_t, np.nan)
    cats = [""] * n_t
    for t, rec in index.tenders.items():
        if rec.estimate is not None:
            est[t] = rec.estimate
        cats[t] = rec.category
    tender, _, price, win = index.columns()
    columns = estimate_columns(tender, price, win, est)
    inputs = RegionInputs(columns, cats, None)
    if not model.needs_ranks:
        return inputs
    have = np.flatnonzero(table.row >= 0)
    parts = [rank_inputs(feature_matrix([]))]
    for lo in range(0, have.size, _CHUNK):
        ids = have[lo : lo + _CHUNK].tolist()
        items = [s for s in table.at(ids) if s is not None]
        parts.append(rank_inputs(inputs.rows(ids, items)))
    reference = MarketReference.of(np.vstack(parts), [cats[t] for t in have.tolist()])
    return RegionInputs(columns, cats, reference)


def tender_row(
    inputs: RegionInputs | None,
    s: TenderScreens,
    prices: Sequence[float],
    winner: int | None,
    estimate: float | None,
    category: str,
) -> FloatArray:
    """One tender's feature row against a (possibly older) region reference: its own estimate screens
    are computed from its bids, so a tender added after the reference was built is scored right."""
    # As ``estimate_columns``: an estimate that is not finite and positive counts as unknown.
    known = estimate if estimate is not None and math.isfinite(estimate) and estimate > 0 else None
    x = feature_matrix([s], estimates=[estimate_screens(prices, known, winner)])
    if inputs is None or inputs.reference is None:
        return x
    return with_market_ranks(x, [category], inputs.reference)
