"""Evaluation protocol: metrics, grouped folds, leave-one-market-out, the report table."""

from __future__ import annotations

import numpy as np
import pytest

from collusion import datasets, model_eval, screen_model, screen_training
from collusion.market_features import NETWORK_FEATURES
from collusion.model_eval import Evaluation, MarketArrays, Metrics
from collusion.screen_model import (
    FEATURE_NAMES,
    SCREEN_FEATURES,
    THEORY_FEATURES,
    feature_matrix,
)
from collusion.screen_training import fit_selected, fits_per_selection
from collusion.screens import screens

needs_data = pytest.mark.skipif(
    not datasets.data_available(),
    reason=f"labelled collusion data absent from {datasets.default_data_dir()} (set ${datasets.ENV_VAR})",
)


@pytest.fixture
def small_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    # The protocol, not the model size, is under test: keep the synthetic fits quick.
    monkeypatch.setattr(screen_training, "N_ESTIMATORS", (20, 40))


def _market(seed: int, n: int = 120, tight_is_collusive: bool = True) -> MarketArrays:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    items = []
    for label in y:
        tight = bool(label) == tight_is_collusive
        items.append(
            screens(list(100 * (1 + rng.uniform(0, 0.01 if tight else 0.2, int(rng.integers(3, 8))))))
        )
    return MarketArrays(feature_matrix(items), y.astype(np.int64), tuple(f"t{seed}-{i}" for i in range(n)))


def test_metrics_hand_example() -> None:
    y = np.array([0, 0, 1, 1])
    m = model_eval.metrics(y, np.array([0.1, 0.6, 0.4, 0.9]))
    # Pairs (pos, neg) ranked right: (0.4>0.1), (0.9>0.1), (0.9>0.6); wrong: (0.4<0.6) -> 3/4.
    assert m.roc_auc == pytest.approx(0.75)
    assert m.prevalence == 0.5
    # At 0.5: negatives 1/2 right, positives 1/2 right.
    assert m.balanced_accuracy == pytest.approx(0.5)
    # Precision at the two positives' ranks: 1/1 and 2/3.
    assert m.pr_auc == pytest.approx((1 + 2 / 3) / 2)


@pytest.mark.usefixtures("small_grid")
def test_grouped_cv_learns_a_clear_signal() -> None:
    ticks: list[int] = []
    m = model_eval.grouped_cv(_market(1), tick=lambda: ticks.append(1))
    assert m.roc_auc > 0.9
    assert len(ticks) == model_eval.OUTER_FOLDS * fits_per_selection(screen_model.SHIPPED_VARIANT, 1)


@pytest.mark.usefixtures("small_grid")
def test_lomo_selection_leaves_each_training_market_out() -> None:
    data = {"a": _market(1), "b": _market(2), "c": _market(4), "d": _market(5)}
    ticks: list[int] = []
    m = model_eval.leave_one_market_out(data, "d", tick=lambda: ticks.append(1))
    assert m.roc_auc > 0.9
    # Three training markets: each is left out once per depth, then one refit.
    assert len(ticks) == 3 * len(screen_training.MAX_DEPTHS) + 1
    assert model_eval.evaluation_fits(4) == 4 * 5 * (3 * 2 + 1) + 4 * (3 * 2 + 1)


@pytest.mark.usefixtures("small_grid")
def test_leave_one_market_out_exposes_direction_flip() -> None:
    assert model_eval.leave_one_market_out({"a": _market(1), "b": _market(2)}, "b").roc_auc > 0.9
    # A market whose cartels look the opposite way cannot be read off the others: reported, not hidden.
    flipped = {"a": _market(1), "flipped": _market(3, tight_is_collusive=False)}
    assert model_eval.leave_one_market_out(flipped, "flipped").roc_auc < 0.5


@pytest.mark.usefixtures("small_grid")
def test_network_variant_without_ids_fits_on_screens_only() -> None:
    a = _market(1)  # no bidder ids: every network column is NaN
    y, g = a.y, np.zeros(len(a.y), dtype=np.int64)
    _, info = fit_selected(a.x, y, g, "hgb-theory-net")
    assert not set(info["features"]) & set(NETWORK_FEATURES)
    assert model_eval.grouped_cv(a, name="hgb-theory-net").roc_auc > 0.9
    # With ids in part of the data, the fit keeps the network features.
    x = a.x.copy()
    x[: len(y) // 2, len(SCREEN_FEATURES) :] = y[: len(y) // 2, None]
    _, info = fit_selected(x, y, g, "hgb-theory-net")
    assert set(NETWORK_FEATURES) <= set(info["features"])


def test_markdown_table() -> None:
    m = Metrics(100, 0.3, 0.8, 0.6, 0.7)
    table = model_eval.markdown_table(Evaluation({"USA": m, "Other": m}, {"USA": m, "Other": m}))
    lines = table.strip().splitlines()
    assert lines[0].startswith("| market | tenders | prevalence | floor ROC-AUC")
    assert lines[2] == "| USA | 100 | 0.300 | 0.710 | 0.800 | 0.600 | 0.700 | 0.800 | 0.600 | 0.700 |"
    assert lines[3].startswith("| Other | 100 | 0.300 | - |")
    assert lines[-1].startswith("| **mean** | | | 0.710 | 0.800")


@needs_data
def test_loaded_markets_match_the_data_readme() -> None:
    arrays = model_eval.load_arrays()
    counts = {m: (len(a.y), int(a.y.sum())) for m, a in arrays.items()}
    assert counts == {
        "USA": (3754, 487),
        "Brazil": (101, 33),
        "Italy": (278, 143),
        "Switzerland GR/See-Gaster": (4344, 3199),
    }
    k = len(SCREEN_FEATURES)
    for m, a in arrays.items():
        assert a.x.shape[1] == len(FEATURE_NAMES)
        assert np.isfinite(a.x[:, :k]).all()
        assert len(set(a.tender_ids)) == len(a.tender_ids)
        # Network features exist exactly where the file has firm ids (data README).
        has_ids = m != "Switzerland GR/See-Gaster"
        net = a.x[:, k : k + len(NETWORK_FEATURES)]
        assert np.isfinite(net).any(axis=0).all() == has_ids, m
        assert np.isnan(net).all() != has_ids, m
        # Estimate screens and their ranks exist exactly where the file has an estimate; the theory
        # screens' ranks everywhere (every market has far more than the minimum history).
        has_estimate = m in ("Brazil", "Italy")
        est = a.x[:, [FEATURE_NAMES.index(f) for f in ("winner_to_estimate", "rel_winner_to_estimate")]]
        assert np.isfinite(est).all() == has_estimate, m
        assert np.isnan(est).all() != has_estimate, m
        ranks = a.x[:, [FEATURE_NAMES.index(f"rel_{f}") for f in THEORY_FEATURES]]
        assert ((ranks >= 0) & (ranks <= 1)).all(), m


def test_missing_data_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(datasets.DataMissingError, match="not found"):
        datasets.load_market("Brazil", tmp_path)  # type: ignore[arg-type]
