"""Bidder-network features of a tender, computed from a market's (region's) bidding history.

They describe who bid, not at what price: how often this tender's bidders meet elsewhere, how closed
their group is, and how wins are shared among them (bid rotation).  They use bidder ids and winner
flags of the *other* tenders of the same market, never labels, tender ids or dates, so they are
unsupervised: the platform computes them from its own region history at detection time, and the
benchmark computes them the same way over each labelled market under every protocol.

Every feature is NaN when it is undefined (the tender has no bidder ids, a single bidder, no winner),
so a model reading them must accept missing values; the shipped screen model does not read them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from collusion.records import BidRecord

FloatArray = NDArray[np.float64]

#: Feature name -> meaning (English, for explanations).  "Elsewhere" = in the market's other tenders.
NETWORK_MEANINGS: dict[str, str] = {
    "bidder_participation": "share of the market's other tenders the bidders took part in, on average",
    "newcomer_share": "share of the bidders never seen elsewhere in the market",
    "winner_participation": "share of the market's other tenders the winner took part in",
    "winner_win_ratio": "log of the winner's wins elsewhere over the wins a random draw would give it",
    "loser_win_ratio": "same win ratio averaged over the losing bidders (covers that win elsewhere)",
    "win_ratio_sd": "spread of that win ratio across the bidders",
    "pair_repeat_share": "share of bidder pairs that also met elsewhere",
    "pair_affinity": "how exclusively the bidder pairs bid together elsewhere (joint over fewer tenders)",
    "log_pair_cobids": "log of 1 + the tenders elsewhere where a bidder pair met, on average",
    "group_closure": "share of the bidders' opponents elsewhere who are also bidders here",
    "group_win_share": "when two of these bidders met elsewhere, the share of times one of them won",
    "group_win_entropy": "how evenly those wins spread over the bidders (1 = perfect rotation)",
    "opp_distinct_ratio": "distinct opponents the bidders met elsewhere per opponent met",
}
NETWORK_FEATURES: tuple[str, ...] = tuple(NETWORK_MEANINGS)

NETWORK_NAMES_ZH: dict[str, str] = {
    "bidder_participation": "投标人在本区域其他项目中的平均参与率",
    "newcomer_share": "首次出现的投标人占比",
    "winner_participation": "中标人在本区域其他项目中的参与率",
    "winner_win_ratio": "中标人在其他项目中的中标次数相对随机期望之比（对数）",
    "loser_win_ratio": "未中标投标人在其他项目中的中标次数相对随机期望之比（对数，平均）",
    "win_ratio_sd": "投标人中标比率的离散程度",
    "pair_repeat_share": "在其他项目中也共同投标的投标人对占比",
    "pair_affinity": "投标人两两共同投标的排他程度",
    "log_pair_cobids": "投标人两两在其他项目中共同投标次数（对数，平均）",
    "group_closure": "投标人在其他项目中的对手同为本项目投标人的比例（圈子封闭度）",
    "group_win_share": "这些投标人在其他项目相遇时由其中一家中标的比例",
    "group_win_entropy": "这些投标人之间中标机会的均匀程度（轮流中标）",
    "opp_distinct_ratio": "投标人在其他项目中遇到的不同对手数与对手总次数之比",
}


def network_features(bidders: Sequence[Sequence[str]], winners: Sequence[int | None]) -> FloatArray:
    """One row per tender (columns ``NETWORK_FEATURES``), each computed from the other tenders.

    ``bidders[t]`` are the bidder ids of tender ``t`` in bid order, ``winners[t]`` the index of its
    single winning bid or None.  A tender with a missing (empty) bidder id gets a row of NaN and is
    left out of everyone else's history.  Repeated ids within a tender count once.
    """
    if len(bidders) != len(winners):
        raise ValueError("bidders and winners must have one entry per tender")
    out = np.full((len(bidders), len(NETWORK_FEATURES)), np.nan)
    firm_of: dict[str, int] = {}
    members: list[NDArray[np.int64]] = []
    winner_firm = np.full(len(bidders), -1, dtype=np.int64)
    usable: list[int] = []
    for t, (ids, w) in enumerate(zip(bidders, winners, strict=True)):
        if not ids or any(not f for f in ids):
            members.append(np.zeros(0, dtype=np.int64))
            continue
        usable.append(t)
        members.append(np.array([firm_of.setdefault(f, len(firm_of)) for f in dict.fromkeys(ids)]))
        if w is not None and 0 <= w < len(ids):
            winner_firm[t] = firm_of[ids[w]]
    if not usable:
        return out
    n_t, n_f = len(bidders), len(firm_of)
    rows = np.concatenate([np.full(len(members[t]), t) for t in usable])
    cols = np.concatenate([members[t] for t in usable])
    a = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_t, n_f))
    won = np.nonzero(winner_firm >= 0)[0]
    wm = sparse.csr_matrix((np.ones(len(won)), (won, winner_firm[won])), shape=(n_t, n_f))
    co = (a.T @ a).tocsr()  # co[i, j]: tenders where both bid; co[i, i]: tenders of i
    gw = (wm.T @ a).tocsr()  # gw[i, j]: tenders won by i where j bid
    size = np.asarray(a.sum(axis=1)).ravel()
    part = co.diagonal()
    wins = np.asarray(wm.sum(axis=0)).ravel()
    expected = np.asarray(a.T @ np.divide(1.0, size, out=np.zeros(n_t), where=size > 0)).ravel()
    opp = np.asarray(a.T @ np.maximum(size - 1, 0)).ravel()  # opponent slots over all tenders
    distinct = np.diff(co.indptr) - (part > 0)  # distinct opponents over all tenders
    others = len(usable) - 1
    for t in usable:
        out[t] = _row(members[t], int(winner_firm[t]), co, gw, part, wins, expected, opp, distinct, others)
    return out


def _row(
    ids: NDArray[np.int64],
    w: int,
    co: sparse.csr_matrix,
    gw: sparse.csr_matrix,
    part: FloatArray,
    wins: FloatArray,
    expected: FloatArray,
    opp: FloatArray,
    distinct: NDArray[np.int64],
    others: int,
) -> list[float]:
    k = len(ids)
    is_w = ids == w
    n_else = part[ids] - 1  # this tender removed from every count below
    wins_else = wins[ids] - is_w
    ratio = np.log((wins_else + 1.0) / (expected[ids] - 1.0 / k + 1.0))
    losers = ratio[~is_w] if is_w.any() else ratio
    f: dict[str, float] = {
        "bidder_participation": float(n_else.mean() / others) if others > 0 else math.nan,
        "newcomer_share": float(np.mean(n_else == 0)),
        "winner_participation": float(n_else[is_w][0] / others) if is_w.any() and others > 0 else math.nan,
        "winner_win_ratio": float(ratio[is_w][0]) if is_w.any() else math.nan,
        "loser_win_ratio": float(losers.mean()) if k > 1 else math.nan,
        "win_ratio_sd": float(ratio.std()) if k > 1 else math.nan,
    }
    if k > 1:
        sub = co[ids][:, ids].toarray() - 1.0
        g = gw[ids][:, ids].toarray() - is_w[:, None]  # this tender's win removed
        iu = np.triu_indices(k, 1)
        pairs = sub[iu]
        least = np.minimum(n_else[iu[0]], n_else[iu[1]])
        np.fill_diagonal(sub, 0.0)
        np.fill_diagonal(g, 0.0)
        opp_else = opp[ids] - (k - 1)
        met_here_only = (sub == 0).sum(axis=1) - 1  # co-bidders of this tender never met elsewhere
        distinct_else = distinct[ids] - met_here_only
        group_wins = g.sum(axis=1)
        total = group_wins.sum()
        f["pair_repeat_share"] = float(np.mean(pairs >= 1))
        affinity = np.divide(pairs, least, out=np.zeros(len(pairs)), where=least > 0)
        f["pair_affinity"] = float(np.mean(affinity))
        f["log_pair_cobids"] = float(np.mean(np.log1p(pairs)))
        f["group_closure"] = float(sub.sum() / opp_else.sum()) if opp_else.sum() > 0 else 0.0
        f["group_win_share"] = float(total / pairs.sum()) if pairs.sum() > 0 else 0.0
        p = group_wins[group_wins > 0] / total if total > 0 else np.zeros(0)
        f["group_win_entropy"] = float(-(p * np.log(p)).sum() / math.log(k)) if total > 0 else 0.0
        f["opp_distinct_ratio"] = float(distinct_else.sum() / opp_else.sum()) if opp_else.sum() > 0 else 1.0
    return [f.get(name, math.nan) for name in NETWORK_FEATURES]


def network_features_from_records(bids: Iterable[BidRecord]) -> dict[str, FloatArray]:
    """``network_features`` over a region's bid history, keyed by tender id (first-seen order).

    A tender with several or no winning bids has no winner.  The whole history is one market: call it
    with the region's bids, including the tenders to score.
    """
    by_tender: dict[str, list[BidRecord]] = defaultdict(list)
    for b in bids:
        by_tender[b.tender_id].append(b)
    bidders = [tuple(b.bidder_id for b in tb) for tb in by_tender.values()]
    winners: list[int | None] = []
    for tb in by_tender.values():
        won = [i for i, b in enumerate(tb) if b.is_winner]
        winners.append(won[0] if len(won) == 1 else None)
    matrix = network_features(bidders, winners)
    return {tid: matrix[i] for i, tid in enumerate(by_tender)}
