"""Screen model: tender screens -> collusion risk score in [0, 1].

A gradient-boosted tree ensemble (scikit-learn, seeded) over scale-free transforms of the screens.
The shipped variant (see ``VARIANTS`` and docs/collusion-model.md) uses scikit-learn's
``HistGradientBoostingClassifier`` with monotone constraints where the bid-rigging literature fixes the
direction of a screen (cover bids close together and above a gap to the designated winner), and no
bid count: the direction of the bid count flips between the labelled markets, so it does not transfer.
Variants not shipped also read the bidder-network features of ``collusion.market_features`` (they
may be NaN; see ``feature_matrix``).  The shipped model is plain JSON: the trees are exported node by
node and evaluated here with numpy, so loading never runs pickle.  ``risk`` is a ranking score
trained with balanced class weights (0.5 = as likely collusive as not under an even prior), not a
calibrated probability.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from collusion.estimate_screens import ESTIMATE_MEANINGS, ESTIMATE_NAMES_ZH, EstimateScreens
from collusion.market_features import NETWORK_FEATURES, NETWORK_MEANINGS, NETWORK_NAMES_ZH
from collusion.relative import MarketReference
from collusion.screens import SCREEN_MEANINGS, TenderScreens

FORMAT = "tenderhall-screen-model"
#: 1: GradientBoostingClassifier trees read float32 inputs; 2: adds ``input_dtype`` (HistGradientBoosting
#: reads float64) and the rank screens; 3: adds the bidder-network features, which may be missing (NaN),
#: and each tree's ``missing_left``; 4: adds the estimate screens and the market-relative ranks (both may
#: be missing).  Older files still load.
FORMAT_VERSION = 4
SUPPORTED_VERSIONS = (1, 2, 3, 4)
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
    ("log_losing_cv", "losing_cv"),
    ("winner_z", "winner_z"),
    ("lowest_z", "lowest_z"),
    ("log_gap_ratio", "gap_ratio"),
    ("second_gap_share", "second_gap_share"),
    ("top_gap_share", "top_gap_share"),
    ("max_gap_share", "max_gap_share"),
    ("median_gap_ratio", "median_gap_ratio"),
    ("upper_half_share", "upper_half_share"),
    ("mad_ratio", "mad_ratio"),
    ("winner_rank", "winner_rank"),
    ("log_cv_sqrt_n", "cv"),
    # Bidder-network features (collusion.market_features): need the region's history and bidder ids;
    # NaN when absent.  Appended last so older model files keep their column indices.
    *((f, f) for f in NETWORK_FEATURES),
    # Estimate screens (collusion.estimate_screens): NaN without an estimate.  Raw ratios: the trees
    # bin on quantiles, so a log would change nothing.  ``estimate`` (the size) is read only as a rank.
    *((f, f) for f in ESTIMATE_MEANINGS),
)
_BASE_SOURCES: dict[str, str] = dict(FEATURES)

#: Direction fixed by theory (+1: higher is more collusive, -1: lower is).  Cover bids are placed close
#: together (low dispersion of all bids and of the losing bids, also after scaling by sqrt(n)), above
#: a gap to the designated winner (larger first gap in absolute, std and mean-gap units; winner and
#: lowest bid far below the mean), sometimes in equal steps or ratios (low step / ratio CV), at
#: identical prices, or just above the winner.  Imhof, Karagök & Rutz (2018); Huber & Imhof (2019).
THEORY_SIGNS: dict[str, int] = {
    "log_cv": -1,
    "log_spread": -1,
    "log_diffp": 1,
    "log1p_rd": 1,
    "gap_share": 1,
    "step_cv": -1,
    "ratio_cv": -1,
    "identical_share": 1,
    "cluster_above_winner": 1,
    "log_losing_cv": -1,
    "winner_z": 1,
    "lowest_z": 1,
    "log_gap_ratio": 1,
    "log_cv_sqrt_n": -1,
}
THEORY_FEATURES: tuple[str, ...] = tuple(f for f, _ in FEATURES if f in THEORY_SIGNS)
SCREEN_FEATURES: tuple[str, ...] = tuple(
    f for f, _ in FEATURES[: len(FEATURES) - len(NETWORK_FEATURES) - len(ESTIMATE_MEANINGS)]
)

#: Directions fixed in advance for the estimate screens: a cartel raises the price it is paid (winning
#: and mean bid high against the estimate), its cover bids crowd just under the ceiling and spread
#: little around it.  Whether bids above the estimate are allowed depends on the rules, so that one
#: and the tender's size are free.
ESTIMATE_SIGNS: dict[str, int] = {
    "winner_to_estimate": 1,
    "mean_to_estimate": 1,
    "estimate_ratio_sd": -1,
    "near_ceiling_share": 1,
}
ESTIMATE_FEATURES: tuple[str, ...] = tuple(ESTIMATE_SIGNS)

#: Market-relative ranks (collusion.relative): ``rel_<feature>`` is the percentile of the feature among
#: its market's tenders; same direction as the feature.  Appended last so older files keep their columns.
RELATIVE_BASES: tuple[str, ...] = (*THEORY_FEATURES, *ESTIMATE_FEATURES, "estimate")
RELATIVE_FEATURES: tuple[str, ...] = tuple(f"rel_{f}" for f in RELATIVE_BASES)
FEATURES = (*FEATURES, *((f"rel_{f}", _BASE_SOURCES[f]) for f in RELATIVE_BASES))
FEATURE_NAMES: tuple[str, ...] = tuple(f for f, _ in FEATURES)
FEATURE_SOURCES: dict[str, str] = dict(FEATURES)
#: Columns the raw value of a non-``TenderScreens`` source is read from (network, estimate screens).
VALUE_COLUMNS: dict[str, int] = {
    f: i for i, f in enumerate(FEATURE_NAMES) if f in NETWORK_FEATURES or f in ESTIMATE_MEANINGS
}
_ALL_SIGNS: dict[str, int] = {
    **THEORY_SIGNS,
    **ESTIMATE_SIGNS,
    **{f"rel_{f}": sg for f, sg in {**THEORY_SIGNS, **ESTIMATE_SIGNS}.items()},
}

#: Directions tried for the network features in ``hgb-theory-net-mono`` (not shipped): a closed group
#: of firms that meet often and exclusively and share the wins evenly (bid rotation) is a cartel
#: pattern; many distinct opponents is the competitive one.
NETWORK_SIGNS: dict[str, int] = {
    "pair_repeat_share": 1,
    "pair_affinity": 1,
    "log_pair_cobids": 1,
    "group_closure": 1,
    "group_win_entropy": 1,
    "opp_distinct_ratio": -1,
}

#: Chinese name of every screen and network feature, for explanations (``Contribution.sentence_zh``).
SCREEN_NAMES_ZH: dict[str, str] = {
    "n_bids": "投标数量",
    "cv": "报价变异系数",
    "spread": "报价极差率",
    "diffp": "最低两家报价差率",
    "rd": "最低两家报价相对距离",
    "gap_share": "最低两家报价差占报价区间比例",
    "kurtosis": "报价峰度",
    "skewness": "报价偏度",
    "ks_uniform": "报价分布与均匀分布的差异",
    "step_cv": "相邻报价差的变异系数（等差）",
    "ratio_cv": "相邻报价比的变异系数（等比）",
    "equal_steps": "报价呈等差排列",
    "equal_ratios": "报价呈等比排列",
    "identical_share": "报价相同的投标占比",
    "cluster_above_winner": "紧贴中标价之上的投标占比",
    "losing_cv": "未中标报价的变异系数",
    "winner_z": "中标价低于平均报价的标准差倍数",
    "lowest_z": "最低报价低于平均报价的标准差倍数",
    "gap_ratio": "最低两家报价差与平均相邻报价差之比",
    "second_gap_share": "第二、第三低报价差占报价区间比例",
    "top_gap_share": "最高两家报价差占报价区间比例",
    "max_gap_share": "最大相邻报价差占报价区间比例",
    "median_gap_ratio": "相邻报价差中位数与平均值之比",
    "upper_half_share": "高于区间中点的报价占比",
    "mad_ratio": "报价平均绝对偏差与标准差之比",
    "winner_rank": "低于中标价的其他报价占比",
    **NETWORK_NAMES_ZH,
    **ESTIMATE_NAMES_ZH,
}
FEATURE_MEANINGS: dict[str, str] = {**SCREEN_MEANINGS, **NETWORK_MEANINGS, **ESTIMATE_MEANINGS}


@dataclass(frozen=True, slots=True)
class Variant:
    """One modelling choice compared in the benchmark; trained by ``screen_training.fit_selected``."""

    estimator: Literal["gbt", "hgb"]
    features: tuple[str, ...]
    #: Apply ``THEORY_SIGNS`` as monotone constraints (HistGradientBoosting only).
    monotone: bool
    #: Inner criterion for depth and tree count: "kfold" = stratified 3-fold, mean per-market ROC-AUC;
    #: "lomo" = leave one training market out (mean ROC-AUC on the market left out) when the training
    #: data has at least three markets, else as "kfold".
    selection: Literal["kfold", "lomo"]
    description: str
    #: Also apply ``NETWORK_SIGNS`` (with ``monotone``).
    network_monotone: bool = False


_FULL15 = FEATURE_NAMES[:15]
_TRANSFER8 = (
    "log_cv",
    "log_spread",
    "log1p_rd",
    "gap_share",
    "step_cv",
    "ratio_cv",
    "identical_share",
    "cluster_above_winner",
)
_NO_N = tuple(f for f in SCREEN_FEATURES if f != "log_n_bids")

#: Variants in the model card's table, in the order tried.  The shipped one was chosen by the rule
#: declared in docs/collusion-model.md: best mean leave-one-market-out ROC-AUC among the variants whose
#: mean within-market ROC-AUC reaches the floors' mean (0.755).
VARIANTS: dict[str, Variant] = {
    "gbt-full": Variant("gbt", _FULL15, False, "kfold", "previous shipped model: 15 screens, boosted trees"),
    "gbt-transfer": Variant("gbt", _TRANSFER8, False, "kfold", "8 screens with a theory direction, no n"),
    "hgb-all": Variant("hgb", SCREEN_FEATURES, False, "kfold", "all 27 features, unconstrained"),
    "hgb-all-mono": Variant("hgb", SCREEN_FEATURES, True, "lomo", "all 27, theory-monotone, n free"),
    "hgb-theory-n-mono": Variant(
        "hgb", ("log_n_bids", *THEORY_FEATURES), True, "lomo", "14 theory screens monotone, n free"
    ),
    "hgb-non-mono": Variant("hgb", _NO_N, True, "lomo", "26 features without n, theory-monotone"),
    "hgb-theory-mono": Variant("hgb", THEORY_FEATURES, True, "lomo", "14 theory screens, monotone, no n"),
    "hgb-theory-net": Variant(
        "hgb", (*THEORY_FEATURES, *NETWORK_FEATURES), True, "lomo", "14 theory screens monotone + 13 network"
    ),
    "hgb-theory-net-mono": Variant(
        "hgb",
        (*THEORY_FEATURES, *NETWORK_SIGNS),
        True,
        "lomo",
        "14 theory screens + 6 network features, all monotone",
        network_monotone=True,
    ),
}
_REL_THEORY = tuple(f"rel_{f}" for f in THEORY_FEATURES)
_REL_EST = tuple(f"rel_{f}" for f in (*ESTIMATE_FEATURES, "estimate"))
#: Round 3 (issue 12), declared with their selection rule in docs/collusion-model.md before the runs.
VARIANTS.update(
    {
        "hgb-theory-est": Variant(
            "hgb",
            (*THEORY_FEATURES, *ESTIMATE_FEATURES),
            True,
            "lomo",
            "14 theory + 4 estimate screens, monotone",
        ),
        "hgb-rel": Variant("hgb", _REL_THEORY, True, "lomo", "14 theory screens as market ranks, monotone"),
        "hgb-theory-rel": Variant(
            "hgb", (*THEORY_FEATURES, *_REL_THEORY), True, "lomo", "14 theory screens raw and as market ranks"
        ),
        "hgb-theory-est-rel": Variant(
            "hgb",
            (*THEORY_FEATURES, *ESTIMATE_FEATURES, *_REL_THEORY, *_REL_EST),
            True,
            "lomo",
            "14 theory + 4 estimate screens, raw and as market ranks, + size rank",
        ),
        "hgb-rel-est": Variant(
            "hgb",
            (*_REL_THEORY, *_REL_EST),
            True,
            "lomo",
            "theory and estimate screens as market ranks + size rank",
        ),
    }
)
SHIPPED_VARIANT = "hgb-theory-mono"

#: Backwards-compatible names: feature list of each variant.
FEATURE_SETS: dict[str, tuple[str, ...]] = {name: v.features for name, v in VARIANTS.items()}
SHIPPED_FEATURE_SET = SHIPPED_VARIANT


def _signs(v: Variant) -> dict[str, int]:
    """Monotone constraint of each feature of ``v`` (0 = free)."""
    signs = {**_ALL_SIGNS, **(NETWORK_SIGNS if v.network_monotone else {})}
    return {f: signs.get(f, 0) if v.monotone else 0 for f in v.features}


def variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[name]


def columns(name: str, features: Sequence[str] | None = None) -> list[int]:
    """Columns of ``feature_matrix`` read by variant ``name`` (or by the given subset of its features)."""
    return [FEATURE_NAMES.index(f) for f in (variant(name).features if features is None else features)]


_LOG_FLOOR = 1e-4  # keeps log finite for zero dispersion (single bid, identical bids)
_GAP_FLOOR = 1e-3  # same for the gap ratio (0 when undefined)

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
        math.log(s.losing_cv + _LOG_FLOOR),
        s.winner_z,
        s.lowest_z,
        math.log(s.gap_ratio + _GAP_FLOOR),
        s.second_gap_share,
        s.top_gap_share,
        s.max_gap_share,
        s.median_gap_ratio,
        s.upper_half_share,
        s.mad_ratio,
        s.winner_rank,
        math.log(s.cv * math.sqrt(s.n_bids) + _LOG_FLOOR),
    ]


def feature_matrix(
    items: Sequence[TenderScreens],
    network: FloatArray | None = None,
    estimates: Sequence[EstimateScreens | None] | None = None,
) -> FloatArray:
    """Model input rows.  ``network``: one ``market_features.network_features`` row per item, or None
    (no bidder ids or no history), in which case the network columns are NaN.  ``estimates``: one
    ``estimate_screens`` result per item (None: no estimate, NaN columns).  The market-relative columns
    are NaN here; ``with_market_ranks`` fills them from the market's rows."""
    screens_part = np.array([feature_vector(s) for s in items], dtype=np.float64)
    screens_part = screens_part.reshape(-1, len(SCREEN_FEATURES))
    if network is None:
        net = np.full((len(items), len(NETWORK_FEATURES)), np.nan)
    else:
        net = np.asarray(network, dtype=np.float64).reshape(-1, len(NETWORK_FEATURES))
        if len(net) != len(items):
            raise ValueError("network features need one row per tender")
    est = np.full((len(items), len(ESTIMATE_MEANINGS)), np.nan)
    if estimates is not None:
        if len(estimates) != len(items):
            raise ValueError("estimate screens need one entry per tender")
        for i, e in enumerate(estimates):
            if e is not None:
                est[i] = [getattr(e, f) for f in ESTIMATE_MEANINGS]
    rel = np.full((len(items), len(RELATIVE_FEATURES)), np.nan)
    return np.hstack([screens_part, net, est, rel])


