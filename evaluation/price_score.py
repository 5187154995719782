"""Price scores, always computed from the bids, never typed in.

Arithmetic is exact: prices and rates come in as `Decimal`, every intermediate value is a
`Fraction`, and each score is rounded once, at the end, to two decimals with ROUND_HALF_UP
(`round_half_up`).  Evaluated prices after an SME deduction are exact decimals (a percentage of
a decimal is a decimal), so nothing is rounded there either.

Methods:

- `low_price_first` (低价优先法, 政府采购货物和服务招标投标管理办法 87号令 第五十五条):
  score = lowest valid evaluated price / evaluated price x price points.  Small and micro
  enterprises (中小企业) get `sme_deduction_pct` off their *evaluated* price only; the contract
  price stays the bid price.  Typical settings: 10-20 % for goods and services, 3-5 % for works
  (财库〔2020〕46号 as amended by 财库〔2022〕19号); the tender sets the figure.
- `benchmark_price` / `benchmark_scores` (基准价法, works): base = mean of valid bids x (1 - K),
  optionally after dropping one highest and one lowest bid; deductions per 1 % of deviation.
- `lowest_evaluated_price` (经评审的最低投标价法): compliant bids ranked by bid price plus
  the adjustments the committee adopted (`evaluation.adjustments`); `lowest_evaluated_scores`
  expresses that ranking as a price score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, Inexact, localcontext
from fractions import Fraction
from math import floor

from evaluation.hashrng import HashRng

K_LABEL = b"tenderhall/price/k/v1"


class PriceScoreError(ValueError):
    """Inputs that cannot be scored; the message says which bid or setting is wrong."""


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """Round an exact rational once, half away from zero, to `places` decimals."""
    scaled = abs(value) * 10**places
    units = floor(scaled + Fraction(1, 2))
    sign = "-" if value < 0 and units else ""
    return Decimal(f"{sign}{units}").scaleb(-places).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _exact_decimal(value: Decimal) -> Fraction:
    if not value.is_finite():
        raise PriceScoreError(f"not a finite number: {value}")
    return Fraction(value)


def _percent_off(price: Decimal, pct: Decimal) -> Decimal:
    """price x (100 - pct) / 100, exactly (the Inexact trap proves no digit was lost)."""
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        return price * (100 - pct) / 100


def _check_points(points: Decimal) -> Fraction:
    p = _exact_decimal(points)
    if p <= 0:
        raise PriceScoreError(f"price points must be positive, got {points}")
    return p


@dataclass(frozen=True)
class PriceBid:
    bidder_id: str
    price: Decimal  # the bid price (投标报价); also the contract price
    valid: bool = True  # passed qualification and compliance review
    is_sme: bool = False  # small or micro enterprise entitled to the price deduction


@dataclass(frozen=True)
class PriceScore:
    bidder_id: str
    bid_price: Decimal
    evaluated_price: Decimal  # the price the formula uses (after any SME deduction)
    score: Decimal | None  # None for invalid bids, which are not scored

    @property
    def contract_price(self) -> Decimal:
        return self.bid_price


def _check_bids(bids: Sequence[PriceBid]) -> list[PriceBid]:
    seen: set[str] = set()
    for b in bids:
        if b.bidder_id in seen:
            raise PriceScoreError(f"bidder {b.bidder_id} appears twice")
        seen.add(b.bidder_id)
        if b.valid and _exact_decimal(b.price) <= 0:
            raise PriceScoreError(f"bid of {b.bidder_id} has a non-positive price {b.price}")
    valid = [b for b in bids if b.valid]
    if not valid:
        raise PriceScoreError("no valid bid to score")
    return valid


def low_price_first(
    bids: Sequence[PriceBid], points: Decimal, sme_deduction_pct: Decimal = Decimal(0)
) -> tuple[PriceScore, ...]:
    """低价优先法: base = lowest valid evaluated price; score = base / evaluated price x points."""
    pts = _check_points(points)
    if not 0 <= sme_deduction_pct < 100:
        raise PriceScoreError(f"SME deduction must be within [0, 100) %, got {sme_deduction_pct}")
    _check_bids(bids)
    evaluated = {b.bidder_id: _percent_off(b.price, sme_deduction_pct) if b.is_sme else b.price for b in bids}
    base = min(_exact_decimal(evaluated[b.bidder_id]) for b in bids if b.valid)
    return tuple(
        PriceScore(
            b.bidder_id,
            b.price,
            evaluated[b.bidder_id],
            round_half_up(base / _exact_decimal(evaluated[b.bidder_id]) * pts) if b.valid else None,
        )
        for b in bids
    )


# -- benchmark price (基准价法) ---------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkRule:
    """基准价法 settings, published in the tender documents.

    - `k`: the downward coefficient as a fraction (0.02 means 2 %), drawn publicly at opening.
    - `deduction_above` / `deduction_below`: points off per 1 % that a bid lies above / below the
      base.  Fractions of a percent deduct proportionally (a 0.5 % deviation costs half the rate);
      the score never goes below 0.
    - `drop_extremes_from`: with at least this many valid bids, one highest and one lowest bid
      (one instance each, even if tied) are left out of the mean; None never drops.
    """

    points: Decimal
    k: Decimal
    deduction_above: Decimal
    deduction_below: Decimal
    drop_extremes_from: int | None = 5

    def __post_init__(self) -> None:
        _check_points(self.points)
        if not 0 <= self.k < 1:
            raise PriceScoreError(f"K must be within [0, 1), got {self.k}")
        if self.deduction_above < 0 or self.deduction_below < 0:
            raise PriceScoreError("deduction rates must not be negative")
        if self.drop_extremes_from is not None and self.drop_extremes_from < 3:
            raise PriceScoreError("dropping the highest and lowest bid needs at least 3 bids")


@dataclass(frozen=True)
class BenchmarkResult:
    base_exact: Fraction  # the base the scores use
    base_price: Decimal  # the same, rounded to cents for display only
    counted: tuple[str, ...]  # bidders whose prices entered the mean
    scores: tuple[PriceScore, ...]


def benchmark_price(bids: Sequence[PriceBid], rule: BenchmarkRule) -> tuple[Fraction, tuple[str, ...]]:
    """Exact base price and the bidders that entered the mean."""
    valid = sorted(_check_bids(bids), key=lambda b: (b.price, b.bidder_id))
    if rule.drop_extremes_from is not None and len(valid) >= rule.drop_extremes_from:
        valid = valid[1:-1]
    mean = sum((_exact_decimal(b.price) for b in valid), Fraction(0)) / len(valid)
    return mean * (1 - _exact_decimal(rule.k)), tuple(sorted(b.bidder_id for b in valid))


def benchmark_score(price: Decimal, base: Fraction, rule: BenchmarkRule) -> Decimal:
    deviation_pct = (_exact_decimal(price) - base) / base * 100
    rate = rule.deduction_above if deviation_pct > 0 else rule.deduction_below
    raw = _exact_decimal(rule.points) - abs(deviation_pct) * _exact_decimal(rate)
    return round_half_up(max(raw, Fraction(0)))


def benchmark_scores(bids: Sequence[PriceBid], rule: BenchmarkRule) -> BenchmarkResult:
    base, counted = benchmark_price(bids, rule)
    scores = tuple(
        PriceScore(b.bidder_id, b.price, b.price, benchmark_score(b.price, base, rule) if b.valid else None)
        for b in bids
    )
    return BenchmarkResult(base, round_half_up(base), counted, scores)


def draw_k(k_range: tuple[Decimal, Decimal], step: Decimal, seed_bytes: bytes) -> Decimal:
    """K from the grid lo, lo + step, ... <= hi, uniformly, deterministic in a public seed.

    The index is `HashRng(seed_bytes, K_LABEL).below(grid size)` (HMAC-SHA256 counter mode with
    rejection sampling, see `evaluation.hashrng`), so anyone can recompute K from the seed.
    """
    lo, hi = k_range
    if step <= 0 or hi < lo:
        raise PriceScoreError(f"K range needs lo <= hi and a positive step, got {k_range} step {step}")
    if len(seed_bytes) < 16:
        raise PriceScoreError("the public seed must have at least 16 bytes")
    count = floor((_exact_decimal(hi) - _exact_decimal(lo)) / _exact_decimal(step)) + 1
    index = HashRng(seed_bytes, K_LABEL).below(count)
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        return lo + step * index


# -- lowest evaluated price (经评审的最低投标价法) ----------------------------------------------------


@dataclass(frozen=True)
class Adjustment:
    """A price adjustment set by the committee under the tender's published criteria (e.g.
    deviations, missing items, payment terms); positive makes the bid dearer."""

    reason: str
    amount: Decimal


@dataclass(frozen=True)
class EvaluatedBid:
    bidder_id: str
    price: Decimal
    adjustments: tuple[Adjustment, ...] = ()
    compliant: bool = True  # substantially responsive to the tender documents

    @property
    def evaluated_price(self) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 60
            ctx.traps[Inexact] = True
            return self.price + sum((a.amount for a in self.adjustments), Decimal(0))


@dataclass(frozen=True)
class EvaluatedRank:
    bidder_id: str
    bid_price: Decimal
    evaluated_price: Decimal
    rank: int  # 1 = lowest evaluated price; equal prices share a rank (1, 1, 3)


def lowest_evaluated_price(bids: Sequence[EvaluatedBid]) -> tuple[EvaluatedRank, ...]:
    """Compliant bids in ascending evaluated price; ties share a rank and are listed by bidder id
    (the tie itself is broken by `evaluation.ranking`)."""
    ids = [b.bidder_id for b in bids]
    if len(set(ids)) != len(ids):
        raise PriceScoreError("a bidder appears twice")
    ordered = sorted((b for b in bids if b.compliant), key=lambda b: (b.evaluated_price, b.bidder_id))
    out: list[EvaluatedRank] = []
    for k, b in enumerate(ordered):
        ev = b.evaluated_price
        if ev <= 0:
            raise PriceScoreError(f"bid of {b.bidder_id} has a non-positive evaluated price {ev}")
        rank = out[-1].rank if out and out[-1].evaluated_price == ev else k + 1
        out.append(EvaluatedRank(b.bidder_id, b.price, ev, rank))
    return tuple(out)


def lowest_evaluated_scores(bids: Sequence[EvaluatedBid], points: Decimal) -> tuple[PriceScore, ...]:
    """经评审的最低投标价法 as a price score, so that it ranks like the other methods: base =
    lowest evaluated price among compliant bids; score = base / evaluated price x points.  A
    higher score is always a lower evaluated price; equal rounded scores are ordered by the exact
    evaluated price (`evaluation.ranking`'s price tie-break)."""
    pts = _check_points(points)
    ranked = {r.bidder_id: r for r in lowest_evaluated_price(bids)}
    if not ranked:
        raise PriceScoreError("no valid bid to score")
    base = min(_exact_decimal(r.evaluated_price) for r in ranked.values())
    return tuple(
        PriceScore(
            b.bidder_id,
            b.price,
            b.evaluated_price,
            round_half_up(base / _exact_decimal(b.evaluated_price) * pts) if b.bidder_id in ranked else None,
        )
        for b in bids
    )
