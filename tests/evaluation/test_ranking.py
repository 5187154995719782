from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.ranking import (
    BidInfo,
    ExpertScore,
    ItemKind,
    RankingError,
    RankingPolicy,
    RubricItem,
    TieBreak,
    deviations,
    expert_deviation_summary,
    expert_totals,
    kendalls_w,
    lot_key,
    mid_ranks,
    needs_reason,
    rank_bids,
)

RUBRIC = [
    RubricItem("T1", ItemKind.TECHNICAL, D(40)),
    RubricItem("C1", ItemKind.COMMERCIAL, D(20)),
    RubricItem("P", ItemKind.PRICE, D(40)),
]
EXPERTS = ("e1", "e2", "e3")


def sheet(table: dict[tuple[str, str], tuple[int, ...]]) -> list[ExpertScore]:
    return [
        ExpertScore(e, bidder, item, D(v))
        for (bidder, item), values in table.items()
        for e, v in zip(EXPERTS, values, strict=True)
    ]


# A: T1 mean (30+32+34)/3 = 32, C1 (15+16+17)/3 = 16, price 40 -> 88.00, technical 32
# B: T1 (36+35+37)/3 = 36, C1 14, price 38                     -> 88.00, technical 36
# C: T1 (20+25+24)/3 = 23, C1 (10+11+11)/3 = 32/3, price 35    -> 68.666.. -> 68.67
# X failed qualification: excluded whatever its scores.
SCORES = sheet(
    {
        ("A", "T1"): (30, 32, 34),
        ("A", "C1"): (15, 16, 17),
        ("B", "T1"): (36, 35, 37),
        ("B", "C1"): (14, 14, 14),
        ("C", "T1"): (20, 25, 24),
        ("C", "C1"): (10, 11, 11),
    }
)
BIDS = [
    BidInfo("A", True, D(100)),
    BidInfo("B", True, D(105)),
    BidInfo("C", True, D(110)),
    BidInfo("X", False, D(90)),
]
PRICE = {"A": D(40), "B": D(38), "C": D(35)}


def test_totals_ranking_and_technical_tie_break() -> None:
    # A and B tie at 88.00; B's technical 36 beats A's 32.
    result = rank_bids(BIDS, RUBRIC, SCORES, PRICE, RankingPolicy(max_candidates=2))
    assert [(r.bidder_id, r.total, r.technical, r.decided_by) for r in result.ranked] == [
        ("B", D("88.00"), D("36.00"), None),
        ("A", D("88.00"), D("32.00"), "technical_desc"),
        ("C", D("68.67"), D("23.00"), "total"),
    ]
    assert result.recommended == ("B", "A")
    assert result.excluded == ("X",)


def test_price_then_lot_tie_breaks() -> None:
    # Same scores for A and B: technical ties, so the lower evaluated price (A, 100) wins.
    same = sheet({(b, i): (15, 15, 15) for b in ("A", "B") for i in ("T1", "C1")})
    bids = [BidInfo("A", True, D(100)), BidInfo("B", True, D(99))]
    result = rank_bids(bids, RUBRIC, same, {"A": D(40), "B": D(40)})
    assert [(r.bidder_id, r.decided_by) for r in result.ranked] == [("B", None), ("A", "price_asc")]
    # Equal prices too: the lot decides, by SHA-256(tag || seed || bidder) ascending.
    bids = [BidInfo("A", True, D(100)), BidInfo("B", True, D(100))]
    seed = b"public-seed-from-the-opening"
    result = rank_bids(bids, RUBRIC, same, {"A": D(40), "B": D(40)}, lot_seed=seed)
    expected = sorted(["A", "B"], key=lambda b: lot_key(seed, b))
    assert [r.bidder_id for r in result.ranked] == expected
    assert result.ranked[1].decided_by == "lot"
    with pytest.raises(RankingError, match="a lot seed is required"):
        rank_bids(bids, RUBRIC, same, {"A": D(40), "B": D(40)})
    policy = RankingPolicy(tie_breaks=(TieBreak.PRICE,))
    with pytest.raises(RankingError, match="a further tie-break rule"):
        rank_bids(bids, RUBRIC, same, {"A": D(40), "B": D(40)}, policy)


def test_weights_and_trimmed_means() -> None:
    # Trim drops one highest and one lowest: A/T1 -> 32, C/T1 (20, 24, 25) -> 24.
    # With T1 weight 0.5: A = 0.5 x 32 + 16 + 40 = 72.00.
    rubric = [RubricItem("T1", ItemKind.TECHNICAL, D(40), D("0.5")), *RUBRIC[1:]]
    result = rank_bids(BIDS, rubric, SCORES, PRICE, RankingPolicy(trim_extremes=True))
    totals = {r.bidder_id: r.total for r in result.ranked}
    # B: 0.5 x 36 + 14 + 38 = 70.00;  C: 0.5 x 24 + C1 trimmed (10, 11, 11) -> 11 + 35 = 58.00
    assert totals == {"A": D("72.00"), "B": D("70.00"), "C": D("58.00")}


