"""Totals, ranking with tie-breaks, recommended candidates, and committee scoring statistics.

Item score of a bid = mean of the committee's scores for that item (optionally dropping one highest
and one lowest, 去掉一个最高分和一个最低分); price items take the computed price score instead of
expert scores.  Total = sum of weight x item score.  All exact (`Fraction`); totals and technical
subtotals are rounded once, ROUND_HALF_UP to 2 decimals, and ties are judged on those published
(rounded) figures.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from statistics import median

from evaluation.price_score import round_half_up

LOT_TAG = b"tenderhall/ranking/lot/v1\x00"


class RankingError(ValueError):
    """Incomplete or inconsistent scores, or a tie that the policy cannot break."""


class ItemKind(StrEnum):
    TECHNICAL = "technical"
    COMMERCIAL = "commercial"
    PRICE = "price"  # computed by `evaluation.price_score`, never scored by experts


@dataclass(frozen=True)
class RubricItem:
    item_id: str
    kind: ItemKind
    max_points: Decimal
    weight: Decimal = Decimal(1)


@dataclass(frozen=True)
class ExpertScore:
    expert_id: str
    bidder_id: str
    item_id: str
    score: Decimal


@dataclass(frozen=True)
class BidInfo:
    bidder_id: str
    qualified: bool  # failed qualification or compliance review: not ranked
    evaluated_price: Decimal


class TieBreak(StrEnum):
    TECHNICAL = "technical_desc"  # higher technical subtotal first
    PRICE = "price_asc"  # lower evaluated price first
    LOT = "lot"  # SHA-256(LOT_TAG || public seed || bidder id), ascending


@dataclass(frozen=True)
class RankingPolicy:
    tie_breaks: tuple[TieBreak, ...] = (TieBreak.TECHNICAL, TieBreak.PRICE, TieBreak.LOT)
    max_candidates: int = 3  # 实施条例 第五十三条: at most three, ranked
    trim_extremes: bool = False  # drop one highest and one lowest expert score per item (needs >= 3)

    def __post_init__(self) -> None:
        if not 1 <= self.max_candidates <= 3:
            raise RankingError(f"recommended candidates must be 1 to 3, got {self.max_candidates}")
        if len(set(self.tie_breaks)) != len(self.tie_breaks):
            raise RankingError("a tie-break rule is listed twice")


@dataclass(frozen=True)
class RankedBid:
    bidder_id: str
    rank: int
    total: Decimal
    technical: Decimal
    price_score: Decimal
    evaluated_price: Decimal
    decided_by: str | None  # what placed it below the previous bid: "total" or a TieBreak value


@dataclass(frozen=True)
class RankingResult:
    ranked: tuple[RankedBid, ...]
    recommended: tuple[str, ...]
    excluded: tuple[str, ...]  # failed qualification, in input order


def _item_scores(
    scores: Sequence[ExpertScore], rubric: Sequence[RubricItem], bidders: Sequence[str], trim: bool
) -> dict[tuple[str, str], Fraction]:
    items = {i.item_id: i for i in rubric}
    grouped: dict[tuple[str, str], list[Fraction]] = defaultdict(list)
    experts = sorted({s.expert_id for s in scores})
    seen: set[tuple[str, str, str]] = set()
    for s in scores:
        item = items.get(s.item_id)
        if item is None or item.kind is ItemKind.PRICE:
            raise RankingError(f"{s.expert_id} scored {s.item_id!r}, which is not an expert-scored item")
        if not 0 <= s.score <= item.max_points:
            raise RankingError(
                f"{s.expert_id}: score {s.score} for {s.bidder_id}/{s.item_id} outside [0, {item.max_points}]"
            )
        key = (s.expert_id, s.bidder_id, s.item_id)
        if key in seen:
            raise RankingError(f"{s.expert_id} scored {s.bidder_id}/{s.item_id} twice")
        seen.add(key)
        grouped[(s.bidder_id, s.item_id)].append(Fraction(s.score))
    missing = [
        f"{e}:{b}/{i.item_id}"
        for b in bidders
        for i in rubric
        if i.kind is not ItemKind.PRICE
        for e in experts
        if (e, b, i.item_id) not in seen
    ]
    if missing:
        raise RankingError(
            f"missing expert scores: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}"
        )
    out = {}
    for bid_item, values in grouped.items():
        values.sort()
        if trim:
            if len(values) < 3:
                raise RankingError("dropping the highest and lowest score needs at least 3 experts")
            values = values[1:-1]
        out[bid_item] = sum(values, Fraction(0)) / len(values)
    return out


def lot_key(seed: bytes, bidder_id: str) -> bytes:
    return hashlib.sha256(LOT_TAG + seed + bidder_id.encode("utf-8")).digest()


def rank_bids(
    bids: Sequence[BidInfo],
    rubric: Sequence[RubricItem],
    scores: Sequence[ExpertScore],
    price_scores: Mapping[str, Decimal],
    policy: RankingPolicy = RankingPolicy(),
    lot_seed: bytes | None = None,
) -> RankingResult:
    """Rank qualified bids by total, then the policy's tie-breaks; recommend the first candidates."""
    qualified = [b for b in bids if b.qualified]
    ids = [b.bidder_id for b in qualified]
    scored = {s.bidder_id for s in scores}
    if scored - {b.bidder_id for b in bids}:
        raise RankingError(f"scores for unknown bidders: {sorted(scored - {b.bidder_id for b in bids})}")
    per_item = _item_scores([s for s in scores if s.bidder_id in set(ids)], rubric, ids, policy.trim_extremes)
    has_price = any(i.kind is ItemKind.PRICE for i in rubric)
    rows = []
    for b in qualified:
        total = technical = Fraction(0)
        price = Fraction(0)
        for item in rubric:
            if item.kind is ItemKind.PRICE:
                if b.bidder_id not in price_scores:
                    raise RankingError(f"no computed price score for {b.bidder_id}")
                value = Fraction(price_scores[b.bidder_id])
                price += value * Fraction(item.weight)
            else:
                value = per_item[(b.bidder_id, item.item_id)]
            total += value * Fraction(item.weight)
            if item.kind is ItemKind.TECHNICAL:
                technical += value * Fraction(item.weight)
        rows.append(
            (
                b,
                round_half_up(total),
                round_half_up(technical),
                round_half_up(price) if has_price else Decimal("0.00"),
            )
        )

    def criteria(row: tuple[BidInfo, Decimal, Decimal, Decimal]) -> list[tuple[str, object]]:
        b, total, technical, _ = row
        keys: list[tuple[str, object]] = [("total", -total)]
        for tb in policy.tie_breaks:
            if tb is TieBreak.TECHNICAL:
                keys.append((tb.value, -technical))
            elif tb is TieBreak.PRICE:
                keys.append((tb.value, b.evaluated_price))
            else:
                keys.append((tb.value, lot_key(lot_seed, b.bidder_id) if lot_seed is not None else b""))
        return keys

    keyed = sorted(((tuple(v for _, v in criteria(r)), r) for r in rows), key=lambda kr: kr[0])
    names = ["total", *(tb.value for tb in policy.tie_breaks)]
    ranked: list[RankedBid] = []
    for k, (key, (b, row_total, row_technical, row_price)) in enumerate(keyed):
        decided = None
        if k:
            prev = keyed[k - 1][0]
            level = next((j for j in range(len(key)) if key[j] != prev[j]), None)
            if level is None:
                tied = [keyed[k - 1][1][0].bidder_id, b.bidder_id]
                need = "a lot seed" if TieBreak.LOT in policy.tie_breaks else "a further tie-break rule"
                raise RankingError(f"bids {tied} remain tied after {names}; {need} is required")
            decided = names[level]
        ranked.append(
            RankedBid(b.bidder_id, k + 1, row_total, row_technical, row_price, b.evaluated_price, decided)
        )
    return RankingResult(
        ranked=tuple(ranked),
        recommended=tuple(r.bidder_id for r in ranked[: policy.max_candidates]),
        excluded=tuple(b.bidder_id for b in bids if not b.qualified),
    )


