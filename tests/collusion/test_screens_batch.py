"""The vectorised screens agree with the per-tender reference (collusion.screens) on every field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from collusion.screens import TenderScreens, screens
from collusion.screens_batch import SCREEN_FIELDS, screen_columns, screens_at

EXACT = {"n_bids", "equal_steps", "equal_ratios", "identical_share", "cluster_above_winner"}
EXACT |= {"upper_half_share", "winner_rank"}


def _tender(rng: np.random.Generator) -> tuple[list[float], int | None]:
    n = int(rng.choice([1, 2, 3, 3, 4, 5, 6, 8, 12, 30]))
    style = rng.integers(0, 6)
    base = float(rng.lognormal(np.log(1e6), 1.0))
    if style == 0:  # honest spread, cent rounding
        xs = [round(base * float(np.exp(rng.normal(0, 0.05))), 2) for _ in range(n)]
    elif style == 1:  # ties: a few distinct prices repeated
        pool = [round(base * (1 + 0.01 * k), 2) for k in range(2)]
        xs = [pool[int(rng.integers(0, 2))] for _ in range(n)]
    elif style == 2:  # all equal
        xs = [round(base, 2)] * n
    elif style == 3:  # equal steps above a gap to the lowest
        xs = [round(base * 0.95, 2)] + [round(base, 2) + k * 1000.0 for k in range(n - 1)]
    elif style == 4:  # equal ratios
        xs = [base * 1.03**k for k in range(n)]
    else:  # tiny relative differences, near the identical-price tolerance
        xs = [base * (1 + float(rng.integers(0, 3)) * 1e-10) for _ in range(n)]
    xs = [xs[i] for i in rng.permutation(n)]
    winner = None if rng.random() < 0.4 else int(rng.integers(0, n))
    return xs, winner


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_batch_screens_equal_the_per_tender_screens(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tenders = [_tender(rng) for _ in range(1500)]
    price = np.array([p for xs, _ in tenders for p in xs])
    n = np.array([len(xs) for xs, _ in tenders])
    winner = np.array([-1 if w is None else w for _, w in tenders])
    got = screens_at(screen_columns(price, n, winner), range(len(tenders)))
    identical = 0
    for (xs, w), batch in zip(tenders, got, strict=True):
        ref = screens(xs, w)
        for f in SCREEN_FIELDS:
            a, b = getattr(ref, f), getattr(batch, f)
            assert type(a) is type(b), f
            if f in EXACT:
                assert a == b, (f, xs, w, a, b)
            else:
                assert _close(a, b), (f, xs, w, a, b)
            identical += a == b
    # Extended-precision sums make nearly every value bit-identical, not just close.
    assert identical >= 0.97 * len(tenders) * len(SCREEN_FIELDS)


def test_degenerate_tenders() -> None:
    # One bid, two bids with the winner above the lowest, three identical bids.
    price = np.array([500.0, 200.0, 100.0, 7.0, 7.0, 7.0])
    got = screens_at(screen_columns(price, np.array([1, 2, 3]), np.array([-1, 0, 2])), [0, 1, 2])
    assert got == [screens([500.0]), screens([200.0, 100.0], 0), screens([7.0, 7.0, 7.0], 2)]
    assert got[1].winner_rank == 1.0
    assert got[2].ks_uniform == 1.0
    assert got[2].identical_share == 1.0


def test_screens_at_returns_the_dataclass() -> None:
    cols = screen_columns(np.array([1.0, 2.0, 4.0]), np.array([3]), np.array([-1]))
    (s,) = screens_at(cols, [0])
    assert isinstance(s, TenderScreens)
    assert s == screens([1.0, 2.0, 4.0])
