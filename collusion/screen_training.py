"""Screen model training and export: fit the tree ensemble, write it as the JSON ``ScreenModel`` reads.

scikit-learn is imported lazily here, and only here: loading and scoring (``collusion.screen_model``)
need numpy only.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from collusion.screen_model import (
    FEATURE_NAMES,
    FEATURE_SOURCES,
    FORMAT,
    FORMAT_VERSION,
    SEED,
    SHIPPED_VARIANT,
    FloatArray,
    _signs,
    columns,
    variant,
)


def _mean_internal_values(
    left: NDArray[np.int64], right: NDArray[np.int64], value: FloatArray, weight: FloatArray
) -> FloatArray:
    # Leaves hold the boosting steps; internal nodes get the weighted mean of their children so that
    # path attributions in ``contributions`` are on the same scale.  Children have larger indices.
    value = value.copy()
    for node in range(len(left) - 1, -1, -1):
        if left[node] >= 0:
            wl, wr = weight[left[node]], weight[right[node]]
            value[node] = (wl * value[left[node]] + wr * value[right[node]]) / (wl + wr)
    return value


def _header(name: str, extra: dict[str, Any], features: Sequence[str]) -> dict[str, Any]:
    v = variant(name)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "variant": name,
        "feature_set": name,
        "features": list(features),
        "feature_sources": {f: FEATURE_SOURCES[f] for f in features},
        "monotone_constraints": {f: s for f, s in _signs(v).items() if s != 0 and f in features},
        **extra,
    }


def export_gbt(clf: Any, extra: dict[str, Any], name: str, features: Sequence[str]) -> dict[str, Any]:
    """JSON document of a fitted binary ``GradientBoostingClassifier`` (log-loss, prior init)."""
    cols = columns(name, features)
    trees = []
    for est in clf.estimators_[:, 0]:
        t = est.tree_
        left = t.children_left.astype(np.int64)
        right = t.children_right.astype(np.int64)
        value = _mean_internal_values(
            left, right, t.value[:, 0, 0].astype(np.float64), t.weighted_n_node_samples.astype(np.float64)
        )
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
        **_header(name, extra, features),
        "estimator": "GradientBoostingClassifier",
        "input_dtype": "float32",
        "init_log_odds": float(np.log(prior / (1 - prior))),
        "learning_rate": float(clf.learning_rate),
        "trees": trees,
    }


def export_hgb(clf: Any, extra: dict[str, Any], name: str, features: Sequence[str]) -> dict[str, Any]:
    """JSON document of a fitted binary ``HistGradientBoostingClassifier`` (numeric features only).

    Leaf values already include the learning rate, so the document's rate is 1.  Splits read
    ``x <= num_threshold`` on float64 inputs and send NaN to the side in ``missing_left``, as
    scikit-learn's predictor does.
    """
    cols = columns(name, features)
    trees = []
    for (pred,) in clf._predictors:
        nodes = pred.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported by the JSON format")
        leaf = nodes["is_leaf"].astype(bool)
        left = np.where(leaf, -1, nodes["left"].astype(np.int64))
        right = np.where(leaf, -1, nodes["right"].astype(np.int64))
        value = _mean_internal_values(
            left, right, nodes["value"].astype(np.float64), nodes["count"].astype(np.float64)
        )
        trees.append(
            {
                "left": left.tolist(),
                "right": right.tolist(),
                "feature": [cols[int(f)] for f in np.where(leaf, 0, nodes["feature_idx"])],
                "threshold": [float(t) for t in np.where(leaf, 0.0, nodes["num_threshold"])],
                "missing_left": [bool(m) for m in np.where(leaf, False, nodes["missing_go_to_left"])],
                "value": [float(v) for v in value],
            }
        )
    return {
        **_header(name, extra, features),
        "estimator": "HistGradientBoostingClassifier",
        "input_dtype": "float64",
        "init_log_odds": float(np.asarray(clf._baseline_prediction).ravel()[0]),
        "learning_rate": 1.0,
        "trees": trees,
    }


def export(
    clf: Any, extra: dict[str, Any], name: str = SHIPPED_VARIANT, features: Sequence[str] | None = None
) -> dict[str, Any]:
    """JSON document of a classifier fitted on the columns of variant ``name``.

    ``features``: the subset of the variant's features the fit saw (``fit_selected``'s
    ``info["features"]``; default all).  Node features are mapped back to the full feature matrix so
    the model always reads ``feature_matrix`` output.
    """
    used = variant(name).features if features is None else tuple(features)
    if variant(name).estimator == "gbt":
        return export_gbt(clf, extra, name, used)
    return export_hgb(clf, extra, name, used)


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


# --- training ---

#: Hyperparameter grid searched by inner cross-validation on the training data only.
MAX_DEPTHS = (2, 3)
N_ESTIMATORS = (50, 100, 200, 300)
LEARNING_RATE = 0.05
SUBSAMPLE = 0.8  # GradientBoostingClassifier only
MIN_SAMPLES_LEAF = 20  # HistGradientBoostingClassifier only (its default)
L2_REGULARIZATION = 1.0  # HistGradientBoostingClassifier only
INNER_FOLDS = 3

Tick = Callable[[], None]


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


def _classifier(
    depth: int, n_estimators: int, seed: int, name: str = "gbt-full", features: Sequence[str] | None = None
) -> Any:
    v = variant(name)
    used = v.features if features is None else features
    if v.estimator == "gbt":
        from sklearn.ensemble import GradientBoostingClassifier

        return GradientBoostingClassifier(
            n_estimators=n_estimators,
            max_depth=depth,
            learning_rate=LEARNING_RATE,
            subsample=SUBSAMPLE,
            random_state=seed,
        )
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=n_estimators,
        max_depth=depth,
        learning_rate=LEARNING_RATE,
        min_samples_leaf=MIN_SAMPLES_LEAF,
        l2_regularization=L2_REGULARIZATION,
        monotonic_cst=[_signs(v)[f] for f in used],
        early_stopping=False,
        random_state=seed,
    )


def _inner_folds(
    y: NDArray[np.int64], groups: NDArray[np.int64], name: str, seed: int
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    markets = np.unique(groups)
    if variant(name).selection == "lomo" and len(markets) >= 3:
        idx = np.arange(len(y))
        return [(idx[groups != g], idx[groups == g]) for g in markets]
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in folds.split(np.zeros(len(y)), groups * 2 + y)]


def fits_per_selection(name: str = SHIPPED_VARIANT, markets: int = 4) -> int:
    """Model fits of one ``fit_selected`` call on ``markets`` markets (for progress bars)."""
    folds = markets if variant(name).selection == "lomo" and markets >= 3 else INNER_FOLDS
    return folds * len(MAX_DEPTHS) + 1


def _fold_inputs(x_train: FloatArray, x_test: FloatArray) -> tuple[FloatArray, FloatArray]:
    """An inner fold's inputs; a column missing from every training row of the fold (estimate screens
    when the fold's markets have no estimate) becomes a constant 0, which no tree can split on, so the
    fold's fit is the fit without that column (HistGradientBoosting cannot bin an all-NaN column)."""
    empty = np.isnan(x_train).all(axis=0)
    if not empty.any():
        return x_train, x_test
    x_train, x_test = x_train.copy(), x_test.copy()
    x_train[:, empty] = 0.0
    x_test[:, empty] = 0.0
    return x_train, x_test