# -- committee statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    expert_id: str
    bidder_id: str
    item_id: str
    score: Decimal
    median: Fraction  # committee median for this bid and item
    deviation: Fraction  # score - median


def deviations(scores: Sequence[ExpertScore]) -> tuple[Deviation, ...]:
    """Each expert score against the committee median of the same bid and item."""
    grouped: dict[tuple[str, str], list[Fraction]] = defaultdict(list)
    for s in scores:
        grouped[(s.bidder_id, s.item_id)].append(Fraction(s.score))
    medians = {k: Fraction(median(v)) for k, v in grouped.items()}
    return tuple(
        Deviation(s.expert_id, s.bidder_id, s.item_id, s.score, m, Fraction(s.score) - m)
        for s in scores
        for m in [medians[(s.bidder_id, s.item_id)]]
    )


def expert_deviation_summary(scores: Sequence[ExpertScore]) -> dict[str, Decimal]:
    """Mean absolute deviation from the item median per expert (a herding / outlier indicator)."""
    per: dict[str, list[Fraction]] = defaultdict(list)
    for d in deviations(scores):
        per[d.expert_id].append(abs(d.deviation))
    return {e: round_half_up(sum(v, Fraction(0)) / len(v)) for e, v in sorted(per.items())}


def needs_reason(
    scores: Sequence[ExpertScore], rubric: Sequence[RubricItem], threshold_pct: Decimal
) -> tuple[tuple[str, str, str], ...]:
    """(expert, bidder, item) triples whose score lies more than `threshold_pct` % of the item's
    range (0..max points) away from the committee median; such scores must carry a written reason.
    Exactly at the threshold does not need one."""
    if not 0 <= threshold_pct <= 100:
        raise RankingError(f"threshold must be within [0, 100] %, got {threshold_pct}")
    span = {i.item_id: Fraction(i.max_points) * Fraction(threshold_pct) / 100 for i in rubric}
    return tuple(
        (d.expert_id, d.bidder_id, d.item_id)
        for d in deviations(scores)
        if abs(d.deviation) > span[d.item_id]
    )


