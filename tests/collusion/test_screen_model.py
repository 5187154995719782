"""The JSON screen model: exact agreement with scikit-learn, safe loading, risk and explanations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from collusion import datasets
from collusion.estimate_screens import estimate_screens
from collusion.market_features import NETWORK_FEATURES
from collusion.screen_model import (
    FEATURE_NAMES,
    FEATURE_SOURCES,
    SCREEN_FEATURES,
    SCREEN_NAMES_ZH,
    SEED,
    SHIPPED_VARIANT,
    THEORY_SIGNS,
    VARIANTS,
    ScreenModel,
    columns,
    feature_matrix,
    load_model,
    with_market_ranks,
)
from collusion.screen_training import _classifier, balanced_weights, export
from collusion.screens import screens

needs_data = pytest.mark.skipif(
    not datasets.data_available(),
    reason=f"labelled collusion data absent from {datasets.default_data_dir()} (set ${datasets.ENV_VAR})",
)


def _synthetic(n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    items = []
    y = rng.integers(0, 2, n)
    for label in y:
        k = int(rng.integers(1, 9))
        spread = 0.01 if label else 0.2
        items.append(screens(list(100 * (1 + rng.uniform(0, spread, k)))))
    # Network features carry signal too, and a quarter of them are missing: the export must route
    # NaN exactly as scikit-learn does.
    net = rng.normal(y[:, None], 1.0, (n, len(NETWORK_FEATURES)))
    net[rng.random(net.shape) < 0.25] = np.nan
    # Estimate screens where a third of the tenders have an estimate; ranks over the whole sample.
    est = [
        estimate_screens(list(100 * (1 + rng.uniform(0, 0.05 if label else 0.3, 3))), 110)
        if rng.random() < 1 / 3
        else None
        for label in y
    ]
    return with_market_ranks(feature_matrix(items, net, est)), y, np.zeros(n, dtype=np.int64)


def _assert_export_matches(x: np.ndarray, y: np.ndarray, g: np.ndarray, name: str) -> None:
    cols = columns(name)
    clf = _classifier(3, 60, SEED, name).fit(x[:, cols], y, sample_weight=balanced_weights(y, g))
    model = ScreenModel(json.loads(json.dumps(export(clf, {}, name))))
    assert model.doc["features"] == [FEATURE_NAMES[c] for c in cols]
    expected = clf.predict_proba(x[:, cols])[:, 1]
    np.testing.assert_allclose(model.predict_proba(x), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_export_matches_sklearn_synthetic(name: str) -> None:
    _assert_export_matches(*_synthetic(), name)


def test_unknown_variant() -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        columns("nope")


def test_version_1_documents_still_load() -> None:
    # Format 1 (GradientBoostingClassifier, float32 inputs) had no input_dtype field.
    x, y, _ = _synthetic()
    clf = _classifier(2, 30, SEED, "gbt-full").fit(x[:, columns("gbt-full")], y)
    doc = export(clf, {}, "gbt-full")
    del doc["input_dtype"]
    doc["format_version"] = 1
    model = ScreenModel(doc)
    assert model.input_dtype == "float32"
    np.testing.assert_allclose(
        model.predict_proba(x), clf.predict_proba(x[:, columns("gbt-full")])[:, 1], atol=1e-9
    )


def test_shipped_variant_is_monotone_in_theory_screens() -> None:
    model = load_model()
    rng = np.random.default_rng(3)
    items = [screens(list(100 * (1 + rng.uniform(0, 0.2, int(rng.integers(1, 12)))))) for _ in range(200)]
    x = feature_matrix(items)
    base = model.decision_function(x)
    for f, sign in THEORY_SIGNS.items():
        if f not in model.doc["features"]:
            continue
        moved = x.copy()
        moved[:, FEATURE_NAMES.index(f)] += 0.5 * sign
        assert (model.decision_function(moved) >= base - 1e-12).all(), f


@needs_data
@pytest.mark.parametrize("name", [SHIPPED_VARIANT, "gbt-full"])
def test_export_matches_sklearn_on_training_data(name: str) -> None:
    from collusion.model_eval import _stack, load_arrays

    _assert_export_matches(*_stack(list(load_arrays().values())), name)


def test_shipped_model_loads_and_scores() -> None:
    model = load_model()
    assert model.doc["variant"] == SHIPPED_VARIANT
    assert model.doc["features"] == list(VARIANTS[SHIPPED_VARIANT].features)
    assert set(model.doc["training_data"]["sha256"]) == set(datasets.MARKET_FILES.values())
    assert {"numpy", "scikit-learn", "python"} <= set(model.doc["library_versions"])
    for prices in ([100.0], [100.0, 100.5, 101.0, 101.5], [100, 180, 260, 95, 130]):
        r = model.risk(screens(prices))
        assert 0.0 <= r <= 1.0


def test_contributions_add_up_to_log_odds() -> None:
    model = load_model()
    s = screens([100, 101, 102, 103, 120])
    raw = float(model.decision_function(feature_matrix([s]))[0])
    bias = model.init + model.rate * sum(float(t.value[0]) for t in model.trees)
    total = bias + sum(c.log_odds for c in model.contributions(s))
    assert total == pytest.approx(raw, abs=1e-9)


def test_explain_is_plain_english() -> None:
    model = load_model()
    for prices in ([100, 100.2, 100.4, 100.6, 100.8, 101], [100, 150, 151, 152], [5.0]):
        reasons = model.explain(screens(prices))
        assert len(reasons) <= 3
        assert all(isinstance(r, str) and "raises the risk" in r for r in reasons)
    contribs = model.contributions(screens([100, 150, 151, 152]))
    assert all(c.key.endswith((".raises", ".lowers")) for c in contribs)


def test_rejects_pickle_and_foreign_json(tmp_path: Path) -> None:
    bad = tmp_path / "model.pkl"
    bad.write_bytes(b"\x80\x04\x95 not json")
    with pytest.raises(ValueError, match="cannot read"):
        load_model(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="format"):
        load_model(other)


def test_balanced_weights() -> None:
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    g = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    w = balanced_weights(y, g)
    assert w.sum() == pytest.approx(len(y))
    for market in (0, 1):
        for label in (0, 1):
            assert w[(g == market) & (y == label)].sum() == pytest.approx(len(y) / 4)


def _network_model() -> tuple[ScreenModel, np.ndarray]:
    x, y, g = _synthetic()
    name = "hgb-theory-net"
    clf = _classifier(2, 40, SEED, name).fit(x[:, columns(name)], y, sample_weight=balanced_weights(y, g))
    return ScreenModel(export(clf, {}, name)), x


def test_network_model_reads_network_features_and_explains_them() -> None:
    model, _ = _network_model()
    assert model.needs_network
    assert not load_model().needs_network
    s = screens([100, 101, 102, 103, 120])
    net = np.zeros(len(NETWORK_FEATURES)) + 2.0  # the synthetic signal: high = collusive
    assert model.risk(s, net) != model.risk(s)
    contribs = model.contributions(s, net)
    raw = float(model.decision_function(feature_matrix([s], net[None, :]))[0])
    bias = model.init + model.rate * sum(float(t.value[0]) for t in model.trees)
    assert bias + sum(c.log_odds for c in contribs) == pytest.approx(raw, abs=1e-9)
    from_network = [c for c in contribs if c.screen in NETWORK_FEATURES]
    assert from_network
    assert all(c.value == 2.0 for c in from_network)
    assert all(c.sentence() and c.sentence_zh() for c in contribs)


def test_matrices_without_network_columns_still_score() -> None:
    model, x = _network_model()
    old = x[:, : len(SCREEN_FEATURES)]  # what callers built before the network columns existed
    padded = np.hstack([old, np.full((len(x), len(NETWORK_FEATURES)), np.nan)])
    np.testing.assert_array_equal(model.predict_proba(old), model.predict_proba(padded))
    with pytest.raises(ValueError, match="one row per tender"):
        feature_matrix([screens([1.0, 2.0])], np.zeros((2, len(NETWORK_FEATURES))))


def test_every_feature_source_has_a_chinese_name() -> None:
    assert set(FEATURE_SOURCES.values()) <= set(SCREEN_NAMES_ZH)
    model = load_model()
    for c in model.contributions(screens([100, 150, 151, 152])):
        assert SCREEN_NAMES_ZH[c.screen] in c.sentence_zh()
        assert c.sentence_zh().endswith("风险评分")
