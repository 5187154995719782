"""The batch explanations (all tenders' tree paths at once) equal the screen model's own, per tender."""

from __future__ import annotations

import numpy as np

from collusion.screen_explain import (
    _walk,
    contributions_fast,
    contributions_many,
    raising_fast,
    raising_many,
    score_and_explain,
)
from collusion.screen_model import Contribution, feature_matrix, load_model
from collusion.screens import TenderScreens, screens


def _items(n: int, seed: int = 0) -> list[TenderScreens]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(3, 12))
        base = rng.lognormal(13, 1)
        if rng.random() < 0.3:  # cover-like: a gap, then bids close together
            xs = [base * 0.93] + [base * (1 + 0.005 * j) for j in range(k - 1)]
        else:
            xs = list(base * np.exp(rng.normal(0, 0.05, k)))
        out.append(screens(xs, None if rng.random() < 0.5 else int(rng.integers(0, k))))
    return out


def test_contributions_many_equals_the_model() -> None:
    model = load_model()
    items = _items(300)
    assert contributions_fast(model, items) == [model.contributions(s) for s in items]


def test_raising_many_equals_the_models_top_raising_screens() -> None:
    model = load_model()
    items = _items(400, seed=1)
    for k in (1, 3, 30):
        got = raising_fast(model, items, feature_matrix(items), k)
        want = [[c for c in model.contributions(s) if c.log_odds > 0][:k] for s in items]
        assert got == want
    assert any(len(row) == 3 for row in raising_fast(model, items, feature_matrix(items), 3))


def test_falls_back_to_the_model_when_they_disagree() -> None:
    class Shifted(type(load_model())):  # type: ignore[misc]
        def contributions(
            self, s: TenderScreens, network: object = None, x: object = None
        ) -> list[Contribution]:
            return [Contribution("cv", s.cv, 1.0)]

    model = Shifted(load_model().doc)
    items = _items(5, seed=2)
    assert raising_many(model, items, feature_matrix(items), 3) == [
        [Contribution("cv", s.cv, 1.0)] for s in items
    ]
    assert contributions_many(model, items) == [model.contributions(s) for s in items]


def test_one_walk_gives_the_models_risks_exactly() -> None:
    model = load_model()
    items = _items(400, seed=3)
    x = feature_matrix(items)
    raw, _ = _walk(model, model._prepare(x))
    assert np.array_equal(raw, model.decision_function(x))
    risks, found = score_and_explain(model, items, x, 3, lambda r: r > 0.6)
    assert risks == model.predict_proba(x).tolist()
    assert any(found)
    assert not all(found)
    for s, r, c in zip(items, risks, found, strict=True):
        assert c == ([m for m in model.contributions(s) if m.log_odds > 0][:3] if r > 0.6 else [])


def test_score_and_explain_defers_to_a_changed_model() -> None:
    class Flat(type(load_model())):  # type: ignore[misc]
        def predict_proba(self, x: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
            return np.full(len(x), 0.9)

    model = Flat(load_model().doc)
    items = _items(50, seed=4)
    risks, found = score_and_explain(model, items, feature_matrix(items), 2, lambda r: r > 0.5)
    assert risks == [0.9] * 50
    assert found == [[c for c in model.contributions(s) if c.log_odds > 0][:2] for s in items]
