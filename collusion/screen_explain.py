"""``ScreenModel.contributions`` for many tenders at once (the region batch explains every risky tender).

The trees are walked for all rows together, one depth level at a time, and each step's log-odds change
is added to its feature in the same order as the per-tender walk, so the numbers are the same.
Tests compare the two; the batch also spot-checks one row per call against the model and falls back
to the model's own method if they ever disagree (e.g. after a change to the model's evaluation).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collusion.screen_model import FEATURES, VALUE_COLUMNS, Contribution, ScreenModel, feature_matrix
from collusion.screens import TenderScreens

_SOURCES = [src for _, src in FEATURES]
_NET_AT = VALUE_COLUMNS  # sources whose raw value is read from the feature row, not the screens


@dataclass(frozen=True, slots=True)
class _FlatTree:
    """A tree as per-node arrays where a leaf loops to itself with no change, so every row can take
    the same number of steps (no shrinking index sets) and the steps become flat numpy gathers."""

    feature: npt.NDArray[np.int64]
    threshold: npt.NDArray[np.float64]
    missing_left: npt.NDArray[np.bool_]
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    step_left: npt.NDArray[np.float64]  # rate * (value[left child] - value[node]), as the model adds it
    step_right: npt.NDArray[np.float64]
    depth: int


def _flat_trees(model: ScreenModel) -> list[_FlatTree]:
    cached = _FLAT.get(model)
    if cached is not None:
        return cached
    out = []
    for t in model.trees:
        leaf = t.left < 0
        nodes = np.arange(leaf.size)
        left, right = np.where(leaf, nodes, t.left), np.where(leaf, nodes, t.right)
        depth = np.zeros(leaf.size, np.int64)
        for i in np.flatnonzero(~leaf).tolist():  # children come after their parent
            depth[t.left[i]] = depth[t.right[i]] = depth[i] + 1
        out.append(
            _FlatTree(
                np.where(leaf, 0, t.feature),
                np.where(leaf, 0.0, t.threshold),
                t.missing_left & ~leaf,
                left,
                right,
                np.where(leaf, 0.0, model.rate * (t.value[left] - t.value)),
                np.where(leaf, 0.0, model.rate * (t.value[right] - t.value)),
                int(depth.max()),
            )
        )
    _FLAT[model] = out
    return out


_FLAT: weakref.WeakKeyDictionary[ScreenModel, list[_FlatTree]] = weakref.WeakKeyDictionary()


def _walk(
    model: ScreenModel, x: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Decision function per row, and per row and feature the summed log-odds changes along every
    tree's decision path.

    Both are added tree by tree, step by step, in the order of ``ScreenModel.decision_function`` and
    ``ScreenModel.contributions`` (a leaf adds exact zeros), so each sum is the same float.
    """
    rows, cols = x.shape
    acc = np.zeros(rows * cols)
    raw = np.full(rows, model.init)
    flat_x = x.ravel()
    base = np.arange(rows, dtype=np.int64) * cols
    for tree, t in zip(model.trees, _flat_trees(model), strict=True):
        node = np.zeros(rows, np.int64)
        for _ in range(t.depth):
            at = base + t.feature[node]
            v = flat_x[at]
            go_left = v <= t.threshold[node]
            missing = np.isnan(v)
            if missing.any():
                go_left = np.where(missing, t.missing_left[node], go_left)
            acc[at] += np.where(go_left, t.step_left[node], t.step_right[node])
            node = np.where(go_left, t.left[node], t.right[node])
        raw += model.rate * tree.value[node]
    return raw, acc.reshape(rows, cols)


def _contributions(s: TenderScreens, acc: list[float], x: list[float]) -> list[Contribution]:
    per_screen: dict[str, float] = {}
    for src, c in zip(_SOURCES, acc, strict=True):
        if c != 0:
            per_screen[src] = per_screen.get(src, 0.0) + c
    out = [
        Contribution(src, x[_NET_AT[src]] if src in _NET_AT else float(getattr(s, src)), c)
        for src, c in per_screen.items()
        if c != 0
    ]
    return sorted(out, key=lambda c: -abs(c.log_odds))


def contributions_fast(model: ScreenModel, items: Sequence[TenderScreens]) -> list[list[Contribution]]:
    """``[model.contributions(s) for s in items]``, computed with a handful of numpy passes."""
    if not items:
        return []
    x = model._prepare(feature_matrix(items))
    acc = _walk(model, x)[1].tolist()
    return [_contributions(s, a, r) for s, a, r in zip(items, acc, x.tolist(), strict=True)]


def contributions_many(model: ScreenModel, items: Sequence[TenderScreens]) -> list[list[Contribution]]:
    """``contributions_fast``, or the model's own method if a spot check disagrees."""
    out = contributions_fast(model, items)
    if out and out[0] != model.contributions(items[0]):  # the model's evaluation changed
        return [model.contributions(s) for s in items]
    return out


