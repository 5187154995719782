"""Co-bidding patterns across tenders (cover bidding, bid rotation) and regular price steps.

Everything runs on interned int columns. Pairs are only ever formed inside a tender (all pairs of a
tender's bidders, grouped by tender size so each size is one numpy broadcast), then reduced with
np.unique, so the cost is the number of co-bid pairs, never the number of company pairs.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class CobidParams:
    min_support: int = 5  # joint tenders before any pattern is reported
    min_overlap: float = 0.6  # co-bids / bids of the less active firm: they bid together by habit
    cover_winner_share: float = 0.6  # the covered firm wins at least this share of the joint tenders
    rotation_member_win_share: float = 0.8  # group members win this share of their joint tenders
    rotation_min_winner_frac: float = 0.6  # at least this fraction of members has won (and at least 2)
    rotation_max_top_share: float = 0.7  # no member takes more than this share of the group's wins
    rotation_max_group: int = 8  # bigger frequent-bidder clusters are markets, not cartels
    max_tender_size: int = 40  # framework tenders with hundreds of bidders carry no pair signal
    step_rel_tol: float = 1e-6  # equal steps / ratios up to this relative tolerance
    step_min_rel: float = 1e-3  # steps smaller than 0.1 % of the price are not a pattern


@dataclass(frozen=True, slots=True)
class PairStats:
    """Columnar co-bidding counts for pairs a < b that met at least once."""

    a: I64
    b: I64
    co: I64
    wins_a: I64
    wins_b: I64


def dedupe_bids(tender: I64, bidder: I64) -> I64:
    """Order of bids sorted by (tender, bidder), keeping one bid per bidder per tender."""
    if tender.size == 0:  # a region with no bids yet (the mask below assumes a first bid)
        return np.zeros(0, np.int64)
    order = np.lexsort((bidder, tender))
    t, b = tender[order], bidder[order]
    keep = np.r_[True, (t[1:] != t[:-1]) | (b[1:] != b[:-1])]
    return np.asarray(order[keep], dtype=np.int64)


def pair_stats(tender: I64, bidder: I64, winner: B, max_tender_size: int = 40) -> PairStats:
    order = dedupe_bids(tender, bidder)
    t, b, w = tender[order], bidder[order], winner[order].astype(np.int64)
    n = t.size
    empty = np.zeros(0, np.int64)
    if n == 0:
        return PairStats(empty, empty, empty, empty, empty)
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    sizes = np.diff(np.r_[starts, n])
    big = int(b.max()) + 1
    keys, wa, wb = [], [], []
    for s in np.unique(sizes):
        if s < 2 or s > max_tender_size:
            continue
        idx = starts[sizes == s][:, None] + np.arange(s)
        bm, wm = b[idx], w[idx]
        ii, jj = np.triu_indices(int(s), k=1)
        keys.append((bm[:, ii] * big + bm[:, jj]).ravel())  # b sorted within a tender: left < right
        wa.append(wm[:, ii].ravel())
        wb.append(wm[:, jj].ravel())
    if not keys:
        return PairStats(empty, empty, empty, empty, empty)
    uk, inv, co = np.unique(np.concatenate(keys), return_inverse=True, return_counts=True)
    wins_a = np.bincount(inv, weights=np.concatenate(wa), minlength=uk.size).astype(np.int64)
    wins_b = np.bincount(inv, weights=np.concatenate(wb), minlength=uk.size).astype(np.int64)
    return PairStats(uk // big, uk % big, co.astype(np.int64), wins_a, wins_b)


def frequent(co: I64, n_a: I64, n_b: I64, p: CobidParams) -> B:
    """Pairs that keep bidding together: enough joint tenders and most of the quieter firm's bids."""
    overlap = co / np.maximum(np.minimum(n_a, n_b), 1)
    return np.asarray((co >= p.min_support) & (overlap >= p.min_overlap))


def cover(co: I64, n_a: I64, n_b: I64, wins_a: I64, wins_b: I64, p: CobidParams) -> tuple[B, B]:
    """(a covers for b, b covers for a): the cover never wins together and the other wins often."""
    f = frequent(co, n_a, n_b, p)
    need = p.cover_winner_share * co
    return np.asarray(f & (wins_a == 0) & (wins_b >= need)), np.asarray(f & (wins_b == 0) & (wins_a >= need))


def is_rotation(n_joint: int, wins: dict[int, int], group_size: int, p: CobidParams) -> bool:
    """Members win nearly all their joint tenders, the wins are spread over several members."""
    total = sum(wins.values())
    if n_joint < p.min_support or total < p.rotation_member_win_share * n_joint or total == 0:
        return False
    winners = sum(1 for v in wins.values() if v > 0)
    if winners < max(2, math.ceil(p.rotation_min_winner_frac * group_size)):
        return False
    return max(wins.values()) <= p.rotation_max_top_share * total


@dataclass(frozen=True, slots=True)
class RotationGroup:
    members: tuple[int, ...]
    tenders: tuple[int, ...]  # joint tenders (at least two members bid)
    wins: tuple[tuple[int, int], ...]  # (member, wins in joint tenders)


def components(a: I64, b: I64, n_nodes: int) -> I64:
    """Connected-component label per node for the given edges (isolated nodes get their own label)."""
    m = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(m, directed=False)
    return np.asarray(labels, dtype=np.int64)


