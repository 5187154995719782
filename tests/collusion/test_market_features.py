"""Bidder-network features: hand-computed values, missing ids, and the records adapter."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from collusion.market_features import (
    NETWORK_FEATURES,
    NETWORK_MEANINGS,
    NETWORK_NAMES_ZH,
    network_features,
    network_features_from_records,
)
from collusion.records import BidRecord

# t0..t4 have ids; t5 has a bid without one, so it is left out of everyone's history.
BIDDERS = [("A", "B", "C"), ("A", "B"), ("B", "A"), ("D", "E"), ("C",), ("", "X")]
WINNERS: list[int | None] = [0, 1, 1, 0, 0, 0]  # A, B, A, D, C


def _row(matrix: np.ndarray, t: int) -> dict[str, float]:
    return dict(zip(NETWORK_FEATURES, matrix[t].tolist(), strict=True))


def test_hand_example_three_bidders() -> None:
    f = _row(network_features(BIDDERS, WINNERS), 0)
    # Elsewhere, A and B met twice (t1, t2) and each won once; C bid alone once and won.
    expected = {
        "bidder_participation": (2 + 2 + 1) / 3 / 4,
        "newcomer_share": 0.0,
        "winner_participation": 2 / 4,
        "winner_win_ratio": 0.0,  # one win elsewhere, one expected
        "loser_win_ratio": 0.0,
        "win_ratio_sd": 0.0,
        "pair_repeat_share": 1 / 3,
        "pair_affinity": 1 / 3,
        "log_pair_cobids": math.log(3) / 3,
        "group_closure": 1.0,  # every opponent A and B met elsewhere is a bidder here
        "group_win_share": 1.0,
        "group_win_entropy": math.log(2) / math.log(3),
        "opp_distinct_ratio": 2 / 4,
    }
    assert f == pytest.approx(expected, abs=1e-12)


def test_strangers_and_single_bidder() -> None:
    m = network_features(BIDDERS, WINNERS)
    strangers = _row(m, 3)
    assert strangers["newcomer_share"] == 1.0
    assert strangers["pair_repeat_share"] == 0.0
    assert strangers["group_closure"] == 0.0
    assert strangers["opp_distinct_ratio"] == 1.0
    single = _row(m, 4)
    # C won alone; elsewhere it lost t0, where a random draw gives it 1/3 of a win.
    assert single["winner_win_ratio"] == pytest.approx(math.log(1 / (1 + 1 / 3)))
    for name in ("pair_repeat_share", "group_closure", "loser_win_ratio", "win_ratio_sd"):
        assert math.isnan(single[name]), name


def test_missing_ids_give_nan_and_no_history() -> None:
    m = network_features(BIDDERS, WINNERS)
    assert np.isnan(m[5]).all()
    without = network_features(BIDDERS[:5], WINNERS[:5])
    np.testing.assert_array_equal(m[:5], without)
    assert np.isnan(network_features([("", ""), ("",)], [0, None])).all()


def test_no_winner_and_repeated_ids() -> None:
    m = network_features([("A", "B", "A"), ("A", "B")], [None, 0])
    f = _row(m, 0)
    assert math.isnan(f["winner_participation"])
    assert math.isnan(f["winner_win_ratio"])
    assert f["pair_repeat_share"] == 1.0  # A counted once: one pair, which met in t1
    assert f["group_win_share"] == 1.0  # A won t1 where B bid


def test_invariant_to_firm_names_and_bid_order() -> None:
    rename = {"A": "q", "B": "r", "C": "s", "D": "t", "E": "u", "X": "v", "": ""}
    renamed = [tuple(rename[f] for f in b) for b in BIDDERS]
    np.testing.assert_array_equal(network_features(renamed, WINNERS), network_features(BIDDERS, WINNERS))
    flipped = [tuple(reversed(b)) for b in BIDDERS]
    flipped_w = [None if w is None else len(b) - 1 - w for b, w in zip(BIDDERS, WINNERS, strict=True)]
    np.testing.assert_allclose(
        network_features(flipped, flipped_w), network_features(BIDDERS, WINNERS), atol=1e-12
    )


def test_from_records_matches_arrays() -> None:
    day = dt.date(2025, 1, 1)
    bids = [
        BidRecord(f"T{t}", firm, 100.0 + i, day, is_winner=(i == w))
        for t, (b, w) in enumerate(zip(BIDDERS, WINNERS, strict=True))
        for i, firm in enumerate(b)
    ]
    by_id = network_features_from_records(bids)
    assert list(by_id) == [f"T{t}" for t in range(len(BIDDERS))]
    np.testing.assert_array_equal(np.vstack(list(by_id.values())), network_features(BIDDERS, WINNERS))


def test_names_and_shape_checks() -> None:
    assert set(NETWORK_MEANINGS) == set(NETWORK_NAMES_ZH) == set(NETWORK_FEATURES)
    with pytest.raises(ValueError, match="one entry per tender"):
        network_features([("A",)], [])
