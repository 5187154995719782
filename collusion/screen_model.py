"""Screen model: tender screens -> collusion risk score in [0, 1].

A gradient-boosted tree ensemble (scikit-learn, seeded) over scale-free transforms of the screens.
Trees are used because single screens point in different directions in different markets (low
dispersion is collusive in most, high dispersion in the Ohio milk data) and interact with the number
of bids.  The shipped model is plain JSON: the trees are exported node by node and evaluated here with
numpy, so loading never runs pickle.  ``risk`` is a ranking score trained with balanced class weights
(0.5 = as likely collusive as not under an even prior), not a calibrated probability.
"""

from __future__ import annotations

import itertools
import json
import math
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from collusion.screens import SCREEN_MEANINGS, TenderScreens

FORMAT = "tenderhall-screen-model"
FORMAT_VERSION = 1
SEED = 20240611

#: Model inputs: (feature name, screen it comes from).  Dispersion screens are log-transformed so the
#: trees see relative, not absolute, differences; tender ids, dates and price levels never enter.
FEATURES: tuple[tuple[str, str], ...] = (
    ("log_n_bids", "n_bids"),
    ("log_cv", "cv"),
    ("log_spread", "spread"),
    ("log_diffp", "diffp"),
    ("log1p_rd", "rd"),
    ("gap_share", "gap_share"),
    ("kurtosis", "kurtosis"),
    ("skewness", "skewness"),
    ("ks_uniform", "ks_uniform"),
    ("step_cv", "step_cv"),
    ("ratio_cv", "ratio_cv"),
    ("equal_steps", "equal_steps"),
    ("equal_ratios", "equal_ratios"),
    ("identical_share", "identical_share"),
    ("cluster_above_winner", "cluster_above_winner"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f for f, _ in FEATURES)

#: Feature sets compared in the benchmark.  "full" ships; "transfer" keeps only the screens whose
#: collusive direction theory predicts (gap to the winner, regular or clustered cover bids, low
#: dispersion) and drops the bid count and shape moments, whose meaning differs from market to market.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "full": FEATURE_NAMES,
    "transfer": (
        "log_cv",
        "log_spread",
        "log1p_rd",
        "gap_share",
        "step_cv",
        "ratio_cv",
        "identical_share",
        "cluster_above_winner",
    ),
}
SHIPPED_FEATURE_SET = "full"


def columns(feature_set: str) -> list[int]:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; known: {', '.join(FEATURE_SETS)}")
    return [FEATURE_NAMES.index(f) for f in FEATURE_SETS[feature_set]]


_LOG_FLOOR = 1e-4  # keeps log finite for zero dispersion (single bid, identical bids)

FloatArray = NDArray[np.float64]


def feature_vector(s: TenderScreens) -> list[float]:
    return [
        math.log(s.n_bids),
        math.log(s.cv + _LOG_FLOOR),
        math.log(s.spread + _LOG_FLOOR),
        math.log(s.diffp + _LOG_FLOOR),
        math.log1p(s.rd),
        s.gap_share,
        s.kurtosis,
        s.skewness,
        s.ks_uniform,
        s.step_cv,
        s.ratio_cv,
        float(s.equal_steps),
        float(s.equal_ratios),
        s.identical_share,
        s.cluster_above_winner,
    ]


def feature_matrix(items: Sequence[TenderScreens]) -> FloatArray:
    return np.array([feature_vector(s) for s in items], dtype=np.float64).reshape(-1, len(FEATURES))


@dataclass(frozen=True, slots=True)
class Tree:
    """One regression tree; ``left[i] == -1`` marks a leaf.  ``value`` holds every node's mean."""

    left: NDArray[np.int64]
    right: NDArray[np.int64]
    feature: NDArray[np.int64]
    threshold: FloatArray
    value: FloatArray

    def leaves(self, x: FloatArray) -> NDArray[np.int64]:
        node = np.zeros(len(x), dtype=np.int64)
        active = self.left[node] >= 0
        while active.any():
            idx = np.nonzero(active)[0]
            n = node[idx]
            go_left = x[idx, self.feature[n]] <= self.threshold[n]
            node[idx] = np.where(go_left, self.left[n], self.right[n])
            active = self.left[node] >= 0
        return node

    def path(self, x: Sequence[float]) -> list[int]:
        node, out = 0, [0]
        while self.left[node] >= 0:
            f = int(self.feature[node])
            node = int(self.left[node] if x[f] <= self.threshold[node] else self.right[node])
            out.append(node)
        return out


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much one screen moved the tender's log-odds; ``key`` is stable for translation."""

    screen: str
    value: float
    log_odds: float

    @property
    def key(self) -> str:
        return f"{self.screen}.{'raises' if self.log_odds > 0 else 'lowers'}"

    def sentence(self) -> str:
        verb = "raises" if self.log_odds > 0 else "lowers"
        return f"{SCREEN_MEANINGS[self.screen]} = {self.value:.4g} {verb} the risk"


