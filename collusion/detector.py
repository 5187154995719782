"""The detector: graph evidence + price screens (+ screen model) + co-bidding history -> tender risk.

Pure logic (no web or database imports).  One tender's result is

* ``risk`` in [0, 1]: noisy-OR of the strongest bidder pair's evidence score (evidence.score_edge) and
  the screen model's risk scaled into a soft contribution;
* ``level``: "high" only with at least one hard evidence item (hard evidence dominates: the risk is
  lifted to the high threshold); soft evidence alone is capped just below it, so honest look-alikes
  (one office NAT, one public template) can at most be "suspicious";
* ``groups``: communities of suspected bidders (graph.suspect_groups on the tender's evidence);
* ``reasons``: one per evidence item and per screen that raised the risk, each with a stable key, its
  legal grounds and a one-line explanation in Chinese and English.

``Detector.check`` is the incremental run (one tender against the whole history); ``Detector.batch``
scores every tender of a region in one pass over the region's evidence.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from collusion.bulk import paused_gc
from collusion.columns import BidColumns
from collusion.evidence import SPECS, Evidence, EvidenceKind, score_edge
from collusion.graph import GraphIndex, GraphParams
from collusion.groups import SuspectGroup, graph_from_evidence, suspect_groups
from collusion.records import BidRecord, CompanyRecord, TenderRecord
from collusion.region_features import RegionInputs, region_inputs, tender_row
from collusion.screen_explain import score_and_explain
from collusion.screen_model import SCREEN_NAMES_ZH, Contribution, ScreenModel, load_model
from collusion.screens import TenderScreens, screens
from collusion.screens_batch import tender_screens

K = EvidenceKind


class RiskLevel(StrEnum):
    HIGH = "high"
    SUSPICIOUS = "suspicious"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class DetectorParams:
    high: float = 0.8  # risk at or above this (with hard evidence) is "high"
    suspicious: float = 0.5  # risk at or above this is "suspicious"
    # The screen model ranks tenders (0.5 = even odds under a balanced prior); only the part above
    # screen_floor counts, scaled to at most screen_weight, so screens alone can flag "suspicious"
    # but never "high" (they prove nothing about who colluded).
    screen_weight: float = 0.7
    screen_floor: float = 0.5
    min_screen_bids: int = 3  # fewer bids carry no distribution to screen
    screen_reasons: int = 3  # top screens named in the reasons
    soft_margin: float = 0.01  # soft-only risk stays this far below `high`
    group_min_weight: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.suspicious < self.high <= 1:
            raise ValueError("thresholds must satisfy 0 < suspicious < high <= 1")


# Screens that describe 报价呈规律性差异 / 异常一致 directly; the others are statistical indications only.
_SCREEN_GROUNDS = {
    "equal_steps": ("BL40.4", "GP37.4"),
    "equal_ratios": ("BL40.4", "GP37.4"),
    "step_cv": ("BL40.4", "GP37.4"),
    "ratio_cv": ("BL40.4", "GP37.4"),
    "identical_share": ("BL40.4", "GP37.4"),
}
# Kinds whose evidence belongs to the tenders where it was observed, not to every joint tender.
_PER_TENDER = frozenset({K.REGULAR_PRICE_STEPS, K.MIXED_DOCUMENTS, K.NEAR_IDENTICAL_DOC})


@dataclass(frozen=True, slots=True)
class Reason:
    key: str  # stable machine key: "evidence.<kind>", "screen.model", "screen.<screen>"
    hard: bool
    weight: float
    zh: str
    en: str
    grounds: tuple[str, ...] = ()
    bidders: tuple[str, ...] = ()
    evidence: Evidence | None = None

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "hard": self.hard,
            "weight": round(self.weight, 4),
            "zh": self.zh,
            "en": self.en,
            "grounds": list(self.grounds),
            "bidders": list(self.bidders),
        }
        if self.evidence is not None:
            out["evidence"] = self.evidence.to_json()
        return out


@dataclass(frozen=True, slots=True)
class TenderRisk:
    tender_id: str
    risk: float
    level: RiskLevel
    hard: bool
    graph_score: float
    screen_risk: float | None
    bidders: tuple[str, ...]
    groups: tuple[SuspectGroup, ...] = ()
    reasons: tuple[Reason, ...] = ()
    evidence: tuple[Evidence, ...] = field(default=(), repr=False)

    @property
    def reason_keys(self) -> list[str]:
        return list(dict.fromkeys(r.key for r in self.reasons))

    @property
    def suspects(self) -> tuple[str, ...]:
        return tuple(sorted({m for g in self.groups for m in g.members}))

    def to_json(self) -> dict[str, Any]:
        return {
            "tender_id": self.tender_id,
            "risk": round(self.risk, 4),
            "level": self.level.value,
            "hard": self.hard,
            "graph_score": round(self.graph_score, 4),
            "screen_risk": None if self.screen_risk is None else round(self.screen_risk, 4),
            "bidders": list(self.bidders),
            "groups": [
                {
                    "id": g.group_id,
                    "members": list(g.members),
                    "level": g.level.value,
                    "hard": g.hard,
                    "score": round(g.score, 4),
                    "kinds": [k.value for k in g.kinds],
                }
                for g in self.groups
            ],
            "reasons": [r.to_json() for r in self.reasons],
        }


def evidence_reason(e: Evidence, names: Mapping[str, str] | None = None) -> Reason:
    return Reason(
        f"evidence.{e.kind.value}",
        e.hard,
        e.weight,
        e.explain("zh", names),
        e.explain("en", names),
        SPECS[e.kind].grounds,
        tuple(sorted({e.a, e.b})),
        e,
    )


@dataclass(frozen=True, slots=True)
class _TenderBids:
    prices: tuple[float, ...]
    winner: int | None
    bidders: tuple[str, ...]


#: Share by which the region's history must grow before ``check`` rebuilds its rank reference.
REFERENCE_GROWTH = 0.01


class Detector:
    """A region's history (GraphIndex, which also holds every bid's price), scored with the screen model."""

    def __init__(
        self,
        companies: Iterable[CompanyRecord] = (),
        params: DetectorParams | None = None,
        graph_params: GraphParams | None = None,
        model: ScreenModel | None = None,
        *,
        index: GraphIndex | None = None,
    ) -> None:
        self.params = params or DetectorParams()
        self.model = model or load_model()
        self.index = index if index is not None else GraphIndex(companies, graph_params)
        # The region's estimate screens and rank reference for ``check``, rebuilt when the history
        # has grown by REFERENCE_GROWTH since (a rank against a slightly older history barely moves).
        self._inputs: RegionInputs | None = None
        self._inputs_size = 0

    @classmethod
    def from_records(
        cls,
        companies: Iterable[CompanyRecord],
        bids: Iterable[BidRecord],
        tenders: Iterable[TenderRecord] = (),
        params: DetectorParams | None = None,
        graph_params: GraphParams | None = None,
        model: ScreenModel | None = None,
    ) -> Detector:
        """Batch load of a region's history (documents hashed after region-wide template counts)."""
        index = GraphIndex.from_records(companies, bids, tenders, graph_params)
        return cls(params=params, model=model, index=index)

    @classmethod
    def from_columns(
        cls,
        companies: Iterable[CompanyRecord],
        bids: BidColumns,
        tenders: Iterable[TenderRecord] = (),
        params: DetectorParams | None = None,
        graph_params: GraphParams | None = None,
        model: ScreenModel | None = None,
    ) -> Detector:
        """Batch load of bids already in columns (grouped by tender), e.g. from a columnar export."""
        index = GraphIndex.from_columns(companies, bids, tenders, graph_params)
        return cls(params=params, model=model, index=index)

    # ---- ingestion ---------------------------------------------------------------------------
    def add_company(self, company: CompanyRecord) -> None:
        self.index.add_company(company)

    def add_tender(self, tender: TenderRecord | str, bids: Sequence[BidRecord]) -> None:
        tid = tender if isinstance(tender, str) else tender.tender_id
        if tid in self.index.tids:
            raise ValueError(f"tender {tid} is already in the history")
        self.index.add_tender(tender, bids)

    def _tender_bids(self, t: int) -> _TenderBids:
        rows = self.index.tender_rows(t)
        _, bidder, price, win = self.index.columns()
        winners = np.flatnonzero(win[rows])
        names = self.index.cids.names
        return _TenderBids(
            tuple(price[rows].tolist()),
            int(winners[0]) if winners.size == 1 else None,
            tuple(dict.fromkeys(names[b] for b in bidder[rows].tolist())),
        )

    def __contains__(self, tender_id: object) -> bool:
        return tender_id in self.index.tids

    @property
    def tender_ids(self) -> list[str]:
        return list(self.index.tids.names)

    # ---- scoring -----------------------------------------------------------------------------
    def check(self, tender_id: str) -> TenderRisk:
        """Incremental run: one (already added) tender against the whole history."""
        t = self.index.tids.get(tender_id)
        if t is None:
            raise KeyError(tender_id)
        ev = self.index.check_tender(tender_id)
        tb = self._tender_bids(t)
        s = self._screens(tb)
        r, contribs = None, []
        if s is not None:
            rec = self.index.tenders.get(t)
            est, cat = (rec.estimate, rec.category) if rec is not None else (None, "")
            x = tender_row(self._region_inputs(), s, tb.prices, tb.winner, est, cat)
            r = self.model.risk(s, x=x)
            contribs = self.model.contributions(s, x=x) if self._screen_part(r) > 0 else []
        return self._result(tender_id, tb.bidders, ev, s, r, contribs)

    def _region_inputs(self) -> RegionInputs | None:
        if not self.model.needs_ranks:
            return None
        n = len(self.index.tids)
        if self._inputs is None or n > self._inputs_size * (1 + REFERENCE_GROWTH):
            tender, _, price, win = self.index.columns()
            table = tender_screens(tender, price, win, n, self.params.min_screen_bids)
            self._inputs, self._inputs_size = region_inputs(self.model, self.index, table), n
        return self._inputs

    def check_new(self, tender: TenderRecord | str, bids: Sequence[BidRecord]) -> TenderRisk:
        self.add_tender(tender, bids)
        return self.check(tender if isinstance(tender, str) else tender.tender_id)

    def batch(
        self, tender_ids: Iterable[str] | None = None, progress: Callable[[int], None] | None = None
    ) -> list[TenderRisk]:
        """Region-wide run: all evidence once, then each tender gets the evidence between its bidders.

        Screens come from one vectorised pass over every bid (collusion.screens_batch); the model scores
        and explains a chunk of tenders per call.
        """
        with paused_gc():
            return self._batch(tender_ids, progress)

    def _batch(
        self, tender_ids: Iterable[str] | None, progress: Callable[[int], None] | None
    ) -> list[TenderRisk]:
        idx = self.index
        if tender_ids is None:
            wanted = list(range(len(idx.tids)))
        else:
            wanted = [t for t in map(idx.tids.get, tender_ids) if t is not None]
        per_tender = self._evidence_by_tender(idx.evidence(), set(wanted))
        tender, bidder, price, win = idx.columns()
        table = tender_screens(tender, price, win, len(idx.tids), self.params.min_screen_bids)
        inputs = region_inputs(self.model, idx, table)
        if inputs.reference is not None:
            self._inputs, self._inputs_size = inputs, len(idx.tids)
        bidders = self._bidders_by_tender(tender, bidder)
        names = idx.tids.names
        out: list[TenderRisk] = []
        chunk = 4096  # the model evaluates a matrix per call; a chunk bounds the screens kept alive
        for lo in range(0, len(wanted), chunk):
            ids = wanted[lo : lo + chunk]
            scr = table.at(ids)
            risks, contribs = self._score_chunk(scr, ids, inputs)
            for t, s, r, c in zip(ids, scr, risks, contribs, strict=True):
                out.append(self._result(names[t], bidders[t], per_tender.get(t, []), s, r, c))
            if progress is not None:
                progress(len(ids))
        return out

    def _bidders_by_tender(self, tender: Any, bidder: Any) -> list[tuple[str, ...]]:
        """Each tender's distinct bidder ids in the order of their first bid."""
        order = np.argsort(tender, kind="stable")
        bounds = np.searchsorted(tender[order], np.arange(len(self.index.tids) + 1)).tolist()
        names = self.index.cids.names
        b = [names[f] for f in bidder[order].tolist()]
        return [tuple(dict.fromkeys(b[lo:hi])) for lo, hi in itertools.pairwise(bounds)]

    def _score_chunk(
        self, items: Sequence[TenderScreens | None], ids: Sequence[int], inputs: RegionInputs
    ) -> tuple[list[float | None], list[list[Contribution]]]:
        """Risk of each tender with screens, and the screens that raised it where it counts."""
        risks: list[float | None] = [None] * len(items)
        contribs: list[list[Contribution]] = [[] for _ in items]
        at = [i for i, s in enumerate(items) if s is not None]
        present = [s for s in items if s is not None]
        if not present:
            return risks, contribs
        x = inputs.rows([ids[i] for i in at], present)
        k = self.params.screen_reasons
        scores, found = score_and_explain(self.model, present, x, k, lambda r: self._screen_part(r) > 0)
        for i, r, c in zip(at, scores, found, strict=True):
            risks[i], contribs[i] = r, c
        return risks, contribs

    def _evidence_by_tender(
        self, evidence: Iterable[Evidence], wanted: set[int]
    ) -> dict[int, list[Evidence]]:
        out: dict[int, list[Evidence]] = defaultdict(list)
        joint_cache: dict[tuple[str, str], list[int]] = {}
        cids, names = self.index.cids, self.index.tids.names
        for e in evidence:
            if e.a == e.b:
                continue
            pair = e.pair
            joint = joint_cache.get(pair)
            if joint is None:
                a, b = cids.get(pair[0]), cids.get(pair[1])
                joint = []
                if a is not None and b is not None:
                    joint = sorted(set(self.index.firm_tenders(a)) & set(self.index.firm_tenders(b)))
                joint_cache[pair] = joint
            if e.kind in _PER_TENDER or dict(e.detail).get("firms") is not None:
                seen = set(e.tenders)
                targets = [t for t in joint if names[t] in seen]  # infrastructure / per-tender facts
            else:
                targets = joint
            for t in targets:
                if t in wanted:
                    out[t].append(e)
        return out

    def _screens(self, tb: _TenderBids) -> TenderScreens | None:
        if len(tb.prices) < self.params.min_screen_bids or any(
            not (math.isfinite(p) and p > 0) for p in tb.prices
        ):
            return None
        return screens(tb.prices, tb.winner)

    def _screen_part(self, r: float | None) -> float:
        p = self.params
        if r is None or r <= p.screen_floor:
            return 0.0
        return p.screen_weight * (r - p.screen_floor) / (1.0 - p.screen_floor)

    def _tender_labels(self, evidence: Sequence[Evidence]) -> dict[str, str]:
        """Reference numbers of the tenders the evidence cites, where the history knows them."""
        labels: dict[str, str] = {}
        for key in {t for e in evidence for t in e.tenders}:
            t = self.index.tids.get(key)
            record = self.index.tenders.get(t) if t is not None else None
            if record is not None and record.label:
                labels[key] = record.label
        return labels

    def _result(
        self,
        tender_id: str,
        tender_bidders: tuple[str, ...],
        evidence: list[Evidence],
        s: TenderScreens | None,
        r: float | None,
        contributions: Sequence[Contribution],
    ) -> TenderRisk:
        p = self.params
        ev: list[Evidence] = []
        graph_score, hard = 0.0, False
        if evidence:  # most tenders of a region have none: skip the pair bookkeeping
            bidders = set(tender_bidders)
            ev = [e for e in evidence if e.a in bidders and e.b in bidders and e.a != e.b]
            by_pair: dict[tuple[str, str], list[Evidence]] = defaultdict(list)
            for e in ev:
                by_pair[e.pair].append(e)
            graph_score = max((score_edge(items).score for items in by_pair.values()), default=0.0)
            hard = any(e.hard for e in ev)
        screen_part = self._screen_part(r)
        risk = 1.0 - (1.0 - graph_score) * (1.0 - screen_part)
        if hard:
            risk = max(risk, p.high)
            level = RiskLevel.HIGH
        else:
            risk = min(risk, p.high - p.soft_margin)
            level = RiskLevel.SUSPICIOUS if risk >= p.suspicious else RiskLevel.NONE
        groups: tuple[SuspectGroup, ...] = ()
        if ev:
            g = graph_from_evidence(ev, self.index.companies)
            groups = tuple(suspect_groups(g, seed=p.seed, min_weight=p.group_min_weight))
        reasons = []
        if ev:
            companies = self.index.companies
            names = {f: companies[f].name for f in tender_bidders if f in companies and companies[f].name}
            names.update(self._tender_labels(ev))
            order = sorted(ev, key=lambda e: (not e.hard, -e.weight, e.kind, e.pair))
            reasons = [evidence_reason(e, names) for e in order]
        if s is not None and r is not None and screen_part > 0:
            reasons.extend(self._screen_reasons(r, screen_part, contributions))
        return TenderRisk(
            tender_id,
            min(max(risk, 0.0), 1.0),
            level,
            hard,
            graph_score,
            r,
            tender_bidders,
            groups,
            tuple(reasons),
            tuple(ev),
        )

    def _screen_reasons(self, r: float, part: float, contributions: Sequence[Contribution]) -> list[Reason]:
        zh, en = _model_texts(f"{r:.2f}")
        out = [Reason("screen.model", False, part, zh, en)]
        raising = [c for c in contributions if c.log_odds > 0][: self.params.screen_reasons]  # as ranked
        for c in raising:
            key, name, grounds = _screen_reason_parts(c.screen)
            out.append(
                Reason(
                    key, False, c.log_odds, f"{name} = {c.value:.4g}，提高了风险评分", c.sentence(), grounds
                )
            )
        return out


@functools.cache
def _model_texts(risk: str) -> tuple[str, str]:
    """The screen-model reason's texts; shared by every tender with the same rounded risk (the batch
    explains hundreds of thousands of tenders)."""
    return (
        f"报价筛查模型风险评分 {risk}（基于报价分布，仅为统计迹象，需结合其他证据）",
        f"price-screen model risk {risk} (from the distribution of the bids; a statistical "
        "indication only, needs corroborating evidence)",
    )


@functools.cache
def _screen_reason_parts(screen: str) -> tuple[str, str, tuple[str, ...]]:
    return f"screen.{screen}", SCREEN_NAMES_ZH.get(screen, screen), _SCREEN_GROUNDS.get(screen, ())


__all__ = [
    "Detector",
    "DetectorParams",
    "Reason",
    "RiskLevel",
    "TenderRisk",
    "evidence_reason",
]
