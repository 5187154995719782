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

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from collusion.evidence import SPECS, Evidence, EvidenceKind, score_edge
from collusion.graph import GraphIndex, GraphParams, SuspectGroup, graph_from_evidence, suspect_groups
from collusion.records import BidRecord, CompanyRecord, TenderRecord
from collusion.screen_model import ScreenModel, feature_matrix, load_model
from collusion.screens import TenderScreens, screens

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


# Screen names for explanations (the screen module documents them in English only).
_SCREEN_ZH = {
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
}
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


def evidence_reason(e: Evidence) -> Reason:
    return Reason(
        f"evidence.{e.kind.value}",
        e.hard,
        e.weight,
        e.explain("zh"),
        e.explain("en"),
        SPECS[e.kind].grounds,
        tuple(sorted({e.a, e.b})),
        e,
    )


@dataclass(frozen=True, slots=True)
class _TenderBids:
    prices: tuple[float, ...]
    winner: int | None
    bidders: tuple[str, ...]


class Detector:
    """A region's history (GraphIndex) plus each tender's prices, scored with the screen model."""

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
        self._bids: dict[str, _TenderBids] = {}
        self._firm_tenders: dict[str, list[str]] = defaultdict(list)

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
        bid_list = list(bids)
        index = GraphIndex.from_records(companies, bid_list, tenders, graph_params)
        det = cls(params=params, model=model, index=index)
        by_tender: dict[str, list[BidRecord]] = defaultdict(list)
        for b in bid_list:
            by_tender[b.tender_id].append(b)
        for tid, tb in by_tender.items():
            det._note_prices(tid, tb)
        return det

    # ---- ingestion ---------------------------------------------------------------------------
    def add_company(self, company: CompanyRecord) -> None:
        self.index.add_company(company)

    def add_tender(self, tender: TenderRecord | str, bids: Sequence[BidRecord]) -> None:
        tid = tender if isinstance(tender, str) else tender.tender_id
        if tid in self._bids:
            raise ValueError(f"tender {tid} is already in the history")
        self.index.add_tender(tender, bids)
        self._note_prices(tid, bids)

    def _note_prices(self, tid: str, bids: Sequence[BidRecord]) -> None:
        winners = [i for i, b in enumerate(bids) if b.is_winner]
        bidders = tuple(dict.fromkeys(b.bidder_id for b in bids))
        self._bids[tid] = _TenderBids(
            tuple(b.price for b in bids), winners[0] if len(winners) == 1 else None, bidders
        )
        for f in bidders:
            self._firm_tenders[f].append(tid)

    def __contains__(self, tender_id: object) -> bool:
        return tender_id in self._bids

    @property
    def tender_ids(self) -> list[str]:
        return list(self._bids)

    # ---- scoring -----------------------------------------------------------------------------
    def check(self, tender_id: str) -> TenderRisk:
        """Incremental run: one (already added) tender against the whole history."""
        if tender_id not in self._bids:
            raise KeyError(tender_id)
        ev = self.index.check_tender(tender_id)
        tb = self._bids[tender_id]
        s = self._screens(tb)
        r = self.model.risk(s) if s is not None else None
        return self._result(tender_id, tb, ev, s, r)

    def check_new(self, tender: TenderRecord | str, bids: Sequence[BidRecord]) -> TenderRisk:
        self.add_tender(tender, bids)
        return self.check(tender if isinstance(tender, str) else tender.tender_id)

    def batch(
        self, tender_ids: Iterable[str] | None = None, progress: Callable[[int], None] | None = None
    ) -> list[TenderRisk]:
        """Region-wide run: all evidence once, then each tender gets the evidence between its bidders."""
        wanted = list(self._bids) if tender_ids is None else [t for t in tender_ids if t in self._bids]
        per_tender = self._evidence_by_tender(self.index.evidence(), set(wanted))
        out: list[TenderRisk] = []
        chunk = 4096  # screens are scored a chunk at a time: the model evaluates a matrix per call
        for lo in range(0, len(wanted), chunk):
            ids = wanted[lo : lo + chunk]
            scr = [self._screens(self._bids[t]) for t in ids]
            risks = self._risks(scr)
            for tid, s, r in zip(ids, scr, risks, strict=True):
                out.append(self._result(tid, self._bids[tid], per_tender.get(tid, []), s, r))
            if progress is not None:
                progress(len(ids))
        return out

    def _risks(self, items: Sequence[TenderScreens | None]) -> list[float | None]:
        present = [s for s in items if s is not None]
        if not present:
            return [None] * len(items)
        values = iter(self.model.predict_proba(feature_matrix(present)).tolist())
        return [next(values) if s is not None else None for s in items]

    def _evidence_by_tender(
        self, evidence: Iterable[Evidence], wanted: set[str]
    ) -> dict[str, list[Evidence]]:
        out: dict[str, list[Evidence]] = defaultdict(list)
        joint_cache: dict[tuple[str, str], list[str]] = {}
        for e in evidence:
            if e.a == e.b:
                continue
            pair = e.pair
            joint = joint_cache.get(pair)
            if joint is None:
                ta = self._firm_tenders.get(pair[0], [])
                tb = set(self._firm_tenders.get(pair[1], []))
                joint = joint_cache[pair] = [t for t in ta if t in tb]
            if e.kind in _PER_TENDER or dict(e.detail).get("firms") is not None:
                seen = set(e.tenders)
                targets = [t for t in joint if t in seen]  # infrastructure / per-tender facts
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

    def _result(
        self,
        tender_id: str,
        tb: _TenderBids,
        evidence: list[Evidence],
        s: TenderScreens | None,
        r: float | None,
    ) -> TenderRisk:
        p = self.params
        bidders = set(tb.bidders)
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
        reasons = [
            evidence_reason(e) for e in sorted(ev, key=lambda e: (not e.hard, -e.weight, e.kind, e.pair))
        ]
        if s is not None and r is not None and screen_part > 0:
            reasons.extend(self._screen_reasons(s, r, screen_part))
        return TenderRisk(
            tender_id,
            min(max(risk, 0.0), 1.0),
            level,
            hard,
            graph_score,
            r,
            tb.bidders,
            groups,
            tuple(reasons),
            tuple(ev),
        )

    def _screen_reasons(self, s: TenderScreens, r: float, part: float) -> list[Reason]:
        out = [
            Reason(
                "screen.model",
                False,
                part,
                f"报价筛查模型风险评分 {r:.2f}（基于报价分布，仅为统计迹象，需结合其他证据）",
                f"price-screen model risk {r:.2f} (from the distribution of the bids; a statistical "
                "indication only, needs corroborating evidence)",
            )
        ]
        raising = [c for c in self.model.contributions(s) if c.log_odds > 0][: self.params.screen_reasons]
        for c in raising:
            zh = _SCREEN_ZH.get(c.screen, c.screen)
            out.append(
                Reason(
                    f"screen.{c.screen}",
                    False,
                    c.log_odds,
                    f"{zh} = {c.value:.4g}，提高了风险评分",
                    c.sentence(),
                    _SCREEN_GROUNDS.get(c.screen, ()),
                )
            )
        return out


__all__ = [
    "Detector",
    "DetectorParams",
    "Reason",
    "RiskLevel",
    "TenderRisk",
    "evidence_reason",
]