_REL_AT = [FEATURE_NAMES.index(f) for f in RELATIVE_FEATURES]
_REL_BASE_AT = [FEATURE_NAMES.index(f) for f in RELATIVE_BASES]


def rank_inputs(x: FloatArray) -> FloatArray:
    """The columns of a ``feature_matrix`` that are ranked within the market (``RELATIVE_BASES``)."""
    return np.asarray(x, dtype=np.float64)[:, _REL_BASE_AT]


def market_reference(x: FloatArray, categories: Sequence[str] | None = None) -> MarketReference:
    """The market's distribution of every ranked feature, from its ``feature_matrix`` rows."""
    return MarketReference.of(np.asarray(x, dtype=np.float64)[:, _REL_BASE_AT], categories)


def with_market_ranks(
    x: FloatArray, categories: Sequence[str] | None = None, reference: MarketReference | None = None
) -> FloatArray:
    """``x`` with its market-relative columns filled: each ranked feature's percentile among the
    market's tenders (``collusion.relative``; within a category where it is large enough).  The market
    is ``reference`` (e.g. the region's history), or else the rows of ``x`` themselves (one market: the
    whole input file).  Rows of a market with too short a history keep NaN there."""
    out = np.array(x, dtype=np.float64, copy=True)
    if out.ndim != 2 or out.shape[1] != len(FEATURES):
        raise ValueError("expected a feature_matrix")
    ref = reference if reference is not None else market_reference(out, categories)
    out[:, _REL_AT] = ref.ranks(out[:, _REL_BASE_AT], categories)
    return out


