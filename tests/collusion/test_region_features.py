"""Estimate screens and market ranks in the detector: the vectorised estimate columns agree with the
per-tender reference, a model that reads estimates and ranks scores batch and incremental alike, and
tenders without an estimate (or a region with too short a history) are still scored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math

import numpy as np
import pytest

from collusion.detector import Detector
from collusion.estimate_screens import ESTIMATE_MEANINGS, estimate_columns, estimate_screens
from collusion.records import BidRecord, TenderRecord
from collusion.screen_model import FEATURE_NAMES, ScreenModel, columns, feature_matrix, with_market_ranks
from collusion.screen_training import _classifier, export
from collusion.screens import screens
from collusion.synthetic import RegionSpec, generate_region

NAME = "hgb-theory-est-rel"


def test_estimate_columns_agree_with_the_reference() -> None:
    rng = np.random.default_rng(11)
    tender, price, winner, est = [], [], [], []
    for t in range(300):
        k = int(rng.integers(1, 8))
        p = np.round(100 * (1 + rng.uniform(-0.1, 0.1, k)), int(rng.integers(0, 3)))  # ties at times
        w = np.zeros(k, bool)
        if rng.random() < 0.5:
            w[int(rng.integers(0, k))] = True
        tender += [t] * k
        price += p.tolist()
        winner += w.tolist()
        est.append(math.nan if rng.random() < 0.3 else 100.0)
    cols = estimate_columns(np.array(tender), np.array(price), np.array(winner), np.array(est))
    tender_a = np.array(tender)
    for t in range(300):
        rows = np.flatnonzero(tender_a == t)
        w = [i for i, r in enumerate(rows) if winner[r]]
        ref = estimate_screens(
            [price[r] for r in rows], None if math.isnan(est[t]) else est[t], w[0] if w else None
        )
        if ref is None:
            assert np.isnan(cols[t]).all()
        else:
            np.testing.assert_allclose(
                cols[t], [getattr(ref, f) for f in ESTIMATE_MEANINGS], rtol=1e-12, atol=1e-15
            )


@functools.cache
def model() -> ScreenModel:
    """A small model over theory, estimate and rank features, fitted on synthetic tenders."""
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    items, est = [], []
    for label in y:
        # The dispersion carries some signal, the estimate more: bids crowd under the ceiling.
        p = list(100 * (1 + rng.uniform(0, 0.08 if label else 0.1, int(rng.integers(3, 8)))))
        items.append(screens(p))
        est.append(estimate_screens(p, 105 if label else 130) if rng.random() < 0.6 else None)
    x = with_market_ranks(feature_matrix(items, estimates=est))
    clf = _classifier(2, 30, 1, NAME).fit(x[:, columns(NAME)], y)
    return ScreenModel(json.loads(json.dumps(export(clf, {}, NAME))))


def test_the_test_model_reads_estimates_and_ranks() -> None:
    assert model().needs_ranks
    assert {"winner_to_estimate", "rel_log_cv"} <= set(model().doc["features"])
    trees = model().trees
    split_on = {
        FEATURE_NAMES[f] for t in trees for f, left in zip(t.feature, t.left, strict=True) if left >= 0
    }
    assert split_on & {
        "winner_to_estimate",
        "mean_to_estimate",
        "near_ceiling_share",
        "rel_winner_to_estimate",
    }


@functools.cache
def region_detector(with_estimates: bool) -> Detector:
    r = generate_region(RegionSpec(n_tenders=300, n_firms=120, n_segments=4, seed=3))
    tenders = r.tenders if with_estimates else [dataclasses.replace(t, estimate=None) for t in r.tenders]
    return Detector.from_records(r.companies, r.bids, tenders, model=model())


@pytest.mark.parametrize("with_estimates", [True, False])
def test_batch_and_incremental_agree_with_estimates_and_ranks(with_estimates: bool) -> None:
    det = region_detector(with_estimates)
    results = {x.tender_id: x for x in det.batch()}
    scored = [x for x in results.values() if x.screen_risk is not None]
    assert len(scored) > 100
    assert all(0 <= x.screen_risk <= 1 for x in scored if x.screen_risk is not None)
    for tid in list(results)[::15]:
        a, b = det.check(tid), results[tid]
        assert a.screen_risk == pytest.approx(b.screen_risk)
        assert a.level is b.level


def test_estimates_change_the_score() -> None:
    # The same bids, with and without the ceiling: the model reads the estimate when it is there.
    a, b = region_detector(True).batch(), region_detector(False).batch()
    diff = [x.screen_risk != y.screen_risk for x, y in zip(a, b, strict=True) if x.screen_risk is not None]
    assert any(diff)


def test_a_short_history_still_scores() -> None:
    # Three tenders: too few for ranks (they are missing) and no estimate: the model still answers.
    day = dt.date(2025, 3, 1)
    det = Detector(model=model())
    for t in range(3):
        bids = [BidRecord(f"T{t}", f"X{i}", 1_000_000.0 + 7_000 * i * (t + 1), day, i == 0) for i in range(4)]
        res = det.check_new(f"T{t}", bids)
        assert res.screen_risk is not None
        assert 0 <= res.screen_risk <= 1


@pytest.mark.parametrize("estimate", [0.0, -1.0, math.nan, math.inf])
def test_a_bad_estimate_on_record_counts_as_unknown(estimate: float) -> None:
    # Batch (estimate_columns) and incremental (estimate_screens) agree: no crash, same as no estimate.
    day = dt.date(2025, 3, 1)
    bids = [BidRecord("B1", f"X{i}", 1_000_000.0 + 9_000 * i, day, i == 0) for i in range(4)]
    with_bad = Detector(model=model()).check_new(TenderRecord("B1", day, estimate=estimate), bids)
    without = Detector(model=model()).check_new(TenderRecord("B1", day), bids)
    assert with_bad.screen_risk == without.screen_risk
    det = Detector(model=model())
    det.add_tender(TenderRecord("B1", day, estimate=estimate), bids)
    assert det.batch()[0].screen_risk == without.screen_risk
