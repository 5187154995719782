from __future__ import annotations

import itertools
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.price_score import (
    Adjustment,
    BenchmarkRule,
    EvaluatedBid,
    PriceBid,
    PriceScoreError,
    benchmark_price,
    benchmark_scores,
    draw_k,
    low_price_first,
    lowest_evaluated_price,
    lowest_evaluated_scores,
    round_half_up,
)


def scores(result: tuple[object, ...]) -> dict[str, D | None]:
    return {s.bidder_id: s.score for s in result}  # type: ignore[attr-defined]


def test_round_half_up_is_exact_and_half_up() -> None:
    assert round_half_up(Fraction(1, 8)) == D("0.13")  # 0.125: banker's rounding would give 0.12
    assert round_half_up(Fraction(1, 3)) == D("0.33")
    assert round_half_up(Fraction(-1, 8)) == D("-0.13")
    assert str(round_half_up(Fraction(30))) == "30.00"


# -- 低价优先法 --------------------------------------------------------------------------------------


def test_low_price_first_plain() -> None:
    # Price points 30.  Lowest valid price A = 100,000 is the base.
    #   A: 100000 / 100000 x 30 = 30.00
    #   B: 100000 / 120000 x 30 = 25.00
    #   C: 100000 / 150000 x 30 = 20.00
    #   D: invalid (failed qualification) at 50,000: not scored and not the base.
    bids = [
        PriceBid("A", D("100000")),
        PriceBid("B", D("120000")),
        PriceBid("C", D("150000")),
        PriceBid("D", D("50000"), valid=False),
    ]
    assert scores(low_price_first(bids, D(30))) == {
        "A": D("30.00"),
        "B": D("25.00"),
        "C": D("20.00"),
        "D": None,
    }


def test_low_price_first_with_sme_deduction() -> None:
    # 10 % SME deduction on the evaluated price only.
    #   A (not SME) 100,000 -> evaluated 100,000
    #   B (SME)     105,000 -> evaluated 105,000 x 0.90 = 94,500   <- base
    #   C (SME)     120,000 -> evaluated 120,000 x 0.90 = 108,000
    #   A: 94500 / 100000 x 30 = 28.35
    #   B: 94500 / 94500  x 30 = 30.00
    #   C: 94500 / 108000 x 30 = 26.25
    # B's contract price stays 105,000.
    bids = [
        PriceBid("A", D("100000")),
        PriceBid("B", D("105000"), is_sme=True),
        PriceBid("C", D("120000"), is_sme=True),
    ]
    result = low_price_first(bids, D(30), sme_deduction_pct=D(10))
    assert scores(result) == {"A": D("28.35"), "B": D("30.00"), "C": D("26.25")}
    b = result[1]
    assert (b.evaluated_price, b.contract_price) == (D("94500.00"), D("105000"))


def test_low_price_first_rounds_once_at_the_end() -> None:
    # Points 1, base 1, price 8: 1/8 x 1 = 0.125 -> 0.13 (half up);
    # price 3: 1/3 = 0.333.. -> 0.33.
    bids = [PriceBid("A", D(1)), PriceBid("B", D(8)), PriceBid("C", D(3))]
    assert scores(low_price_first(bids, D(1))) == {"A": D("1.00"), "B": D("0.13"), "C": D("0.33")}


def test_low_price_first_errors() -> None:
    with pytest.raises(PriceScoreError, match="no valid bid"):
        low_price_first([PriceBid("A", D(1), valid=False)], D(30))
    with pytest.raises(PriceScoreError, match="SME deduction"):
        low_price_first([PriceBid("A", D(1))], D(30), D(100))
    with pytest.raises(PriceScoreError, match="non-positive"):
        low_price_first([PriceBid("A", D(0))], D(30))
    with pytest.raises(PriceScoreError, match="twice"):
        low_price_first([PriceBid("A", D(1)), PriceBid("A", D(2))], D(30))


prices = st.decimals(min_value=D("0.01"), max_value=D("1e9"), places=2)
bid_lists = st.lists(st.tuples(prices, st.booleans(), st.booleans()), min_size=1, max_size=8)


