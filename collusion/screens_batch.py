"""The price screens of many tenders at once, as numpy segment operations.

Same definitions, degenerate cases and constants as ``collusion.screens`` (whose per-tender functions
stay the reference; tests compare the two on random tenders).  Bids come as one price column grouped
by tender; every screen is an array with one value per tender.  Segment sums are taken in extended
precision so they round like the reference's ``math.fsum``; values agree to rounding error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from collusion.screens import (
    CLUSTER_BAND,
    EQUAL_STEP_CV,
    GAP_DEFAULTS,
    IDENTICAL_RTOL,
    RD_CAP,
    TenderScreens,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

SCREEN_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TenderScreens))


@dataclass(frozen=True, slots=True)
class Segments:
    """Bids grouped by tender: rows ``start[k] .. start[k] + n[k] - 1`` belong to tender ``k``."""

    start: I64
    n: I64
    seg: I64  # tender of each row

    @classmethod
    def of_sizes(cls, n: I64) -> Segments:
        start = np.zeros(n.size, np.int64)
        np.cumsum(n[:-1], out=start[1:])
        return cls(start, n, np.repeat(np.arange(n.size, dtype=np.int64), n))

    def total(self, x: F64) -> F64:
        """Per-tender sums in extended precision (rounded once, like math.fsum on few similar terms)."""
        s = np.add.reduceat(x.astype(np.longdouble), self.start) if x.size else np.zeros(0)
        return np.asarray(s, dtype=np.float64)

    def max(self, x: F64) -> F64:
        return np.asarray(np.maximum.reduceat(x, self.start), dtype=np.float64)


def _div(a: F64, b: F64, ok: B, default: float) -> F64:
    """a / b where ok, else default (no warnings for the masked-out rows)."""
    out = np.full(a.shape, default, np.float64)
    np.divide(a, b, out=out, where=ok)
    return out


def _sample_std(seg: Segments, x: F64, keep: B, k: I64) -> tuple[F64, F64]:
    """(mean, sample std) per tender over the rows in ``keep`` (k of them); std 0 for k < 2."""
    xk = np.where(keep, x, 0.0)
    mean = _div(seg.total(xk), k.astype(np.float64), k > 0, 0.0)
    d = np.where(keep, x - mean[seg.seg], 0.0)
    var = _div(seg.total(d * d), (k - 1).astype(np.float64), k > 1, 0.0)
    return mean, np.sqrt(var)


def _steps_cv(seg: Segments, steps: F64, first: B, use: B) -> F64:
    """CV of the successive steps of each tender's sorted bids (rows whose ``first`` is False).

    1.0 where ``use`` is False and where the mean step is not positive (as ``screens._cv_of``).
    """
    keep = ~first
    k = seg.n - 1
    mean, std = _sample_std(seg, np.where(keep, steps, 0.0), keep, k)
    return np.where(use & (k >= 2) & (mean > 0), _div(std, mean, mean > 0, 1.0), 1.0)


def screen_columns(price: F64, n: I64, winner: I64) -> dict[str, npt.NDArray[np.generic]]:
    """Every ``TenderScreens`` field for each tender, as arrays.

    ``price``: the bids grouped by tender (each tender's rows contiguous, any order inside);
    ``n``: bids per tender (each >= 1); ``winner``: row of the winning bid inside its tender
    (0-based offset from the tender's first row), or -1 for "the lowest bid" (first one on ties).
    Prices must be finite and positive.
    """
    if len(n) == 0:
        return {f: np.zeros(0, np.int64 if f == "n_bids" else np.float64) for f in SCREEN_FIELDS}
    seg = Segments.of_sizes(np.asarray(n, np.int64))
    t, nn = seg.seg, seg.n
    nf = nn.astype(np.float64)
    order = np.lexsort((price, t))  # stable: among equal prices the first row stays first
    xs = price[order]  # sorted within each tender
    first = np.zeros(xs.size, bool)
    first[seg.start] = True
    last_idx = seg.start + nn - 1
    lo, hi = xs[seg.start], xs[last_idx]
    second = xs[np.minimum(seg.start + 1, last_idx)]
    width = hi - lo
    all_equal = width <= IDENTICAL_RTOL * hi
    enough = (nn >= 3) & ~all_equal
    ones = np.ones(xs.size, bool)

    mean, std = _sample_std(seg, xs, ones, nn)
    out: dict[str, npt.NDArray[np.generic]] = {"n_bids": nn.copy()}
    out["cv"] = _div(std, mean, nn > 1, 0.0)
    out["spread"] = width / lo
    out["diffp"] = _div(second - lo, lo, nn > 1, 0.0)

    # RD: gap between the two lowest over the sample std of all bids but the lowest.
    gap = second - lo
    _, s_losing = _sample_std(seg, xs, ~first, nn - 1)
    rd = np.minimum(_div(gap, s_losing, s_losing > 0, RD_CAP), RD_CAP)
    rd = np.where(s_losing <= IDENTICAL_RTOL * second, RD_CAP, rd)
    out["rd"] = np.where((nn < 3) | (gap <= IDENTICAL_RTOL * second), 0.0, rd)
    out["gap_share"] = _div(gap, width, enough, 0.0)

    # Moments about the mean (population denominators), for skewness and kurtosis.
    d = xs - mean[t]
    d2 = d * d
    m2 = seg.total(d2) / nf
    m3 = seg.total(d2 * d) / nf
    m4 = seg.total(d2 * d2) / nf
    with np.errstate(divide="ignore", invalid="ignore"):
        g1 = m3 / (m2 * np.sqrt(m2))
        skew = g1 * np.sqrt(nf * (nf - 1)) / (nf - 2)
        g2 = m4 / m2**2 - 3.0
        kurt = ((nf + 1) * g2 + 6.0) * (nf - 1) / ((nf - 2) * (nf - 3))
    out["skewness"] = np.where(enough, skew, 0.0)
    out["kurtosis"] = np.where(enough & (nn >= 4), kurt, 0.0)

    # KS distance to the uniform law on [min, max], over the sorted bids.
    pos = np.arange(xs.size, dtype=np.int64) - seg.start[t]
    safe_w = np.where(all_equal, 1.0, width)
    u = (xs - lo[t]) / safe_w[t]
    ks = seg.max(np.maximum((pos + 1) / nf[t] - u, u - pos / nf[t]))
    out["ks_uniform"] = np.where(nn == 1, 0.0, np.where(all_equal, 1.0, np.maximum(ks, 0.0)))

    # Successive steps and log-ratios of the sorted bids (the row's step from the previous bid).
    prev = np.r_[xs[:1], xs[:-1]]
    step = np.where(first, 0.0, xs - prev)
    with np.errstate(divide="ignore", invalid="ignore"):
        logr = np.where(first, 0.0, np.log(xs / prev))
    s_cv = _steps_cv(seg, step, first, enough)
    r_cv = _steps_cv(seg, logr, first, enough)
    out["step_cv"], out["ratio_cv"] = s_cv, r_cv
    out["equal_steps"] = enough & (s_cv < EQUAL_STEP_CV)
    out["equal_ratios"] = enough & (r_cv < EQUAL_STEP_CV)

    # Identical prices: a row is "same" when its step from the previous or to the next bid is ~0.
    tie = ~first & (step <= IDENTICAL_RTOL * xs)
    same = tie | np.r_[tie[1:], False]
    out["identical_share"] = _div(seg.total(same.astype(np.float64)), nf, nn >= 2, 0.0)

    # The winner: the given row, or the first lowest bid (the stable sort put it first).
    w_row = np.where(winner >= 0, seg.start + winner, order[seg.start])
    w = price[w_row]
    band = w * (1 + CLUSTER_BAND)
    near = (price > w[t]) & (price <= band[t])
    losing_n = nn - 1
    out["cluster_above_winner"] = _div(
        seg.total(near.astype(np.float64)), losing_n.astype(np.float64), nn >= 2, 0.0
    )
    not_w = np.ones(price.size, bool)
    not_w[w_row] = False
    l_mean, l_std = _sample_std(seg, price, not_w, losing_n)
    out["losing_cv"] = _div(l_std, l_mean, losing_n > 1, 0.0)
    out["winner_z"] = _div(mean - w, std, enough, 0.0)
    out["lowest_z"] = _div(mean - lo, std, enough, 0.0)

    out.update(_gap_columns(seg, xs, first, step, width, lo, hi, mean, std, enough))
    below = seg.total((price < w[t]).astype(np.float64))
    out["winner_rank"] = _div(below, losing_n.astype(np.float64), nn >= 2, 0.0)
    return {k: out[k] for k in SCREEN_FIELDS}


def _gap_columns(
    seg: Segments,
    xs: F64,
    first: B,
    step: F64,
    width: F64,
    lo: F64,
    hi: F64,
    mean: F64,
    std: F64,
    enough: B,
) -> dict[str, F64]:
    """``screens.gap_screens`` for every tender (defaults where there are fewer than three bids)."""
    t, nn = seg.seg, seg.n
    nf = nn.astype(np.float64)
    safe_w = np.where(enough, width, 1.0)
    g = np.where(first, -1.0, step / safe_w[t])  # -1 sorts the placeholder first in its tender
    gs = g[np.lexsort((g, t))]  # each tender's gaps in ascending order
    k = nn - 1
    base = seg.start + 1  # first real gap of each tender (sorted or not)
    last = seg.start + nn - 1
    odd = k % 2 == 1
    mid_hi = np.minimum(base + k // 2, last)
    mid_lo = np.minimum(base + np.maximum(k // 2 - 1, 0), last)
    median = np.where(odd, gs[mid_hi], (gs[mid_lo] + gs[mid_hi]) / 2)
    gap0 = g[np.minimum(base, last)]
    gap1 = g[np.minimum(base + 1, last)]
    mid = (lo + hi) / 2
    upper = seg.total((xs > mid[t]).astype(np.float64)) / nf
    mad = seg.total(np.abs(xs - mean[t])) / nf
    cols = {
        "gap_ratio": gap0 * k,
        "second_gap_share": gap1,
        "top_gap_share": g[last],
        "max_gap_share": gs[last],
        "median_gap_ratio": median * k,
        "upper_half_share": upper,
        "mad_ratio": _div(mad, std, enough, 0.0),
    }
    return {name: np.where(enough, v, GAP_DEFAULTS[name]) for name, v in cols.items()}


def screens_at(cols: dict[str, npt.NDArray[np.generic]], rows: npt.ArrayLike) -> list[TenderScreens]:
    """``TenderScreens`` objects for the given tenders (for the screen model and its explanations)."""
    idx = np.asarray(rows, np.int64)
    lists = [cols[f][idx].tolist() for f in SCREEN_FIELDS]
    return [TenderScreens(*vals) for vals in zip(*lists, strict=True)]


@dataclass(frozen=True, slots=True)
class ScreenTable:
    """Screens of every tender with enough valid bids: ``row[t]`` is tender t's row in ``cols`` (-1: none)."""

    cols: dict[str, npt.NDArray[np.generic]]
    row: I64

    def at(self, tenders: Sequence[int]) -> list[TenderScreens | None]:
        rows = self.row[np.asarray(tenders, np.int64)] if len(tenders) else np.zeros(0, np.int64)
        have = np.flatnonzero(rows >= 0)
        found = iter(screens_at(self.cols, rows[have]))
        mask = rows >= 0
        return [next(found) if m else None for m in mask.tolist()]


def tender_screens(tender: I64, price: F64, winner: B, n_tenders: int, min_bids: int) -> ScreenTable:
    """Screens per tender code from bid columns (rows in any order; a tender's bids keep theirs).

    Like the detector's per-tender rule: tenders with fewer than ``min_bids`` bids or a price that is
    not finite and positive get none; the winner is the single flagged bid, else the lowest.
    """
    if tender.size and np.any(tender[1:] < tender[:-1]):
        order = np.argsort(tender, kind="stable")
        tender, price, winner = tender[order], price[order], winner[order]
    n = np.bincount(tender, minlength=n_tenders)
    bad = np.bincount(tender[~(np.isfinite(price) & (price > 0))], minlength=n_tenders)
    ok = (n >= max(min_bids, 1)) & (bad == 0)
    keep = ok[tender]
    p, w = price[keep], winner[keep]
    tenders = np.flatnonzero(ok)
    seg = Segments.of_sizes(n[tenders])
    n_win = np.bincount(seg.seg[w], minlength=tenders.size)
    win_rows = np.flatnonzero(w)
    win_rows = win_rows[n_win[seg.seg[win_rows]] == 1]
    offset = np.full(tenders.size, -1, np.int64)
    offset[seg.seg[win_rows]] = win_rows - seg.start[seg.seg[win_rows]]
    row = np.full(n_tenders, -1, np.int64)
    row[tenders] = np.arange(tenders.size)
    return ScreenTable(screen_columns(p, seg.n, offset), row)


__all__ = ["SCREEN_FIELDS", "ScreenTable", "Segments", "screen_columns", "screens_at", "tender_screens"]