class ScreenModel:
    """Evaluates an exported ensemble: risk = sigmoid(init + rate * sum of tree leaf values)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
            raise ValueError("not a TenderHall screen model of a supported format version")
        if not set(doc["features"]) <= set(FEATURE_NAMES):
            raise ValueError("screen model uses features this version does not compute")
        self.doc = doc
        self.init = float(doc["init_log_odds"])
        self.rate = float(doc["learning_rate"])
        self.trees = [
            Tree(
                np.asarray(t["left"], dtype=np.int64),
                np.asarray(t["right"], dtype=np.int64),
                np.asarray(t["feature"], dtype=np.int64),
                np.asarray(t["threshold"], dtype=np.float64),
                np.asarray(t["value"], dtype=np.float64),
            )
            for t in doc["trees"]
        ]

    @staticmethod
    def _prepare(x: FloatArray) -> FloatArray:
        # scikit-learn compares float32 inputs against float64 thresholds; do the same so the
        # exported model agrees exactly with predict_proba.
        return np.asarray(x, dtype=np.float32).astype(np.float64)

    def decision_function(self, x: FloatArray) -> FloatArray:
        x = self._prepare(x)
        raw = np.full(len(x), self.init)
        for t in self.trees:
            raw += self.rate * t.value[t.leaves(x)]
        return raw

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """Risk for each row of a feature matrix (see ``feature_matrix``)."""
        return np.asarray(1.0 / (1.0 + np.exp(-self.decision_function(x))), dtype=np.float64)

    def risk(self, screens: TenderScreens) -> float:
        return float(self.predict_proba(feature_matrix([screens]))[0])

    def contributions(self, screens: TenderScreens) -> list[Contribution]:
        """Per-screen log-odds contributions along each tree's decision path, largest first."""
        x = self._prepare(feature_matrix([screens]))[0].tolist()
        acc = [0.0] * len(FEATURES)
        for t in self.trees:
            path = t.path(x)
            for parent, child in itertools.pairwise(path):
                acc[int(t.feature[parent])] += self.rate * float(t.value[child] - t.value[parent])
        raw = screens.as_dict()
        out = [Contribution(src, raw[src], c) for (_, src), c in zip(FEATURES, acc, strict=True) if c != 0]
        return sorted(out, key=lambda c: -abs(c.log_odds))

    def explain(self, screens: TenderScreens, top: int = 3) -> list[str]:
        """Plain-English reasons: the screens that raised the risk most (empty if none did)."""
        return [c.sentence() for c in self.contributions(screens) if c.log_odds > 0][:top]


def shipped_model_path() -> Path:
    return Path(str(resources.files("collusion") / "data" / "screen_model.json"))


def load_model(path: Path | str | None = None) -> ScreenModel:
    """Load a model from JSON (default: the shipped one).  Never unpickles anything."""
    p = Path(path) if path is not None else shipped_model_path()
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read screen model {p}: {exc}") from exc
    return ScreenModel(doc)


def export(clf: Any, extra: dict[str, Any], feature_set: str = SHIPPED_FEATURE_SET) -> dict[str, Any]:
    """JSON document of a fitted binary ``GradientBoostingClassifier`` (log-loss, prior init).

    ``clf`` was fitted on the columns of ``feature_set``; node features are mapped back to the full
    feature matrix so the model always reads ``feature_matrix`` output.
    """
    cols = columns(feature_set)
    trees = []
    for est in clf.estimators_[:, 0]:
        t = est.tree_
        left, right = t.children_left, t.children_right
        # Leaves hold the boosting steps; internal nodes get the sample-weighted mean of their
        # children so that path attributions in ``contributions`` are on the same scale.
        value = t.value[:, 0, 0].astype(np.float64)
        weight = t.weighted_n_node_samples.astype(np.float64)
        for node in range(t.node_count - 1, -1, -1):
            if left[node] >= 0:
                wl, wr = weight[left[node]], weight[right[node]]
                value[node] = (wl * value[left[node]] + wr * value[right[node]]) / (wl + wr)
        trees.append(
            {
                "left": left.tolist(),
                "right": right.tolist(),
                "feature": [cols[max(int(f), 0)] for f in t.feature],
                "threshold": [float(v) for v in t.threshold],
                "value": [float(v) for v in value],
            }
        )
    prior = clf.init_.class_prior_[1]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "feature_set": feature_set,
        "features": list(FEATURE_SETS[feature_set]),
        "feature_sources": {f: src for f, src in FEATURES if f in FEATURE_SETS[feature_set]},
        **extra,
        "init_log_odds": float(np.log(prior / (1 - prior))),
        "learning_rate": float(clf.learning_rate),
        "trees": trees,
    }


