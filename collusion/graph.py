"""Evidence graph over bidder companies: batch build, incremental per-tender check, groups, JSON view.

Shared attributes are found through inverted indices keyed by the attribute value (value -> firms ->
tenders), never by comparing companies pairwise. A value used by more firms than the infrastructure
threshold only links firms that used it in the same tender (see evidence.make_evidence for the rule).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from collusion import cobidding as cb
from collusion import similarity as sim
from collusion.evidence import (
    SPECS,
    Evidence,
    EvidenceKind,
    Level,
    make_evidence,
    score_edge,
)
from collusion.records import BidRecord, CompanyRecord, Interner, TenderRecord

K = EvidenceKind
REGISTRY = -1  # tender slot for values taken from the company register
DOC_CHUNK = 20_000  # documents hashed per numpy pass


@dataclass(frozen=True, slots=True)
class GraphParams:
    nat_threshold: int = 5  # M: more distinct firms than this on one IP/device/template => infrastructure
    enum_cap: int = 50  # non-demotable values shared by more firms only link firms within a tender
    doc_threshold: float = 0.7  # estimated Jaccard of distinctive text for NEAR_IDENTICAL_DOC
    cobid: cb.CobidParams = field(default_factory=cb.CobidParams)
    template_min_docs: int = 50
    template_frac: float = 0.002
    control_pct: float = 50.0  # holding at least this share is control (控股)


# Small int codes: hashing an Enum member calls Python-level __hash__, too slow for millions of bids.
_KIND = list(EvidenceKind)
(_IP, _DEV, _BOND, _META, _REP, _SHARE, _CTRL, _AGENT, _PM, _CONTACT, _DOC, _ERR) = (
    _KIND.index(k)
    for k in (
        K.SHARED_IP,
        K.SHARED_DEVICE,
        K.SHARED_BOND_ACCOUNT,
        K.SHARED_DOC_METADATA,
        K.SHARED_LEGAL_REP,
        K.SHARED_SHAREHOLDER,
        K.CONTROL_LINK,
        K.SHARED_AGENT,
        K.SHARED_PROJECT_MANAGER,
        K.SHARED_CONTACT,
        K.NEAR_IDENTICAL_DOC,
        K.IDENTICAL_ERROR,
    )
)


def _meta_value(bid: BidRecord) -> str:
    m = bid.doc_meta
    if m.created is None or not (m.author or m.tool):
        return ""  # author alone ("Administrator") is far too common to mean anything
    return f"{m.author} / {m.tool} / {m.created.isoformat(' ', 'seconds')}"


def _bid_values(bid: BidRecord) -> list[tuple[int, str]]:
    out = [(_IP, bid.ip), (_DEV, bid.device), (_BOND, bid.bond_account), (_AGENT, bid.agent)]
    if bid.doc_meta.created is not None:
        out.append((_META, _meta_value(bid)))
    out.extend((_PM, p) for p in bid.project_managers)
    out.extend((_CONTACT, c) for c in bid.contacts)
    out.extend((_ERR, e) for e in bid.error_signatures)
    if bid.line_items:
        out.extend((_ERR, e) for e in sim.line_item_errors(bid.line_items, bid.price))
    return out


def _company_values(c: CompanyRecord) -> list[tuple[int, str]]:
    out = [(_REP, c.legal_rep)]
    out.extend((_SHARE, s.holder) for s in c.shareholders)
    out.extend((_AGENT, p) for p in c.agents)
    out.extend((_PM, p) for p in c.project_managers)
    out.extend((_CONTACT, p) for p in (*c.phones, *c.emails))
    return out


class GraphIndex:
    """Interned, append-only store of companies, tenders and bids with the inverted indices."""

    def __init__(self, companies: Iterable[CompanyRecord] = (), params: GraphParams | None = None) -> None:
        self.params = params or GraphParams()
        self.companies: dict[str, CompanyRecord] = {}
        self.cids = Interner()
        self.tids = Interner()
        self.tenders: dict[int, TenderRecord] = {}
        self._vals: dict[tuple[int, str], int] = {}
        self._val_key: list[tuple[EvidenceKind, str]] = []
        self._val_firms: list[dict[int, list[int]]] = []  # value -> firm -> tenders (REGISTRY for register)
        self._firm_vals: list[set[int]] = []
        self._firm_tenders: list[list[int]] = []
        self._tender_bidders: dict[int, list[int]] = {}
        self._tender_winner: dict[int, int] = {}
        self._b_tender: list[int] = []
        self._b_bidder: list[int] = []
        self._b_price: list[float] = []
        self._b_win: list[bool] = []
        self._tender_rows: dict[int, list[int]] = {}
        self._mixed: dict[int, list[tuple[int, int, str]]] = {}
        self.docs = sim.SignatureIndex()
        self.counter = sim.ShingleCounter(self.params.template_min_docs, self.params.template_frac)
        for c in companies:
            self.add_company(c)

    # ---- ingestion -------------------------------------------------------------------------------
    def _cid(self, company_id: str) -> int:
        i = self.cids.intern(company_id)
        if i == len(self._firm_vals):
            self._firm_vals.append(set())
            self._firm_tenders.append([])
            self.companies.setdefault(company_id, CompanyRecord(company_id))
        return i

    def _note(self, code: int, value: str, firm: int, tender: int) -> None:
        if not value:
            return
        key = (code, value)
        vid = self._vals.get(key)
        if vid is None:
            vid = self._vals[key] = len(self._val_key)
            self._val_key.append((_KIND[code], value))
            self._val_firms.append({})
        firms = self._val_firms[vid]
        lst = firms.get(firm)
        if lst is None:
            firms[firm] = [tender]
            self._firm_vals[firm].add(vid)
        elif lst[-1] != tender:
            lst.append(tender)

    def add_company(self, c: CompanyRecord) -> None:
        i = self._cid(c.company_id)
        self.companies[c.company_id] = c
        for code, value in _company_values(c):
            self._note(code, value, i, REGISTRY)

    def add_tender(self, tender: TenderRecord | str, bids: Sequence[BidRecord]) -> int:
        """Register one tender with its bids (documents hashed against the region's templates so far)."""
        t = self._ingest(tender, bids)
        self._index_docs([(t, b) for b in bids])
        return t

    def _ingest(self, tender: TenderRecord | str, bids: Sequence[BidRecord]) -> int:
        tid = tender if isinstance(tender, str) else tender.tender_id
        t = self.tids.intern(tid)
        if not isinstance(tender, str):
            self.tenders[t] = tender
        bidders = self._tender_bidders.setdefault(t, [])
        for bid in bids:
            f = self._cid(bid.bidder_id)
            if f not in bidders:
                bidders.append(f)
                self._firm_tenders[f].append(t)
            self._b_tender.append(t)
            self._b_bidder.append(f)
            self._b_price.append(bid.price)
            self._b_win.append(bid.is_winner)
            if bid.is_winner:
                self._tender_winner[t] = f
            self._tender_rows.setdefault(t, []).append(len(self._b_tender) - 1)
            for code, value in _bid_values(bid):
                self._note(code, value, f, t)
        others = [(b.bidder_id, self.companies[b.bidder_id]) for b in bids]
        for bid in bids:
            if bid.doc_text:
                cand = [(o, c.name, c.credit_code) for o, c in others if o != bid.bidder_id]
                for other, what in sim.mixed_document_hits(bid.doc_text, cand):
                    self._mixed.setdefault(t, []).append(
                        (self.cids.intern(bid.bidder_id), self.cids.intern(other), what)
                    )
        return t

    def _index_docs(self, rows: Sequence[tuple[int, BidRecord]], *, counted: bool = False) -> None:
        """Hash documents in chunks (bounded memory); `counted`: the template counter already saw them."""
        given = [(t, b) for t, b in rows if b.doc_signature and not b.doc_text]
        if given:
            sig = np.array([b.doc_signature for _, b in given], dtype=np.uint32)
            self.docs.add(sig, (self.cids.intern(b.bidder_id) for _, b in given), (t for t, _ in given))
        texts = [(t, b) for t, b in rows if b.doc_text]
        for lo in range(0, len(texts), DOC_CHUNK):
            chunk = texts[lo : lo + DOC_CHUNK]
            ttext = [self.tenders[t].doc_text if t in self.tenders else "" for t, _ in chunk]
            batch = sim.doc_signatures(
                [b.doc_text for _, b in chunk], self.counter, ttext, update=not counted
            )
            keep = np.flatnonzero(batch.comparable).tolist()
            self.docs.add(
                batch.sig[keep],
                (self.cids.intern(chunk[i][1].bidder_id) for i in keep),
                (chunk[i][0] for i in keep),
            )

    @classmethod
    def from_records(
        cls,
        companies: Iterable[CompanyRecord],
        bids: Iterable[BidRecord],
        tenders: Iterable[TenderRecord] = (),
        params: GraphParams | None = None,
    ) -> GraphIndex:
        """Batch load: documents are hashed in one pass after the template counts cover the whole region."""
        idx = cls(companies, params)
        trec = {t.tender_id: t for t in tenders}
        by_tender: dict[str, list[BidRecord]] = defaultdict(list)
        for b in bids:
            by_tender[b.tender_id].append(b)
        rows: list[tuple[int, BidRecord]] = []
        for tid, tb in by_tender.items():
            t = idx._ingest(trec.get(tid, tid), tb)
            rows.extend((t, b) for b in tb if b.doc_text or b.doc_signature)
        texts = [b.doc_text for _, b in rows if b.doc_text]
        for lo in range(0, len(texts), DOC_CHUNK):  # pass 1: region-wide template counts
            h, _ = sim.shingle_hashes(texts[lo : lo + DOC_CHUNK])
            idx.counter.add(h, len(texts[lo : lo + DOC_CHUNK]))
        idx._index_docs(rows, counted=True)
        return idx

    # ---- evidence helpers ------------------------------------------------------------------------
    def _name(self, f: int) -> str:
        return self.cids.names[f]

    def _tnames(self, ts: Iterable[int]) -> list[str]:
        return [self.tids.names[t] for t in ts if t >= 0]

    def _attr_evidence(self, vid: int, x: int, y: int, tenders: Iterable[int] | None = None) -> Evidence:
        kind, value = self._val_key[vid]
        firms = self._val_firms[vid]
        ts = tenders if tenders is not None else (*firms.get(x, ()), *firms.get(y, ()))
        detail: dict[str, object] = {}
        weight = None
        if kind is K.SHARED_SHAREHOLDER:
            px, py = self._share(x, value), self._share(y, value)
            detail["shares"] = f"{px:g}% / {py:g}%"
            if min(px, py) >= self.params.control_pct:
                weight = 0.6  # common controller; still soft, see evidence.SPECS
        return make_evidence(
            kind,
            self._name(x),
            self._name(y),
            value,
            self._tnames(ts),
            detail,
            firms=len(firms),
            nat_threshold=self.params.nat_threshold,
            weight=weight,
        )

    def _share(self, f: int, holder: str) -> float:
        return sum(s.share_pct for s in self.companies[self._name(f)].shareholders if s.holder == holder)

    def _control(self, x: int, y: int) -> Evidence | None:
        cx, cy = self.companies[self._name(x)], self.companies[self._name(y)]
        for parent, child in ((cx, cy), (cy, cx)):
            pct = self._share(self.cids.intern(child.company_id), parent.company_id)
            if child.parent_id == parent.company_id or pct >= self.params.control_pct:
                how = f"{parent.company_id} → {child.company_id}" + (f" {pct:g}%" if pct else "")
                return make_evidence(K.CONTROL_LINK, parent.company_id, child.company_id, how, ordered=True)
        return None

    def _popular(self, vid: int) -> bool:
        kind, _ = self._val_key[vid]
        n = len(self._val_firms[vid])
        return n > self.params.enum_cap or (SPECS[kind].demotable and n > self.params.nat_threshold)

    # ---- batch -----------------------------------------------------------------------------------
    def evidence(self) -> list[Evidence]:
        """All evidence in the region (batch)."""
        out: list[Evidence] = []
        for vid, firms in enumerate(self._val_firms):
            if len(firms) < 2:
                continue
            if not self._popular(vid):
                for x, y in itertools.combinations(sorted(firms), 2):
                    out.append(self._attr_evidence(vid, x, y))
                continue
            by_t: dict[int, list[int]] = defaultdict(list)
            for f, ts in firms.items():
                for t in self._firm_tenders[f] if REGISTRY in ts else ts:
                    by_t[t].append(f)
            pairs: dict[tuple[int, int], list[int]] = defaultdict(list)
            for t, fs in by_t.items():
                for x, y in itertools.combinations(sorted(set(fs)), 2):
                    pairs[(x, y)].append(t)
            out.extend(self._attr_evidence(vid, x, y, ts) for (x, y), ts in pairs.items())
        out.extend(self._control_batch())
        out.extend(self._cobid_batch())
        out.extend(self._docs_batch())
        out.extend(self._mixed_evidence(self._mixed))
        return out

    def _control_batch(self) -> list[Evidence]:
        out = []
        for c in self.companies.values():
            x = self.cids.intern(c.company_id)
            parents = {c.parent_id} | {
                s.holder for s in c.shareholders if s.share_pct >= self.params.control_pct
            }
            for p in sorted(parents - {"", c.company_id}):
                if p in self.cids and (e := self._control(x, self.cids.intern(p))) is not None:
                    out.append(e)
        return out

    def _columns(self) -> tuple[cb.I64, cb.I64, cb.F64, cb.B]:
        return (
            np.asarray(self._b_tender, np.int64),
            np.asarray(self._b_bidder, np.int64),
            np.asarray(self._b_price, np.float64),
            np.asarray(self._b_win, np.bool_),
        )

    def _n_bids(self) -> cb.I64:
        return np.fromiter((len(ts) for ts in self._firm_tenders), np.int64, count=len(self._firm_tenders))

    def _cobid_batch(self) -> list[Evidence]:
        p = self.params.cobid
        tender, bidder, price, win = self._columns()
        stats = cb.pair_stats(tender, bidder, win, p.max_tender_size)
        n = self._n_bids()
        out: list[Evidence] = []
        a_cov, b_cov = cb.cover(stats.co, n[stats.a], n[stats.b], stats.wins_a, stats.wins_b, p)
        for i in np.flatnonzero(a_cov | b_cov).tolist():
            x, y = int(stats.a[i]), int(stats.b[i])
            winner, loser = (y, x) if a_cov[i] else (x, y)
            out.append(self._cover_evidence(winner, loser))
        for g in cb.rotation_groups(stats, n, tender, bidder, win, p):
            out.extend(self._rotation_evidence(g))
        out.extend(self._step_evidence(cb.price_steps(tender, bidder, price, p)))
        return out

    def _joint(self, x: int, y: int) -> list[int]:
        return sorted(set(self._firm_tenders[x]) & set(self._firm_tenders[y]))

    def _cover_evidence(self, winner: int, loser: int) -> Evidence:
        joint = self._joint(winner, loser)
        wins = sum(1 for t in joint if self._tender_winner.get(t) == winner)
        return make_evidence(
            K.COVER_BIDDING,
            self._name(winner),
            self._name(loser),
            f"{len(joint)}/{wins}",
            self._tnames(joint),
            {"co": len(joint), "wins": wins},
            ordered=True,
        )

    def _rotation_evidence(self, g: cb.RotationGroup) -> list[Evidence]:
        names = sorted(self._name(m) for m in g.members)
        label = "{" + ", ".join(names) + "}"
        wins = ", ".join(f"{self._name(m)}:{w}" for m, w in g.wins)
        ts = self._tnames(g.tenders)
        return [
            make_evidence(K.BID_ROTATION, a, b, label, ts, {"joint": len(g.tenders), "wins": wins})
            for a, b in itertools.combinations(names, 2)
        ]

    def _step_evidence(self, steps: Iterable[cb.PriceStep]) -> list[Evidence]:
        out = []
        for s in steps:
            for x, y in itertools.combinations(s.bidders, 2):
                if x != y:
                    out.append(
                        make_evidence(
                            K.REGULAR_PRICE_STEPS,
                            self._name(x),
                            self._name(y),
                            s.description,
                            self._tnames([s.tender]),
                        )
                    )
        return out

    def _doc_evidence(self, found: Mapping[tuple[int, int], tuple[float, set[int]]]) -> list[Evidence]:
        return [
            make_evidence(K.NEAR_IDENTICAL_DOC, self._name(x), self._name(y), f"{s:.2f}", self._tnames(ts))
            for (x, y), (s, ts) in found.items()
        ]

    def _docs_batch(self) -> list[Evidence]:
        sig, own, ten = self.docs.arrays()
        pairs = sim.candidate_pairs(sim.band_keys(sig))
        if pairs.size == 0:
            return []
        i, j = pairs[:, 0], pairs[:, 1]
        diff = own[i] != own[j]
        i, j = i[diff], j[diff]
        sims = (sig[i] == sig[j]).mean(axis=1)
        ok = sims >= self.params.doc_threshold
        found: dict[tuple[int, int], tuple[float, set[int]]] = {}
        for a, b, s in zip(i[ok].tolist(), j[ok].tolist(), sims[ok].tolist(), strict=True):
            x, y = sorted((int(own[a]), int(own[b])))
            best, ts = found.get((x, y), (0.0, set()))
            found[(x, y)] = (max(best, s), ts | {int(ten[a]), int(ten[b])})
        return self._doc_evidence(found)

    def _mixed_evidence(self, hits: Mapping[int, list[tuple[int, int, str]]]) -> list[Evidence]:
        return [
            make_evidence(
                K.MIXED_DOCUMENTS, self._name(x), self._name(y), what, self._tnames([t]), ordered=True
            )
            for t, lst in hits.items()
            for x, y, what in lst
        ]

    def graph(self) -> nx.Graph:
        return graph_from_evidence(self.evidence(), self.companies)

    # ---- incremental -----------------------------------------------------------------------------
    def check_tender(self, tender_id: str) -> list[Evidence]:
        """Evidence between the bidders of one (already added) tender, using the whole history."""
        t = self.tids.get(tender_id)
        if t is None:
            raise KeyError(tender_id)
        bidders = sorted(self._tender_bidders.get(t, []))
        out: list[Evidence] = []
        for x, y in itertools.combinations(bidders, 2):
            for vid in sorted(self._firm_vals[x] & self._firm_vals[y]):
                ts = None
                if self._popular(vid):
                    ts = [t]  # infrastructure: only this tender links them
                out.append(self._attr_evidence(vid, x, y, ts))
            if (e := self._control(x, y)) is not None:
                out.append(e)
        out.extend(self._cobid_check(bidders))
        out.extend(self._step_check(t))
        out.extend(self._docs_check(t, bidders))
        out.extend(self._mixed_evidence({t: self._mixed.get(t, [])}))
        return out

    def _step_check(self, t: int) -> list[Evidence]:
        rows = self._tender_rows.get(t, [])
        tender = np.full(len(rows), t, np.int64)
        bidder = np.fromiter((self._b_bidder[r] for r in rows), np.int64, count=len(rows))
        price = np.fromiter((self._b_price[r] for r in rows), np.float64, count=len(rows))
        return self._step_evidence(cb.price_steps(tender, bidder, price, self.params.cobid))

    def _cobid_check(self, bidders: list[int]) -> list[Evidence]:
        p = self.params.cobid
        out: list[Evidence] = []
        freq: list[tuple[int, int]] = []
        for x, y in itertools.combinations(bidders, 2):
            joint = self._joint(x, y)
            co = np.array([len(joint)])
            nx_, ny_ = np.array([len(self._firm_tenders[x])]), np.array([len(self._firm_tenders[y])])
            wx = np.array([sum(1 for t in joint if self._tender_winner.get(t) == x)])
            wy = np.array([sum(1 for t in joint if self._tender_winner.get(t) == y)])
            x_cov, y_cov = cb.cover(co, nx_, ny_, wx, wy, p)
            if x_cov[0]:
                out.append(self._cover_evidence(y, x))
            elif y_cov[0]:
                out.append(self._cover_evidence(x, y))
            if cb.frequent(co, nx_, ny_, p)[0]:
                freq.append((x, y))
        # Rotation among this tender's bidders: components of the frequent pairs, then the same test.
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
        for members in groups.values():
            if not 2 <= len(members) <= p.rotation_max_group or not any(
                find(x) == find(members[0]) for x, _ in freq
            ):
                continue
            count: dict[int, int] = defaultdict(int)
            for m in members:
                for tt in self._firm_tenders[m]:
                    count[tt] += 1
            joint_t = sorted(tt for tt, c in count.items() if c >= 2)
            wins = {m: 0 for m in members}
            for tt in joint_t:
                w = self._tender_winner.get(tt)
                if w in wins:
                    wins[w] += 1
            if cb.is_rotation(len(joint_t), wins, len(members), p):
                out.extend(
                    self._rotation_evidence(
                        cb.RotationGroup(tuple(members), tuple(joint_t), tuple(wins.items()))
                    )
                )
        return out

    def _docs_check(self, t: int, bidders: list[int]) -> list[Evidence]:
        sig, own, _ = self.docs.arrays()
        found: dict[tuple[int, int], tuple[float, set[int]]] = {}
        for r in self.docs.by_tender.get(t, []):
            others = [b for b in bidders if b != own[r]]
            for o, tt, s in self.docs.query(sig[r], self.params.doc_threshold, others):
                x, y = sorted((int(own[r]), o))
                best, ts = found.get((x, y), (0.0, set()))
                found[(x, y)] = (max(best, s), ts | {t, tt})
        return self._doc_evidence(found)


def build_graph(
    companies: Iterable[CompanyRecord],
    bids: Iterable[BidRecord],
    tenders: Iterable[TenderRecord] = (),
    params: GraphParams | None = None,
) -> nx.Graph:
    """Batch: the evidence graph of a whole region."""
    return GraphIndex.from_records(companies, bids, tenders, params).graph()


def graph_from_evidence(
    evidence: Iterable[Evidence], companies: Mapping[str, CompanyRecord] | None = None
) -> nx.Graph:
    """Nodes = companies with evidence; one edge per pair carrying its items, score, level and kinds."""
    by_pair: dict[tuple[str, str], list[Evidence]] = defaultdict(list)
    for e in evidence:
        if e.a != e.b:
            by_pair[e.pair].append(e)
    g = nx.Graph()
    for (a, b), items in by_pair.items():
        s = score_edge(items)
        g.add_edge(a, b, evidence=items, weight=s.score, level=s.level, hard=s.hard, kinds=list(s.kinds))
    for n in g.nodes:
        c = (companies or {}).get(n)
        g.nodes[n]["name"] = c.name if c else ""
        g.nodes[n]["credit_code"] = c.credit_code if c else ""
    return g


@dataclass(frozen=True, slots=True)
class SuspectGroup:
    group_id: int
    members: tuple[str, ...]
    level: Level
    hard: bool
    score: float  # strongest internal edge
    kinds: tuple[EvidenceKind, ...]


_RANK = {Level.HIGH: 2, Level.MEDIUM: 1, Level.LOW: 0}


def suspect_groups(g: nx.Graph, *, seed: int = 0, min_weight: float = 0.3) -> list[SuspectGroup]:
    """Louvain communities (seeded) over edges of at least min_weight; a hard-evidence component is never
    split across groups (communities touching one are merged)."""
    h = nx.Graph()
    h.add_edges_from((a, b, d) for a, b, d in g.edges(data=True) if d["hard"] or d["weight"] >= min_weight)
    if h.number_of_edges() == 0:
        return []
    comms = nx.community.louvain_communities(h, weight="weight", seed=seed)
    owner = {n: i for i, c in enumerate(comms) for n in c}
    root = list(range(len(comms)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for a, b, d in h.edges(data=True):
        if d["hard"]:
            root[find(owner[a])] = find(owner[b])
    merged: dict[int, set[str]] = defaultdict(set)
    for n, i in owner.items():
        merged[find(i)].add(n)
    out: list[SuspectGroup] = []
    for members in merged.values():
        if len(members) < 2:
            continue
        edges = [d for _, _, d in h.subgraph(members).edges(data=True)]
        if not edges:
            continue
        level = max((d["level"] for d in edges), key=_RANK.__getitem__)
        kinds = sorted({k for d in edges for k in d["kinds"]})
        out.append(
            SuspectGroup(
                0,
                tuple(sorted(members)),
                level,
                any(d["hard"] for d in edges),
                max(d["weight"] for d in edges),
                tuple(kinds),
            )
        )
    out.sort(key=lambda s: (-_RANK[s.level], -s.score, -len(s.members), s.members))
    return [SuspectGroup(i + 1, s.members, s.level, s.hard, s.score, s.kinds) for i, s in enumerate(out)]


def graph_view(g: nx.Graph, groups: Sequence[SuspectGroup] | None = None) -> dict[str, object]:
    """JSON-able view for the web UI: nodes, edges with their evidence (explained), groups."""
    group_of = {m: s.group_id for s in groups or () for m in s.members}
    nodes = [
        {
            "id": n,
            "name": d.get("name", ""),
            "credit_code": d.get("credit_code", ""),
            "group": group_of.get(n),
            "degree": g.degree(n),
        }
        for n, d in sorted(g.nodes(data=True))
    ]
    edges = [
        {
            "source": a,
            "target": b,
            "weight": round(d["weight"], 4),
            "level": d["level"].value,
            "hard": d["hard"],
            "kinds": [k.value for k in d["kinds"]],
            "evidence": [e.to_json() for e in d["evidence"]],
        }
        for a, b, d in sorted(g.edges(data=True), key=lambda x: (x[0], x[1]))
    ]
    gs = [
        {
            "id": s.group_id,
            "members": list(s.members),
            "level": s.level.value,
            "hard": s.hard,
            "score": round(s.score, 4),
            "kinds": [k.value for k in s.kinds],
        }
        for s in groups or ()
    ]
    return {"nodes": nodes, "edges": edges, "groups": gs}


__all__ = [
    "GraphIndex",
    "GraphParams",
    "SuspectGroup",
    "build_graph",
    "graph_from_evidence",
    "graph_view",
    "suspect_groups",
]