def test_incomplete_or_invalid_scores_are_refused() -> None:
    with pytest.raises(RankingError, match=r"missing expert scores: e3:C/C1"):
        rank_bids(BIDS, RUBRIC, SCORES[:-1], PRICE)
    bad = [*SCORES[:-1], ExpertScore("e3", "C", "C1", D(21))]
    with pytest.raises(RankingError, match="outside"):
        rank_bids(BIDS, RUBRIC, bad, PRICE)
    with pytest.raises(RankingError, match="not an expert-scored item"):
        rank_bids(BIDS, RUBRIC, [*SCORES, ExpertScore("e1", "A", "P", D(1))], PRICE)
    with pytest.raises(RankingError, match="1 to 3"):
        RankingPolicy(max_candidates=4)


def test_deviation_and_reasons() -> None:
    # A/T1 scores 30, 32, 34 -> median 32.  Threshold 5 % of 40 points = 2 points.
    # e1: |30 - 32| = 2, exactly at the threshold: no reason needed.
    # C/T1: 20, 25, 24 -> median 24; e1 is 4 away (> 2): needs a reason; e2 is 1 away.
    # C/C1: 10, 11, 11 -> median 11; max 20 -> threshold 1 point; e1 is 1 away: fine.
    flagged = needs_reason(SCORES, RUBRIC, D(5))
    assert set(flagged) == {("e1", "C", "T1")}
    devs = {(d.expert_id, d.bidder_id, d.item_id): d.deviation for d in deviations(SCORES)}
    assert devs[("e1", "C", "T1")] == -4
    summary = expert_deviation_summary(SCORES)
    # e1 deviations: A/T1 -2, A/C1 -1, B/T1 0, B/C1 0, C/T1 -4, C/C1 -1 -> mean |.| = 8/6 = 1.33
    assert summary["e1"] == D("1.33")


def test_kendalls_w_with_ties_by_hand() -> None:
    # Raters X, Y, Z rank objects a..d (rank 1 = highest score; ties take mid-ranks).
    #   X: 9 8 7 6 -> 1, 2, 3, 4                      T_X = 0
    #   Y: 9 9 7 5 -> 1.5, 1.5, 3, 4                  T_Y = 2^3 - 2 = 6
    #   Z: 8 6 6 6 -> 1, 3, 3, 3                      T_Z = 3^3 - 3 = 24
    # Rank sums: a 3.5, b 6.5, c 9, d 11 (total 30); mean 7.5
    # S = 4^2 + 1^2 + 1.5^2 + 3.5^2 = 16 + 1 + 2.25 + 12.25 = 31.5
    # W = 12 S / (m^2 (n^3 - n) - m sum T) = 378 / (9 x 60 - 3 x 30) = 378 / 450 = 0.84
    ratings = {
        "X": {"a": D(9), "b": D(8), "c": D(7), "d": D(6)},
        "Y": {"a": D(9), "b": D(9), "c": D(7), "d": D(5)},
        "Z": {"a": D(8), "b": D(6), "c": D(6), "d": D(6)},
    }
    assert mid_ranks(ratings["Y"]) == {"a": Fraction(3, 2), "b": Fraction(3, 2), "c": 3, "d": 4}
    assert kendalls_w(ratings) == Fraction(21, 25)


def test_kendalls_w_edges() -> None:
    same = {r: {"a": D(3), "b": D(2), "c": D(1)} for r in ("X", "Y")}
    assert kendalls_w(same) == 1
    opposite = {"X": {"a": D(1), "b": D(2)}, "Y": {"a": D(2), "b": D(1)}}
    assert kendalls_w(opposite) == 0
    assert kendalls_w({"X": {"a": D(1)}}) is None
    assert kendalls_w({"X": {"a": D(1), "b": D(1)}, "Y": {"a": D(2), "b": D(2)}}) is None
    with pytest.raises(RankingError, match="same objects"):
        kendalls_w({"X": {"a": D(1)}, "Y": {"b": D(1)}})


def test_expert_totals_feed_kendall() -> None:
    w = kendalls_w(expert_totals(SCORES, RUBRIC))
    assert w is not None
    assert 0 < w <= 1


@given(
    st.lists(
        st.lists(st.integers(0, 5), min_size=4, max_size=4),
        min_size=2,
        max_size=6,
    )
)
def test_kendalls_w_in_unit_interval(rows: list[list[int]]) -> None:
    ratings = {f"r{i}": {f"o{j}": D(v) for j, v in enumerate(row)} for i, row in enumerate(rows)}
    w = kendalls_w(ratings)
    assert w is None or 0 <= w <= 1


@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 20), st.integers(0, 40), st.booleans()),
        min_size=1,
        max_size=7,
    ),
    st.integers(1, 3),
)
def test_ranking_properties(rows: list[tuple[int, int, int, bool]], top: int) -> None:
    bids = [BidInfo(f"B{i}", q, D(100 + i)) for i, (_, _, _, q) in enumerate(rows)]
    scores = [
        ExpertScore(e, f"B{i}", item, D(v))
        for i, (t, c, _, _) in enumerate(rows)
        for e in EXPERTS
        for item, v in (("T1", t), ("C1", c))
    ]
    price = {f"B{i}": D(p) for i, (_, _, p, _) in enumerate(rows)}
    result = rank_bids(bids, RUBRIC, scores, price, RankingPolicy(max_candidates=top), lot_seed=b"seed")
    totals = [r.total for r in result.ranked]
    assert totals == sorted(totals, reverse=True)
    assert len(result.recommended) == min(top, sum(b.qualified for b in bids))
    qualified = {b.bidder_id for b in bids if b.qualified}
    assert set(result.recommended) <= qualified
    assert set(result.excluded) == {b.bidder_id for b in bids} - qualified
