import numpy as np

from collusion import cobidding as cb

P = cb.CobidParams()


def cols(rows: list[tuple[int, int, bool]]) -> tuple[cb.I64, cb.I64, cb.B]:
    t, b, w = zip(*rows, strict=True)
    return np.array(t, np.int64), np.array(b, np.int64), np.array(w, bool)


def test_pair_stats_counts_within_tenders_only() -> None:
    t, b, w = cols(
        [(0, 2, True), (0, 1, False), (0, 2, False), (1, 1, True), (1, 2, False), (1, 3, False), (2, 3, True)]
    )
    s = cb.pair_stats(t, b, w)
    got = {
        (int(a), int(c)): (int(n), int(wa), int(wb))
        for a, c, n, wa, wb in zip(s.a, s.b, s.co, s.wins_a, s.wins_b, strict=True)
    }
    assert got == {(1, 2): (2, 1, 1), (1, 3): (1, 1, 0), (2, 3): (1, 0, 0)}


def test_pair_stats_skips_huge_tenders() -> None:
    t, b, w = cols([(0, i, i == 0) for i in range(50)])
    assert cb.pair_stats(t, b, w, max_tender_size=40).co.size == 0


def _cover_rows(loser_wins: int, n: int = 5) -> list[tuple[int, int, bool]]:
    rows = []
    for k in range(n):
        b_wins = k < loser_wins
        rows += [(k, 0, not b_wins), (k, 1, b_wins), (k, 10 + k, False)]
    return rows


def test_cover_bidding_fires() -> None:
    t, b, w = cols(_cover_rows(0))
    s = cb.pair_stats(t, b, w)
    n = np.bincount(b)
    a_cov, b_cov = cb.cover(s.co, n[s.a], n[s.b], s.wins_a, s.wins_b, P)
    assert [(int(s.a[i]), int(s.b[i])) for i in np.flatnonzero(b_cov)] == [(0, 1)]  # 1 covers for 0
    assert not a_cov.any()


def test_cover_near_misses() -> None:
    for rows in (_cover_rows(1), _cover_rows(0, n=4)):  # the cover won once / too little support
        t, b, w = cols(rows)
        s = cb.pair_stats(t, b, w)
        n = np.bincount(b)
        a_cov, b_cov = cb.cover(s.co, n[s.a], n[s.b], s.wins_a, s.wins_b, P)
        assert not (a_cov | b_cov).any()


def _rotation_rows(winners: list[int]) -> list[tuple[int, int, bool]]:
    rows = []
    for k, win in enumerate(winners):
        rows += [(k, m, m == win) for m in (0, 1, 2)] + [(k, 100 + k, False)]
    return rows


def test_rotation_fires() -> None:
    t, b, w = cols(_rotation_rows([0, 1, 2, 0, 1, 2]))
    s = cb.pair_stats(t, b, w)
    groups = cb.rotation_groups(s, np.bincount(b), t, b, w, P)
    assert len(groups) == 1
    assert groups[0].members == (0, 1, 2)
    assert dict(groups[0].wins) == {0: 2, 1: 2, 2: 2}
    assert len(groups[0].tenders) == 6


def test_rotation_near_miss_one_member_wins_everything() -> None:
    t, b, w = cols(_rotation_rows([0] * 6))
    s = cb.pair_stats(t, b, w)
    assert cb.rotation_groups(s, np.bincount(b), t, b, w, P) == []


def test_is_rotation_rules() -> None:
    assert cb.is_rotation(6, {0: 3, 1: 3}, 2, P)
    assert not cb.is_rotation(6, {0: 3, 1: 1}, 2, P)  # only 4/6 won by members
    assert not cb.is_rotation(4, {0: 2, 1: 2}, 2, P)  # support


def test_price_steps_arithmetic_and_geometric() -> None:
    t = np.array([0, 0, 0, 0, 1, 1, 1], np.int64)
    b = np.array([1, 2, 3, 4, 5, 6, 7], np.int64)
    p = np.array([104000.0, 100000.0, 102000.0, 90000.0, 100000.0, 103000.0, 106090.0])
    steps = cb.price_steps(t, b, p, P)
    assert [(s.tender, s.bidders, s.description) for s in steps] == [
        (0, (2, 3, 1), "Δ=2000.00"),
        (1, (5, 6, 7), "×1.0300"),
    ]


def test_price_steps_near_miss() -> None:
    t = np.zeros(4, np.int64)
    b = np.arange(4, dtype=np.int64)
    assert cb.price_steps(t, b, np.array([100000.0, 102000.0, 104500.0, 95000.0]), P) == []
    # identical prices are a screen of their own, not a step
    assert cb.price_steps(t[:3], b[:3], np.array([100.0, 100.0, 100.0]), P) == []


def test_a_region_without_bids_has_no_pairs() -> None:
    import numpy as np

    from collusion.cobidding import dedupe_bids, pair_stats

    none = np.zeros(0, np.int64)
    assert dedupe_bids(none, none).size == 0
    stats = pair_stats(none, none, np.zeros(0, bool))
    assert stats.a.size == stats.co.size == 0