@given(
    bid_lists,
    st.sampled_from([D(0), D(3), D(10), D("17.5"), D(20)]),
    st.sampled_from([D(10), D(30), D("60.5")]),
)
def test_low_price_first_properties(raw: list[tuple[D, bool, bool]], pct: D, points: D) -> None:
    bids = [PriceBid(f"B{k}", p, valid=v or k == 0, is_sme=sme) for k, (p, v, sme) in enumerate(raw)]
    result = low_price_first(bids, points, pct)
    valid = [r for r, b in zip(result, bids, strict=True) if b.valid]
    for r in valid:
        assert r.score is not None
        assert D(0) <= r.score <= points
        assert r.contract_price == bids[int(r.bidder_id[1:])].price
    best = min(r.evaluated_price for r in valid)
    assert all(r.score == points for r in valid if r.evaluated_price == best)
    for r in valid:  # a lower evaluated price never scores lower
        for q in valid:
            if r.evaluated_price <= q.evaluated_price:
                assert r.score >= q.score  # type: ignore[operator]


@given(bid_lists, st.integers(0, 7))
def test_sme_status_never_lowers_a_score(raw: list[tuple[D, bool, bool]], who: int) -> None:
    bids = [PriceBid(f"B{k}", p, valid=True, is_sme=False) for k, (p, _, _) in enumerate(raw)]
    k = who % len(bids)
    with_sme = [PriceBid(b.bidder_id, b.price, True, is_sme=(i == k)) for i, b in enumerate(bids)]
    before = low_price_first(bids, D(30), D(10))[k].score
    after = low_price_first(with_sme, D(30), D(10))[k].score
    assert after >= before  # type: ignore[operator]


# -- 基准价法 ---------------------------------------------------------------------------------------

RULE_1 = BenchmarkRule(
    points=D(60), k=D("0.02"), deduction_above=D(2), deduction_below=D(1), drop_extremes_from=5
)


def test_benchmark_four_bids_no_drop() -> None:
    # 4 valid bids (< 5): no dropping.  Mean = (1,000,000 + 1,100,000 + 900,000 + 1,000,000) / 4
    # = 1,000,000; K = 2 % -> base = 980,000.  Above: 2 points per 1 %; below: 1 point per 1 %.
    #   A 1,000,000: +20,000 / 980,000 = +100/49 % = 2.0408..%  -> 60 - 200/49 = 55.918.. -> 55.92
    #   B 1,100,000: +120,000 / 980,000 = +600/49 % = 12.244..% -> 60 - 1200/49 = 35.510.. -> 35.51
    #   C   900,000: -80,000 / 980,000 = -400/49 % = 8.163..%   -> 60 - 400/49 = 51.836.. -> 51.84
    #   D = A
    bids = [
        PriceBid("A", D(1_000_000)),
        PriceBid("B", D(1_100_000)),
        PriceBid("C", D(900_000)),
        PriceBid("D", D(1_000_000)),
    ]
    result = benchmark_scores(bids, RULE_1)
    assert result.base_exact == 980_000
    assert result.base_price == D("980000.00")
    assert scores(result.scores) == {"A": D("55.92"), "B": D("35.51"), "C": D("51.84"), "D": D("55.92")}


