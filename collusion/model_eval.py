"""Honest evaluation and training of the screen model on the labelled markets.

Two protocols, both split by tender (one row per tender, so no tender is ever on both sides):

* within market: stratified 5-fold over the tenders of one market; the model (including its
  hyperparameter search, done by inner CV on the training folds only) is fitted on four folds and
  scored on the fifth;
* leave one market out: fitted on the other markets (hyperparameters chosen among them only, by
  leaving each training market out in turn for the variants that say so), scored on a market that
  neither the fit nor the selection has seen.

Market-level statistics are computed without labels and in the same way under both protocols: the
bidder-network features (``collusion.market_features``) of a tender are computed once per market from
the bidder ids and winners of all its other tenders, as the platform computes them from a region's
history.  The shipped variant reads none of them.

Metrics per market: ROC-AUC, PR-AUC (average precision, to be read against the prevalence) and
balanced accuracy at risk >= 0.5 (the model is trained with balanced class weights).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from collusion import datasets
from collusion.estimate_screens import estimate_screens
from collusion.market_features import network_features
from collusion.screen_model import (
    FEATURE_NAMES,
    SEED,
    SHIPPED_VARIANT,
    ScreenModel,
    feature_matrix,
    variant,
    with_market_ranks,
)
from collusion.screen_training import export, fit_selected, fits_per_selection, library_versions
from collusion.screens import screens

#: Plain L2 logistic regression on the seven classic screens, grouped 5-fold ROC-AUC (data README).
FLOORS: dict[str, float] = {
    "USA": 0.71,
    "Brazil": 0.88,
    "Italy": 0.72,
    "Switzerland GR/See-Gaster": 0.71,
}
OUTER_FOLDS = 5
THRESHOLD = 0.5

Tick = Callable[[], None]


@dataclass(frozen=True, slots=True)
class MarketArrays:
    x: NDArray[np.float64]
    y: NDArray[np.int64]
    tender_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Metrics:
    tenders: int
    prevalence: float
    roc_auc: float
    pr_auc: float
    balanced_accuracy: float


def market_arrays(tenders: Sequence[datasets.Tender]) -> MarketArrays:
    """Feature rows of one market; the network columns come from the market's own history."""
    net = network_features([t.bidders for t in tenders], [t.winner_index for t in tenders])
    est = [estimate_screens(t.prices, t.estimate, t.winner_index) for t in tenders]
    x = feature_matrix([screens(t.prices, t.winner_index) for t in tenders], net, est)
    # Ranks within the market, from its screens only (no labels): identical in every protocol.
    x = with_market_ranks(x, [t.category for t in tenders])
    y = np.array([int(t.collusive) for t in tenders], dtype=np.int64)
    return MarketArrays(x, y, tuple(t.tender_id for t in tenders))


def metrics(y: NDArray[np.int64], risk: NDArray[np.float64]) -> Metrics:
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score

    return Metrics(
        tenders=len(y),
        prevalence=float(y.mean()),
        roc_auc=float(roc_auc_score(y, risk)),
        pr_auc=float(average_precision_score(y, risk)),
        balanced_accuracy=float(balanced_accuracy_score(y, risk >= THRESHOLD)),
    )


