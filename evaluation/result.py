"""From revealed score sheets to the committee's result (pure: no web, no database).

- score sheets: canonical JSON, committed by SHA-256 before anyone reveals (`sheet_digest`);
- `check_sheet`: a sheet scores exactly every qualified bid on every expert-scored rubric item;
- `price_scores`: the tender's price method over the snapshot prices (never typed by anyone);
- `evaluate`: totals, ranking with tie-breaks, at most three candidates, committee statistics;
- `price_rejections`: bids the committee must reject on their price, whatever the votes.

Members appear only by seat label ("M1", "M2", ...): the result names no expert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bidding.hall import above_ceiling
from evaluation import price_score as ps
from evaluation import ranking as rk
from evaluation.hashrng import canonical_json, sha256_hex

SHEET_FORMAT = "tenderhall.score-sheet.v1"


# Catalogue keys: the ground of a rejection and the article it rests on (招标投标法实施条例).
ABOVE_CEILING = "evaluation.rejected.above_ceiling"
ARTICLE_51_5 = "law.bidding_regulations.art51.5"


def price_rejections(prices: Mapping[str, Decimal], ceiling_fen: int) -> dict[str, dict[str, str]]:
    """Bids to reject for their price, by bidder: 实施条例 第五十一条 第五项 (a price above the ceiling
    set in the tender documents).  The opening record flags the same bids (``bidding.hall``)."""
    ceiling = f"{Decimal(ceiling_fen) / 100:.2f}"
    return {
        bidder: {"ground": ABOVE_CEILING, "article": ARTICLE_51_5, "price": str(price), "ceiling": ceiling}
        for bidder, price in sorted(prices.items())
        if above_ceiling(price, ceiling_fen)
    }


class SheetError(ValueError):
    """A sheet that cannot be accepted; ``key`` names the catalogue message."""

    def __init__(self, key: str, detail: str = "") -> None:
        self.key = key
        self.detail = detail
        super().__init__(f"{key}: {detail}")


def sheet_digest(sheet: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(dict(sheet)))


def rubric_items(rubric: Mapping[str, Any]) -> list[rk.RubricItem]:
    """The tender rubric as ranking items; points already carry the weight (they add up to 100)."""
    return [
        rk.RubricItem(i["code"], rk.ItemKind(i["kind"]), Decimal(i["max_points"]))
        for i in rubric.get("items", [])
    ]


def check_sheet(
    sheet: Mapping[str, Any],
    tender_id: str,
    member: str,
    bidders: Sequence[str],
    rubric: Sequence[rk.RubricItem],
) -> list[rk.ExpertScore]:
    if (
        sheet.get("format") != SHEET_FORMAT
        or sheet.get("tender") != tender_id
        or sheet.get("member") != member
    ):
        raise SheetError("scoring.sheet_header")
    salt = sheet.get("salt")
    if not isinstance(salt, str) or len(salt) < 32:
        raise SheetError("scoring.sheet_salt")
    items = {i.item_id: i for i in rubric if i.kind is not rk.ItemKind.PRICE}
    seen: dict[tuple[str, str], rk.ExpertScore] = {}
    entries = sheet.get("scores")
    if not isinstance(entries, list):
        raise SheetError("scoring.sheet_incomplete")
    for e in entries:
        if not isinstance(e, dict):
            raise SheetError("scoring.sheet_incomplete")
        bidder, item, raw = e.get("bidder"), e.get("item"), e.get("score")
        if not isinstance(bidder, str) or not isinstance(item, str) or not isinstance(raw, str):
            raise SheetError("scoring.sheet_entry", f"{bidder}/{item}")
        if bidder not in bidders or item not in items or (bidder, item) in seen:
            raise SheetError("scoring.sheet_entry", f"{bidder}/{item}")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise SheetError("scoring.sheet_entry", f"{bidder}/{item}") from None
        if not value.is_finite() or not 0 <= value <= items[item].max_points:
            raise SheetError("scoring.score_range", f"{bidder}/{item}")
        seen[(bidder, item)] = rk.ExpertScore(member, bidder, item, value)
    if len(seen) != len(bidders) * len(items):
        raise SheetError("scoring.sheet_incomplete")
    return list(seen.values())


@dataclass(frozen=True)
class BidRow:
    bidder: str
    price: Decimal
    is_sme: bool
    qualified: bool
    adjustments: tuple[ps.Adjustment, ...] = ()  # adopted by the committee (lowest evaluated price)


def price_scores(
    method: str, bids: Sequence[BidRow], points: Decimal, plan: Mapping[str, Any]
) -> dict[str, ps.PriceScore]:
    pbids = [ps.PriceBid(b.bidder, b.price, b.qualified, b.is_sme) for b in bids]
    if method == "benchmark_price":
        bench = plan.get("benchmark") or {}
        rule = ps.BenchmarkRule(
            points=points,
            k=Decimal(str(bench.get("k", "0"))),
            deduction_above=Decimal(str(bench.get("deduction_above", "1"))),
            deduction_below=Decimal(str(bench.get("deduction_below", "0.5"))),
            drop_extremes_from=bench.get("drop_extremes_from", 5),
        )
        return {s.bidder_id: s for s in ps.benchmark_scores(pbids, rule).scores}
    if method == "lowest_price":
        sme = Decimal(str(plan.get("sme_deduction_pct", "0")))
        return {s.bidder_id: s for s in ps.low_price_first(pbids, points, sme)}
    if method == "lowest_evaluated_price":
        ebids = [ps.EvaluatedBid(b.bidder, b.price, b.adjustments, b.qualified) for b in bids]
        return {s.bidder_id: s for s in ps.lowest_evaluated_scores(ebids, points)}
    raise ps.PriceScoreError(f"unknown price method {method!r}")


def evaluate(
    rubric: Mapping[str, Any],
    plan: Mapping[str, Any],
    bids: Sequence[BidRow],
    scores: Sequence[rk.ExpertScore],
    lot_seed: bytes,
    max_candidates: int = 3,
) -> dict[str, Any]:
    """The result as published in the committee report (JSON-ready, decimals as strings)."""
    items = rubric_items(rubric)
    price_item = next(i for i in items if i.kind is rk.ItemKind.PRICE)
    computed = price_scores(str(rubric.get("price_method")), bids, price_item.max_points, plan)
    adjusted = {b.bidder: b.adjustments for b in bids}
    valid_scores = {b: s.score for b, s in computed.items() if s.score is not None}
    info = [rk.BidInfo(b.bidder, b.qualified, computed[b.bidder].evaluated_price) for b in bids]
    policy = rk.RankingPolicy(max_candidates=max_candidates, trim_extremes=bool(plan.get("trim_extremes")))
    result = rk.rank_bids(info, items, scores, valid_scores, policy, lot_seed)
    totals = rk.expert_totals(scores, items)
    w = rk.kendalls_w(totals) if totals else None
    return {
        "format": "tenderhall.evaluation-result.v1",
        "price_method": rubric.get("price_method"),
        "price_scores": {
            b: {
                "bid_price": str(s.bid_price),
                "evaluated_price": str(s.evaluated_price),
                "score": None if s.score is None else str(s.score),
                "adjustments": [{"reason": a.reason, "amount": str(a.amount)} for a in adjusted.get(b, ())],
            }
            for b, s in sorted(computed.items())
        },
        "ranking": [
            {
                "bidder": r.bidder_id,
                "rank": r.rank,
                "total": str(r.total),
                "technical": str(r.technical),
                "price_score": str(r.price_score),
                "evaluated_price": str(r.evaluated_price),
                "decided_by": r.decided_by,
            }
            for r in result.ranked
        ],
        "candidates": list(result.recommended),
        "excluded": list(result.excluded),
        "scores": [
            {"member": s.expert_id, "bidder": s.bidder_id, "item": s.item_id, "score": str(s.score)}
            for s in sorted(scores, key=lambda s: (s.expert_id, s.bidder_id, s.item_id))
        ],
        "kendalls_w": None if w is None else str(ps.round_half_up(w, 4)),
        "deviation": {m: str(v) for m, v in rk.expert_deviation_summary(scores).items()},
    }


def outliers(
    scores: Sequence[rk.ExpertScore], rubric: Mapping[str, Any], threshold_pct: Decimal
) -> list[tuple[str, str, str]]:
    return list(rk.needs_reason(scores, rubric_items(rubric), threshold_pct))