def test_benchmark_drops_highest_and_lowest() -> None:
    # 5 valid bids (>= 5): drop 800,000 (lowest) and 1,300,000 (highest).
    # Mean of 950,000, 1,000,000, 1,050,000 = 1,000,000; K = 3 % -> base 970,000.
    # Points 50; above 1 point per 1 %, below 0.5 point per 1 %.
    #   1,000,000: +30,000/970,000 = 300/97 %  -> 50 - 300/97      = 46.907.. -> 46.91
    #     950,000: -20,000/970,000 = 200/97 %  -> 50 - 0.5 x 200/97 = 48.969.. -> 48.97
    #     800,000: -170,000/970,000 = 1700/97 % -> 50 - 850/97     = 41.237.. -> 41.24
    #   1,050,000: +80,000/970,000 = 800/97 %  -> 50 - 800/97      = 41.752.. -> 41.75
    #   1,300,000: +330,000/970,000 = 3300/97 % -> 50 - 3300/97    = 15.979.. -> 15.98
    # The invalid bid at 10 is ignored throughout.
    rule = BenchmarkRule(
        D(50), D("0.03"), deduction_above=D(1), deduction_below=D("0.5"), drop_extremes_from=5
    )
    bids = [
        PriceBid("P800", D(800_000)),
        PriceBid("P950", D(950_000)),
        PriceBid("P1000", D(1_000_000)),
        PriceBid("P1050", D(1_050_000)),
        PriceBid("P1300", D(1_300_000)),
        PriceBid("BAD", D(10), valid=False),
    ]
    result = benchmark_scores(bids, rule)
    assert result.base_exact == 970_000
    assert result.counted == ("P1000", "P1050", "P950")
    assert scores(result.scores) == {
        "P800": D("41.24"),
        "P950": D("48.97"),
        "P1000": D("46.91"),
        "P1050": D("41.75"),
        "P1300": D("15.98"),
        "BAD": None,
    }
    # Without the drop: mean = 5,100,000 / 5 = 1,020,000; base = 1,020,000 x 0.97 = 989,400.
    no_drop = BenchmarkRule(D(50), D("0.03"), D(1), D("0.5"), drop_extremes_from=None)
    assert benchmark_price(bids, no_drop)[0] == 989_400


def test_benchmark_floor_is_zero() -> None:
    bids = [PriceBid("A", D(100)), PriceBid("B", D(100)), PriceBid("C", D(100)), PriceBid("X", D(400))]
    # 4 bids (< 5, no drop): mean 175, base 175 x 0.98 = 171.5;
    # X: +228.5 / 171.5 = +133.2 %, x 2 points = 266 > 60 -> floor 0.00.
    assert scores(benchmark_scores(bids, RULE_1).scores)["X"] == D("0.00")


def test_benchmark_rule_validation() -> None:
    with pytest.raises(PriceScoreError, match="K must be within"):
        BenchmarkRule(D(60), D(1), D(1), D(1))
    with pytest.raises(PriceScoreError, match="at least 3 bids"):
        BenchmarkRule(D(60), D(0), D(1), D(1), drop_extremes_from=2)


@given(
    st.lists(prices, min_size=1, max_size=9),
    st.sampled_from([D(0), D("0.01"), D("0.035")]),
    st.sampled_from([D("0.5"), D(1), D(3)]),
    st.sampled_from([D("0.5"), D(1)]),
)
def test_benchmark_properties(raw: list[D], k: D, above: D, below: D) -> None:
    rule = BenchmarkRule(D(60), k, above, below, drop_extremes_from=5)
    bids = [PriceBid(f"B{i}", p) for i, p in enumerate(raw)]
    result = benchmark_scores(bids, rule)
    base = result.base_exact
    pairs = [(Fraction(b.price), s.score) for b, s in zip(bids, result.scores, strict=True)]
    for _, s in pairs:
        assert s is not None
        assert D(0) <= s <= D(60)
    # On each side of the base, a bid nearer the base never scores lower.
    for p, s in pairs:
        for q, t in pairs:
            same_side = (p - base) * (q - base) >= 0
            if same_side and abs(p - base) <= abs(q - base):
                assert s >= t  # type: ignore[operator]


def test_draw_k_is_deterministic_and_on_grid() -> None:
    grid = [D("0.00") + D("0.005") * i for i in range(7)]  # 0.000 .. 0.030
    seen = set()
    for n in range(200):
        k = draw_k((D("0.00"), D("0.03")), D("0.005"), n.to_bytes(16, "big"))
        assert k in grid
        seen.add(k)
        assert draw_k((D("0.00"), D("0.03")), D("0.005"), n.to_bytes(16, "big")) == k
    assert seen == set(grid)
    assert draw_k((D("0.02"), D("0.02")), D("0.01"), bytes(16)) == D("0.02")
    with pytest.raises(PriceScoreError):
        draw_k((D("0.03"), D("0.01")), D("0.01"), bytes(16))