_SRC_NAMES = list(dict.fromkeys(_SOURCES))
_SRC_OF = np.array([_SRC_NAMES.index(src) for src in _SOURCES], np.int64)


def raising_fast(
    model: ScreenModel, items: Sequence[TenderScreens], x: npt.NDArray[np.float64], k: int
) -> list[list[Contribution]]:
    """For each item, ``[c for c in model.contributions(s) if c.log_odds > 0][:k]``.

    ``x`` is ``feature_matrix(items)`` (the caller has it from scoring).  Ranking and ties follow the
    model's method: by log-odds, then by the order the screens first contributed in.
    """
    if not items:
        return []
    xp = model._prepare(x)
    return _top_raising(items, _walk(model, xp)[1], xp, k)


def _top_raising(
    items: Sequence[TenderScreens], acc: npt.NDArray[np.float64], xp: npt.NDArray[np.float64], k: int
) -> list[list[Contribution]]:
    rows, n_src = len(items), len(_SRC_NAMES)
    by_src = np.zeros((rows, n_src))
    first = np.full((rows, n_src), len(_SOURCES), np.int64)  # first feature that moved the screen
    for f, si in enumerate(_SRC_OF.tolist()):
        by_src[:, si] += acc[:, f]
    for f in range(len(_SOURCES) - 1, -1, -1):
        first[acc[:, f] != 0, _SRC_OF[f]] = f
    key = np.where(by_src > 0, -by_src, np.inf)
    o1 = np.argsort(first, axis=1, kind="stable")
    o2 = np.argsort(np.take_along_axis(key, o1, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(o1, o2, axis=1)[:, :k]
    top_val = np.take_along_axis(by_src, top, axis=1)
    out: list[list[Contribution]] = []
    net = [_SRC_NAMES[si] in _NET_AT for si in range(n_src)]
    for i, (s, srcs, vals) in enumerate(zip(items, top.tolist(), top_val.tolist(), strict=True)):
        row = []
        for si, v in zip(srcs, vals, strict=True):
            if v <= 0:
                break  # ranked: the rest did not raise the risk either
            src = _SRC_NAMES[si]
            value = float(xp[i, _NET_AT[src]]) if net[si] else float(getattr(s, src))
            row.append(Contribution(src, value, v))
        out.append(row)
    return out


def raising_many(
    model: ScreenModel, items: Sequence[TenderScreens], x: npt.NDArray[np.float64], k: int
) -> list[list[Contribution]]:
    """``raising_fast``, or the model's own method if a spot check disagrees."""
    out = raising_fast(model, items, x, k)
    if out and out[0] != [c for c in model.contributions(items[0], x=x[0]) if c.log_odds > 0][:k]:
        return [
            [c for c in model.contributions(s, x=r) if c.log_odds > 0][:k]
            for s, r in zip(items, x, strict=True)
        ]
    return out


def score_and_explain(
    model: ScreenModel,
    items: Sequence[TenderScreens],
    x: npt.NDArray[np.float64],
    k: int,
    explain: Callable[[float], bool],
) -> tuple[list[float], list[list[Contribution]]]:
    """Risks (``model.predict_proba(x)``) and, for the rows whose risk ``explain`` selects, the top
    ``k`` screens that raised it, from one walk of the trees.

    Spot checks against the model's own methods (a sample of risks, one explanation) guard the
    shortcut; if they ever disagree the model's methods are used for everything.
    """
    if not items:
        return [], []
    xp = model._prepare(x)
    raw, acc = _walk(model, xp)
    risk = np.asarray(1.0 / (1.0 + np.exp(-raw)), dtype=np.float64)
    sample = np.linspace(0, len(items) - 1, min(len(items), 32)).astype(np.int64)
    if not np.array_equal(risk[sample], model.predict_proba(x[sample])):
        risk = model.predict_proba(x)
        rows = [i for i, r in enumerate(risk.tolist()) if explain(r)]
        found = raising_many(model, [items[i] for i in rows], x[rows], k)
    else:
        rows = [i for i, r in enumerate(risk.tolist()) if explain(r)]
        found = _top_raising([items[i] for i in rows], acc[rows], xp[rows], k)
        if (
            found
            and found[0]
            != [c for c in model.contributions(items[rows[0]], x=x[rows[0]]) if c.log_odds > 0][:k]
        ):
            found = [[c for c in model.contributions(items[i], x=x[i]) if c.log_odds > 0][:k] for i in rows]
    contribs: list[list[Contribution]] = [[] for _ in items]
    for i, c in zip(rows, found, strict=True):
        contribs[i] = c
    return risk.tolist(), contribs


__all__ = ["contributions_fast", "contributions_many", "raising_fast", "raising_many", "score_and_explain"]