def mid_ranks(values: Mapping[str, Fraction | Decimal]) -> dict[str, Fraction]:
    """Rank 1 = highest value; tied values share the mean of the ranks they span."""
    ordered = sorted(values.items(), key=lambda kv: -kv[1])
    ranks: dict[str, Fraction] = {}
    k = 0
    while k < len(ordered):
        j = k
        while j + 1 < len(ordered) and ordered[j + 1][1] == ordered[k][1]:
            j += 1
        for key, _ in ordered[k : j + 1]:
            ranks[key] = Fraction(k + 1 + j + 1, 2)
        k = j + 1
    return ranks


def kendalls_w(ratings: Mapping[str, Mapping[str, Fraction | Decimal]]) -> Fraction | None:
    """Kendall's coefficient of concordance with the tie correction.

    `ratings[rater][object]` is a score (higher is better).  With m raters, n objects, rank sums
    R_i and, per rater, T = sum over tie groups of (t^3 - t):
    W = 12 * sum (R_i - mean R)^2 / (m^2 (n^3 - n) - m * sum T).
    None when undefined (fewer than two raters or objects, or every rater ties everything).
    """
    raters = sorted(ratings)
    if len(raters) < 2:
        return None
    objects = sorted(ratings[raters[0]])
    if any(sorted(ratings[r]) != objects for r in raters):
        raise RankingError("every rater must rate the same objects")
    m, n = len(raters), len(objects)
    if n < 2:
        return None
    sums = dict.fromkeys(objects, Fraction(0))
    ties = 0
    for r in raters:
        for obj, rank in mid_ranks(ratings[r]).items():
            sums[obj] += rank
        groups: dict[Fraction | Decimal, int] = defaultdict(int)
        for v in ratings[r].values():
            groups[v] += 1
        ties += sum(t**3 - t for t in groups.values())
    mean = Fraction(m * (n + 1), 2)
    s = sum(((v - mean) * (v - mean) for v in sums.values()), Fraction(0))
    denominator = m * m * (n**3 - n) - m * ties
    return None if denominator == 0 else 12 * s / denominator


def expert_totals(
    scores: Sequence[ExpertScore], rubric: Sequence[RubricItem]
) -> dict[str, dict[str, Fraction]]:
    """Weighted total per expert and bidder over the expert-scored items (input to `kendalls_w`)."""
    weight = {i.item_id: Fraction(i.weight) for i in rubric}
    out: dict[str, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for s in scores:
        out[s.expert_id][s.bidder_id] += Fraction(s.score) * weight[s.item_id]
    return {e: dict(v) for e, v in out.items()}