def _predict(clf: Any, info: dict[str, Any], x: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    # Score with the exported JSON model, i.e. exactly what ships, not with the sklearn object.
    return ScreenModel(export(clf, {}, name, info["features"])).predict_proba(x)


def grouped_cv(
    arrays: MarketArrays,
    seed: int = SEED,
    tick: Tick | None = None,
    name: str = SHIPPED_VARIANT,
) -> Metrics:
    """Out-of-fold risks from ``OUTER_FOLDS`` folds grouped by tender, scored together."""
    from sklearn.model_selection import StratifiedGroupKFold

    variant(name)
    risk = np.zeros(len(arrays.y))
    groups = np.zeros(len(arrays.y), dtype=np.int64)
    folds = StratifiedGroupKFold(OUTER_FOLDS, shuffle=True, random_state=seed)
    for train, test in folds.split(arrays.x, arrays.y, groups=list(arrays.tender_ids)):
        clf, info = fit_selected(arrays.x[train], arrays.y[train], groups[train], name, seed, tick)
        risk[test] = _predict(clf, info, arrays.x[test], name)
    return metrics(arrays.y, risk)


def _stack(parts: Sequence[MarketArrays]) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    x = np.vstack([p.x for p in parts])
    y = np.concatenate([p.y for p in parts])
    g = np.concatenate([np.full(len(p.y), i, dtype=np.int64) for i, p in enumerate(parts)])
    return x, y, g


def leave_one_market_out(
    data: Mapping[str, MarketArrays],
    market: str,
    seed: int = SEED,
    tick: Tick | None = None,
    name: str = SHIPPED_VARIANT,
) -> Metrics:
    """Fitted on every market but ``market`` (selection included), scored on ``market``."""
    x, y, g = _stack([a for m, a in data.items() if m != market])
    clf, info = fit_selected(x, y, g, name, seed, tick)
    return metrics(data[market].y, _predict(clf, info, data[market].x, name))


def evaluation_fits(markets: int, name: str = SHIPPED_VARIANT) -> int:
    """Number of model fits ``evaluate`` performs (for progress bars)."""
    within = markets * OUTER_FOLDS * fits_per_selection(name, 1)
    return within + markets * fits_per_selection(name, markets - 1)


@dataclass(frozen=True, slots=True)
class Evaluation:
    within: dict[str, Metrics]
    lomo: dict[str, Metrics]


def evaluate(
    data: Mapping[str, MarketArrays],
    seed: int = SEED,
    tick: Tick | None = None,
    name: str = SHIPPED_VARIANT,
) -> Evaluation:
    within = {m: grouped_cv(a, seed, tick, name) for m, a in data.items()}
    lomo = {m: leave_one_market_out(data, m, seed, tick, name) for m in data}
    return Evaluation(within, lomo)


def load_arrays(data_dir: Path | None = None) -> dict[str, MarketArrays]:
    return {m: market_arrays(ts) for m, ts in datasets.load_all(data_dir).items()}


def train_document(
    data_dir: Path | None = None, seed: int = SEED, tick: Tick | None = None
) -> dict[str, Any]:
    """The shipped model: fitted on all four markets; its JSON document, ready for ``dumps``."""
    d = data_dir or datasets.default_data_dir()
    data = load_arrays(d)
    x, y, g = _stack(list(data.values()))
    clf, info = fit_selected(x, y, g, SHIPPED_VARIANT, seed, tick)
    features = info.pop("features")  # the document lists them at the top level
    extra = {
        "seed": seed,
        "hyperparameters": info,
        "class_weighting": "each market weighs the same; within a market both classes weigh the same",
        "training_data": {
            "source": "García Rodríguez et al. (2022), Automation in Construction 133, 104047",
            "licence": "CC BY-NC-ND 4.0",
            "sha256": datasets.data_hashes(d),
            "markets": {m: {"tenders": len(a.y), "collusive": int(a.y.sum())} for m, a in data.items()},
        },
        "library_versions": library_versions(),
    }
    return export(clf, extra, SHIPPED_VARIANT, features)


def _f(v: float) -> str:
    return f"{v:.3f}"


def markdown_table(ev: Evaluation) -> str:
    """Per-market table: within-market grouped CV and leave-one-market-out, against the floors."""
    head = (
        "| market | tenders | prevalence | floor ROC-AUC | CV ROC-AUC | CV PR-AUC | CV bal. acc. "
        "| LOMO ROC-AUC | LOMO PR-AUC | LOMO bal. acc. |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for m, w in ev.within.items():
        lo = ev.lomo[m]
        floor = FLOORS.get(m)
        rows.append(
            f"| {m} | {w.tenders} | {_f(w.prevalence)} | {_f(floor) if floor else '-'} | {_f(w.roc_auc)} "
            f"| {_f(w.pr_auc)} | {_f(w.balanced_accuracy)} | {_f(lo.roc_auc)} | {_f(lo.pr_auc)} "
            f"| {_f(lo.balanced_accuracy)} |"
        )

    def mean(vals: Sequence[float]) -> str:
        return _f(float(np.mean(vals)))

    w_all, l_all = list(ev.within.values()), list(ev.lomo.values())
    rows.append(
        f"| **mean** | | | {mean([FLOORS[m] for m in ev.within if m in FLOORS])} "
        f"| {mean([w.roc_auc for w in w_all])} | {mean([w.pr_auc for w in w_all])} "
        f"| {mean([w.balanced_accuracy for w in w_all])} | {mean([x.roc_auc for x in l_all])} "
        f"| {mean([x.pr_auc for x in l_all])} | {mean([x.balanced_accuracy for x in l_all])} |"
    )
    return head + "\n".join(rows) + "\n"


#: Single screens with their direction fixed in advance (no fitting, so their within-market and
#: leave-one-market-out scores are the same number): lower CV = more suspicious (the textbook screen),
#: a higher winning bid over the estimate = more suspicious (only where the market has an estimate).
FIXED_SCREENS: dict[str, tuple[str, int]] = {
    "-CV": ("log_cv", -1),
    "winner/estimate": ("winner_to_estimate", 1),
}


def fixed_screen_auc(arrays: MarketArrays, feature: str, sign: int) -> float | None:
    """ROC-AUC of one signed feature on the market's tenders where it is defined (None: nowhere)."""
    from sklearn.metrics import roc_auc_score

    col = arrays.x[:, FEATURE_NAMES.index(feature)]
    ok = ~np.isnan(col)
    if ok.sum() < 2 or len(np.unique(arrays.y[ok])) < 2:
        return None
    return float(roc_auc_score(arrays.y[ok], sign * col[ok]))


def lomo_only(
    data: Mapping[str, MarketArrays], seed: int = SEED, tick: Tick | None = None, name: str = SHIPPED_VARIANT
) -> dict[str, Metrics]:
    """Leave-one-market-out for every market (the only criterion variants are chosen by)."""
    return {m: leave_one_market_out(data, m, seed, tick, name) for m in data}


def comparison_table(
    data: Mapping[str, MarketArrays], lomo: Mapping[str, Metrics], within: Mapping[str, Metrics] | None = None
) -> str:
    """Per-market ROC-AUC of the model (within-market when given, and left out) beside the fixed screens."""
    fixed = {
        k: {m: fixed_screen_auc(a, f, sg) for m, a in data.items()} for k, (f, sg) in FIXED_SCREENS.items()
    }
    head = (
        "| market | model within | model LOMO | " + " | ".join(f"{k} (within = LOMO)" for k in fixed) + " |\n"
    )
    head += "|---|---:|---:|" + "---:|" * len(fixed) + "\n"

    def cell(v: float | None) -> str:
        return "-" if v is None else _f(v)

    def avg(vals: Sequence[float | None]) -> float | None:
        got = [v for v in vals if v is not None]
        return float(np.mean(got)) if got else None

    rows = []
    for m in data:
        w = within[m].roc_auc if within else None
        rows.append(
            f"| {m} | {cell(w)} | {_f(lomo[m].roc_auc)} | "
            + " | ".join(cell(fixed[k][m]) for k in fixed)
            + " |"
        )
    w_mean = avg([within[m].roc_auc for m in data]) if within else None
    rows.append(
        f"| **mean** | {cell(w_mean)} | {_f(float(np.mean([lomo[m].roc_auc for m in data])))} | "
        + " | ".join(cell(avg(list(fixed[k].values()))) for k in fixed)
        + " |"
    )
    rows.append(
        f"| **worst** | {cell(min(within[m].roc_auc for m in data) if within else None)} "
        f"| {_f(min(lomo[m].roc_auc for m in data))} | "
        + " | ".join(cell(min((v for v in fixed[k].values() if v is not None), default=None)) for k in fixed)
        + " |"
    )
    return head + "\n".join(rows) + "\n"