# -- 经评审的最低投标价法 ------------------------------------------------------------------------------


def test_lowest_evaluated_price_with_adjustments() -> None:
    # A 1,000,000 + 30,000 (missing item priced at the highest other bid) = 1,030,000
    # B 1,020,000, no adjustment                                      = 1,020,000
    # C   990,000 + 50,000 (payment-term deviation)                   = 1,040,000
    # D   900,000 but not compliant: excluded.
    # Ranking: B (1), A (2), C (3).
    bids = [
        EvaluatedBid("A", D(1_000_000), (Adjustment("missing item", D(30_000)),)),
        EvaluatedBid("B", D(1_020_000)),
        EvaluatedBid("C", D(990_000), (Adjustment("payment terms", D(50_000)),)),
        EvaluatedBid("D", D(900_000), compliant=False),
    ]
    ranked = lowest_evaluated_price(bids)
    assert [(r.bidder_id, r.evaluated_price, r.rank) for r in ranked] == [
        ("B", D(1_020_000), 1),
        ("A", D(1_030_000), 2),
        ("C", D(1_040_000), 3),
    ]


def test_lowest_evaluated_scores_worked_example() -> None:
    # Evaluated prices: A 1,030,000, B 1,020,000, C 1,040,000, D not compliant.  Base = 1,020,000.
    # A: 1,020,000 / 1,030,000 x 100 = 99.0291... -> 99.03
    # B: 100.00
    # C: 1,020,000 / 1,040,000 x 100 = 98.0769... -> 98.08
    # D: not scored, its evaluated price still shown (900,000).
    bids = [
        EvaluatedBid("A", D(1_000_000), (Adjustment("missing item", D(30_000)),)),
        EvaluatedBid("B", D(1_020_000)),
        EvaluatedBid("C", D(990_000), (Adjustment("payment terms", D(50_000)),)),
        EvaluatedBid("D", D(900_000), compliant=False),
    ]
    scores = {s.bidder_id: s for s in lowest_evaluated_scores(bids, D(100))}
    assert {b: s.score for b, s in scores.items()} == {
        "A": D("99.03"),
        "B": D("100.00"),
        "C": D("98.08"),
        "D": None,
    }
    assert scores["A"].evaluated_price == D(1_030_000)
    assert scores["A"].contract_price == D(1_000_000)  # the contract keeps the bid price
    with pytest.raises(PriceScoreError):
        lowest_evaluated_scores([EvaluatedBid("X", D(1), compliant=False)], D(100))


def test_lowest_evaluated_price_ties_share_rank() -> None:
    # A 500,000 + 10,000 = 510,000; B 515,000 - 5,000 (earlier delivery credit) = 510,000;
    # C 520,000.  A and B tie at rank 1; C is rank 3 (the tie is broken in ranking.py).
    bids = [
        EvaluatedBid("A", D(500_000), (Adjustment("deviation", D(10_000)),)),
        EvaluatedBid("B", D(515_000), (Adjustment("delivery credit", D(-5_000)),)),
        EvaluatedBid("C", D(520_000)),
    ]
    assert [(r.bidder_id, r.rank) for r in lowest_evaluated_price(bids)] == [("A", 1), ("B", 1), ("C", 3)]


@given(
    st.lists(
        st.tuples(prices, st.lists(st.decimals(-1000, 1000, places=2), max_size=3), st.booleans()), max_size=8
    )
)
def test_lowest_evaluated_price_order(raw: list[tuple[D, list[D], bool]]) -> None:
    bids = [
        EvaluatedBid(f"B{i}", p + D(3001), tuple(Adjustment("x", a) for a in adj), c)
        for i, (p, adj, c) in enumerate(raw)
    ]
    ranked = lowest_evaluated_price(bids)
    assert len(ranked) == sum(b.compliant for b in bids)
    for a, b in itertools.pairwise(ranked):
        assert a.evaluated_price <= b.evaluated_price
        assert a.rank <= b.rank