def rotation_groups(
    stats: PairStats, n_bids: I64, tender: I64, bidder: I64, winner: B, p: CobidParams
) -> list[RotationGroup]:
    f = frequent(stats.co, n_bids[stats.a], n_bids[stats.b], p)
    if not f.any():
        return []
    n_nodes = int(n_bids.size)
    labels = components(stats.a[f], stats.b[f], n_nodes)
    sizes = np.bincount(labels)
    in_pair = np.zeros(n_nodes, bool)
    in_pair[stats.a[f]] = True
    in_pair[stats.b[f]] = True
    ok = in_pair & (sizes[labels] >= 2) & (sizes[labels] <= p.rotation_max_group)
    lab = np.where(ok, labels, -1)
    order = dedupe_bids(tender, bidder)
    t, bb, w = tender[order], bidder[order], winner[order]
    bl = lab[bb]
    m = bl >= 0
    big = int(lab.max()) + 1
    key = t[m] * big + bl[m]
    uk, cnt = np.unique(key, return_counts=True)
    joint = uk[cnt >= 2]
    if joint.size == 0:
        return []
    # Winning member per joint (tender, group): the tender's winner if it belongs to the group.
    wmask = m & w
    win_key = t[wmask] * big + bl[wmask]
    win_of = dict(zip(win_key.tolist(), bb[wmask].tolist(), strict=True))
    by_group: dict[int, list[int]] = {}
    for k in joint.tolist():
        by_group.setdefault(k % big, []).append(k // big)
    out: list[RotationGroup] = []
    for g, tenders in by_group.items():
        members = np.flatnonzero(lab == g)
        wins = {int(x): 0 for x in members}
        for tt in tenders:
            wid = win_of.get(tt * big + g)
            if wid is not None:
                wins[wid] += 1
        if is_rotation(len(tenders), wins, members.size, p):
            out.append(RotationGroup(tuple(wins), tuple(tenders), tuple(wins.items())))
    return out


def among_bidders(
    bidders: Sequence[int], firm_tenders: Mapping[int, Sequence[int]], winner: I64, p: CobidParams
) -> tuple[list[tuple[int, int]], list[RotationGroup]]:
    """Cover bidding and rotation among one tender's bidders over their whole history (the
    incremental check; ``rotation_groups`` is the region-wide batch).  ``firm_tenders``: each
    bidder's tenders; ``winner``: the winning bidder of each tender.  Returns the (winner, cover
    bidder) pairs and the rotation groups."""
    covers: list[tuple[int, int]] = []
    freq: list[tuple[int, int]] = []
    for x, y in itertools.combinations(bidders, 2):
        joint = sorted(set(firm_tenders[x]) & set(firm_tenders[y]))
        co = np.array([len(joint)])
        nx_, ny_ = np.array([len(firm_tenders[x])]), np.array([len(firm_tenders[y])])
        wx = np.array([sum(1 for t in joint if winner[t] == x)])
        wy = np.array([sum(1 for t in joint if winner[t] == y)])
        x_cov, y_cov = cover(co, nx_, ny_, wx, wy, p)
        if x_cov[0]:
            covers.append((y, x))
        elif y_cov[0]:
            covers.append((x, y))
        if frequent(co, nx_, ny_, p)[0]:
            freq.append((x, y))
    # Rotation among these bidders: components of the frequent pairs, then the same test.
    parent = {b: b for b in bidders}

    def find(v: int) -> int:
        while parent[v] != v:
            v = parent[v]
        return v

    for x, y in freq:
        parent[find(x)] = find(y)
    groups: dict[int, list[int]] = defaultdict(list)
    for b in bidders:
        groups[find(b)].append(b)
    rotations: list[RotationGroup] = []
    for members in groups.values():
        if not 2 <= len(members) <= p.rotation_max_group or not any(
            find(x) == find(members[0]) for x, _ in freq
        ):
            continue
        count: dict[int, int] = defaultdict(int)
        for m in members:
            for tt in firm_tenders[m]:
                count[tt] += 1
        joint_t = sorted(tt for tt, c in count.items() if c >= 2)
        wins = {m: 0 for m in members}
        for tt in joint_t:
            w = int(winner[tt])
            if w in wins:
                wins[w] += 1
        if is_rotation(len(joint_t), wins, len(members), p):
            rotations.append(RotationGroup(tuple(members), tuple(joint_t), tuple(wins.items())))
    return covers, rotations


@dataclass(frozen=True, slots=True)
class PriceStep:
    tender: int
    bidders: tuple[int, ...]  # in price order
    description: str  # e.g. "Δ=12000.00" or "×1.0300"


def price_steps(tender: I64, bidder: I64, price: F64, p: CobidParams) -> list[PriceStep]:
    """Runs of three or more prices in one tender forming an arithmetic or geometric progression."""
    order = np.lexsort((price, tender))
    t, b, pr = tender[order], bidder[order], price[order]
    if t.size < 3:
        return []
    same = t[1:] == t[:-1]
    d = np.diff(pr)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(pr[:-1] > 0, pr[1:] / pr[:-1], 0.0)
    tri = same[:-1] & same[1:]
    eq_step = (
        tri & (np.abs(d[1:] - d[:-1]) <= p.step_rel_tol * pr[2:]) & (d[:-1] >= p.step_min_rel * pr[1:-1])
    )
    eq_ratio = tri & (np.abs(r[1:] - r[:-1]) <= p.step_rel_tol) & (r[:-1] - 1.0 >= p.step_min_rel)
    out: list[PriceStep] = []
    hits = np.flatnonzero(eq_step | eq_ratio)
    i = 0
    while i < hits.size:  # merge overlapping triples into maximal runs
        start = end = int(hits[i])
        arith = bool(eq_step[start])
        while i + 1 < hits.size and hits[i + 1] == end + 1:
            i += 1
            end = int(hits[i])
        i += 1
        desc = f"Δ={d[start]:.2f}" if arith else f"×{r[start]:.4f}"
        out.append(PriceStep(int(t[start]), tuple(int(x) for x in b[start : end + 3]), desc))
    return out