@dataclass(frozen=True, slots=True)
class Tree:
    """One regression tree; ``left[i] == -1`` marks a leaf.  ``value`` holds every node's mean."""

    left: NDArray[np.int64]
    right: NDArray[np.int64]
    feature: NDArray[np.int64]
    threshold: FloatArray
    value: FloatArray
    #: Where a missing (NaN) input goes at each split; all False in format 1 and 2 files, whose
    #: features are never NaN.
    missing_left: NDArray[np.bool_]

    def leaves(self, x: FloatArray) -> NDArray[np.int64]:
        node = np.zeros(len(x), dtype=np.int64)
        active = self.left[node] >= 0
        while active.any():
            idx = np.nonzero(active)[0]
            n = node[idx]
            v = x[idx, self.feature[n]]
            go_left = np.where(np.isnan(v), self.missing_left[n], v <= self.threshold[n])
            node[idx] = np.where(go_left, self.left[n], self.right[n])
            active = self.left[node] >= 0
        return node

    def path(self, x: Sequence[float]) -> list[int]:
        node, out = 0, [0]
        while self.left[node] >= 0:
            v = x[int(self.feature[node])]
            go_left = bool(self.missing_left[node]) if math.isnan(v) else v <= self.threshold[node]
            node = int(self.left[node] if go_left else self.right[node])
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
        return f"{FEATURE_MEANINGS[self.screen]} = {self.value:.4g} {verb} the risk"

    def sentence_zh(self) -> str:
        verb = "提高" if self.log_odds > 0 else "降低"
        return f"{SCREEN_NAMES_ZH[self.screen]} = {self.value:.4g}，{verb}了风险评分"