def library_versions() -> dict[str, str]:
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def dumps(doc: dict[str, Any]) -> str:
    """Canonical JSON text (stable key order, shortest round-trip floats) for byte-identical files."""
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


# --- training (scikit-learn is imported lazily: loading and scoring need numpy only) ---

#: Hyperparameter grid searched by inner cross-validation on the training data only.
MAX_DEPTHS = (2, 3)
N_ESTIMATORS = (50, 100, 200, 300)
LEARNING_RATE = 0.05
SUBSAMPLE = 0.8
INNER_FOLDS = 3


def balanced_weights(y: NDArray[np.int64], groups: NDArray[np.int64]) -> FloatArray:
    """Every market (group) weighs the same and, within it, both classes weigh the same.

    Without this the two large markets would decide alone and their prevalence would set the scale.
    """
    w = np.zeros(len(y))
    markets = np.unique(groups)
    for g in markets:
        in_g = groups == g
        classes = np.unique(y[in_g])
        for c in classes:
            cell = in_g & (y == c)
            w[cell] = 1.0 / (cell.sum() * len(classes) * len(markets))
    return np.asarray(w * len(y), dtype=np.float64)


def _mean_market_auc(y: NDArray[np.int64], score: FloatArray, groups: NDArray[np.int64]) -> float:
    from sklearn.metrics import roc_auc_score

    aucs = [
        roc_auc_score(y[groups == g], score[groups == g])
        for g in np.unique(groups)
        if len(np.unique(y[groups == g])) == 2
    ]
    return float(np.mean(aucs)) if aucs else 0.5


def _classifier(depth: int, n_estimators: int, seed: int) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(
        n_estimators=n_estimators,
        max_depth=depth,
        learning_rate=LEARNING_RATE,
        subsample=SUBSAMPLE,
        random_state=seed,
    )


def fit_selected(
    x: FloatArray,
    y: NDArray[np.int64],
    groups: NDArray[np.int64],
    seed: int = SEED,
    tick: Any = None,
) -> tuple[Any, dict[str, Any]]:
    """Pick depth and tree count by inner stratified K-fold (mean per-market ROC-AUC), then refit.

    Rows are tenders, so stratified folds over rows are grouped by tender.  The tree count is read
    off ``staged_decision_function``, so each depth needs one fit per inner fold.
    """
    from sklearn.model_selection import StratifiedKFold

    w = balanced_weights(y, groups)
    strata = groups * 2 + y
    folds = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed)
    scores: dict[tuple[int, int], list[float]] = {(d, n): [] for d in MAX_DEPTHS for n in N_ESTIMATORS}
    for train, test in folds.split(x, strata):
        for depth in MAX_DEPTHS:
            clf = _classifier(depth, max(N_ESTIMATORS), seed)
            clf.fit(x[train], y[train], sample_weight=w[train])
            for i, raw in enumerate(clf.staged_decision_function(x[test]), start=1):
                if i in N_ESTIMATORS:
                    scores[depth, i].append(_mean_market_auc(y[test], raw, groups[test]))
            if tick is not None:
                tick()
    mean = {k: float(np.mean(v)) for k, v in scores.items()}
    # Ties go to the smaller model (grid order is depth-major, then tree count).
    depth, n_est = max(mean, key=lambda k: (mean[k], -k[0], -k[1]))
    clf = _classifier(depth, n_est, seed).fit(x, y, sample_weight=w)
    if tick is not None:
        tick()
    info = {
        "max_depth": depth,
        "n_estimators": n_est,
        "learning_rate": LEARNING_RATE,
        "subsample": SUBSAMPLE,
        "inner_folds": INNER_FOLDS,
        "inner_cv_mean_market_roc_auc": {f"depth={d},trees={n}": round(s, 6) for (d, n), s in mean.items()},
    }
    return clf, info


def fits_per_selection() -> int:
    return INNER_FOLDS * len(MAX_DEPTHS) + 1