def fit_selected(
    x: FloatArray,
    y: NDArray[np.int64],
    groups: NDArray[np.int64],
    name: str = SHIPPED_VARIANT,
    seed: int = SEED,
    tick: Tick | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Pick depth and tree count by inner CV on this training data only, then refit on all of it.

    ``x`` is the full feature matrix; the variant's columns are taken here.  Rows are tenders, so
    folds over rows are grouped by tender.  The tree count is read off ``staged_decision_function``,
    so each depth needs one fit per inner fold.  The criterion is the mean per-market ROC-AUC on the
    inner test folds ("kfold") or the mean ROC-AUC over training markets left out in turn ("lomo").
    """
    # A feature missing from every training row (network features of a market without bidder ids)
    # cannot be split on; it is left out of this fit.
    used = [f for f in variant(name).features if not np.isnan(x[:, FEATURE_NAMES.index(f)]).all()]
    xs = x[:, columns(name, used)]
    w = balanced_weights(y, groups)
    folds = _inner_folds(y, groups, name, seed)
    scores: dict[tuple[int, int], list[float]] = {(d, n): [] for d in MAX_DEPTHS for n in N_ESTIMATORS}
    for train, test in folds:
        x_train, x_test = _fold_inputs(xs[train], xs[test])
        for depth in MAX_DEPTHS:
            clf = _classifier(depth, max(N_ESTIMATORS), seed, name, used)
            clf.fit(x_train, y[train], sample_weight=w[train])
            for i, raw in enumerate(clf.staged_decision_function(x_test), start=1):
                if i in N_ESTIMATORS:
                    scores[depth, i].append(_mean_market_auc(y[test], np.ravel(raw), groups[test]))
            if tick is not None:
                tick()
    mean = {k: float(np.mean(v)) for k, v in scores.items()}
    # Ties go to the smaller model (grid order is depth-major, then tree count).
    depth, n_est = max(mean, key=lambda k: (mean[k], -k[0], -k[1]))
    clf = _classifier(depth, n_est, seed, name, used).fit(xs, y, sample_weight=w)
    if tick is not None:
        tick()
    v = variant(name)
    info: dict[str, Any] = {
        "estimator": v.estimator,
        "features": used,
        "max_depth": depth,
        "n_estimators": n_est,
        "learning_rate": LEARNING_RATE,
        "selection": "lomo" if v.selection == "lomo" and len(np.unique(groups)) >= 3 else "kfold",
        "inner_folds": len(folds),
        "inner_cv_mean_market_roc_auc": {f"depth={d},trees={n}": round(s, 6) for (d, n), s in mean.items()},
    }
    if v.estimator == "gbt":
        info["subsample"] = SUBSAMPLE
    else:
        info["min_samples_leaf"] = MIN_SAMPLES_LEAF
        info["l2_regularization"] = L2_REGULARIZATION
    return clf, info