class ScreenModel:
    """Evaluates an exported ensemble: risk = sigmoid(init + rate * sum of tree leaf values)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("format") != FORMAT or doc.get("format_version") not in SUPPORTED_VERSIONS:
            raise ValueError("not a TenderHall screen model of a supported format version")
        if not set(doc["features"]) <= set(FEATURE_NAMES):
            raise ValueError("screen model uses features this version does not compute")
        self.doc = doc
        self.init = float(doc["init_log_odds"])
        self.rate = float(doc["learning_rate"])
        # Format 1 (GradientBoostingClassifier) compares float32 inputs, as scikit-learn does.
        self.input_dtype = str(doc.get("input_dtype", "float32"))
        if self.input_dtype not in ("float32", "float64"):
            raise ValueError(f"unsupported input_dtype {self.input_dtype!r}")
        self.trees = [
            Tree(
                np.asarray(t["left"], dtype=np.int64),
                np.asarray(t["right"], dtype=np.int64),
                np.asarray(t["feature"], dtype=np.int64),
                np.asarray(t["threshold"], dtype=np.float64),
                np.asarray(t["value"], dtype=np.float64),
                np.asarray(t.get("missing_left", [False] * len(t["left"])), dtype=np.bool_),
            )
            for t in doc["trees"]
        ]
        #: The model reads bidder-network features: call it with them (see ``feature_matrix``).
        self.needs_network = any(f in NETWORK_FEATURES for f in doc["features"])
        #: The model reads market ranks: fill them with ``with_market_ranks`` over the region.
        self.needs_ranks = any(f in RELATIVE_FEATURES for f in doc["features"])

    def _prepare(self, x: FloatArray) -> FloatArray:
        # Compare inputs at the precision the fitted estimator used, so the export agrees exactly.
        x = np.asarray(x, dtype=self.input_dtype).astype(np.float64)
        if x.ndim != 2 or x.shape[1] < len(SCREEN_FEATURES):
            raise ValueError("expected a feature_matrix")
        if x.shape[1] < len(FEATURES):  # a caller's matrix from before the network columns existed
            x = np.hstack([x, np.full((len(x), len(FEATURES) - x.shape[1]), np.nan)])
        return x

    def decision_function(self, x: FloatArray) -> FloatArray:
        x = self._prepare(x)
        raw = np.full(len(x), self.init)
        for t in self.trees:
            raw += self.rate * t.value[t.leaves(x)]
        return raw

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """Risk for each row of a feature matrix (see ``feature_matrix``)."""
        return np.asarray(1.0 / (1.0 + np.exp(-self.decision_function(x))), dtype=np.float64)

    def _row(self, screens: TenderScreens, network: FloatArray | None, x: FloatArray | None) -> FloatArray:
        if x is not None:  # the caller's full feature row (estimate screens, market ranks filled)
            return np.asarray(x, dtype=np.float64).reshape(1, -1)
        row = None if network is None else np.asarray(network, dtype=np.float64).reshape(1, -1)
        return feature_matrix([screens], row)

    def risk(
        self, screens: TenderScreens, network: FloatArray | None = None, x: FloatArray | None = None
    ) -> float:
        """Risk of one tender; ``network`` is its ``network_features`` row (None: unknown); ``x`` its
        whole ``feature_matrix`` row instead, when the caller has estimate screens or market ranks."""
        return float(self.predict_proba(self._row(screens, network, x))[0])

    def contributions(
        self, screens: TenderScreens, network: FloatArray | None = None, x: FloatArray | None = None
    ) -> list[Contribution]:
        """Per-screen log-odds contributions along each tree's decision path, largest first.

        Features derived from the same screen (``log_cv`` and ``log_cv_sqrt_n``) are summed; a network
        feature is its own source, reported with its value.
        """
        xs = self._prepare(self._row(screens, network, x))[0].tolist()
        acc = [0.0] * len(FEATURES)
        for t in self.trees:
            path = t.path(xs)
            for parent, child in itertools.pairwise(path):
                acc[int(t.feature[parent])] += self.rate * float(t.value[child] - t.value[parent])
        per_screen: dict[str, float] = {}
        for (_, src), c in zip(FEATURES, acc, strict=True):
            if c != 0:
                per_screen[src] = per_screen.get(src, 0.0) + c
        raw: dict[str, float] = {k: float(v) for k, v in screens.as_dict().items()}
        raw.update({src: xs[i] for src, i in VALUE_COLUMNS.items()})
        out = [Contribution(src, raw[src], c) for src, c in per_screen.items() if c != 0]
        return sorted(out, key=lambda c: -abs(c.log_odds))

    def explain(self, screens: TenderScreens, top: int = 3, network: FloatArray | None = None) -> list[str]:
        """Plain-English reasons: the screens that raised the risk most (empty if none did)."""
        return [c.sentence() for c in self.contributions(screens, network) if c.log_odds > 0][:top]


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
