"""Evidence graph over bidder companies: batch build, incremental per-tender check.

Shared attributes are found through an inverted index keyed by the attribute value (value -> firms ->
tenders), never by comparing companies pairwise. A value used by more firms than the infrastructure
threshold only links firms that used it in the same tender (see evidence.make_evidence for the rule).

Storage is columnar (collusion.graph_store): bids and (value, firm, tender) observations are numpy
arrays, ingested a column at a time (collusion.columns), so a region of millions of bids loads in
seconds and a few hundred MB; only values shared by several firms ever become Python objects.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import numpy.typing as npt

from collusion import cobidding as cb
from collusion import similarity as sim
from collusion.bulk import paused_gc
from collusion.columns import BidColumns
from collusion.evidence import SPECS, Evidence, EvidenceKind, make_evidence
from collusion.graph_store import REGISTRY, FirmTenders, Growable, Observations
from collusion.groups import SuspectGroup, graph_from_evidence, graph_view, suspect_groups
from collusion.records import BidRecord, CompanyRecord, Interner, TenderRecord

K = EvidenceKind
DOC_CHUNK = 20_000  # documents hashed per numpy pass
INGEST_CHUNK = 1 << 18  # bids turned into observations per pass (bounds the temporary arrays)
FREEZE_PENDING = 2_000_000  # incremental observations kept unsorted before they are merged in


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
I64 = npt.NDArray[np.int64]
DocRow = tuple[int, int, str, tuple[int, ...]]  # tender, firm, text, precomputed signature


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
        # Per kind: value -> value id; "" (no value) maps to -1 so lookups need no special case.
        self._val_ids: list[dict[str, int]] = [{"": -1} for _ in _KIND]
        self._val_kind: list[int] = []
        self._val_str: list[str] = []
        self.obs = Observations()
        self._ft = FirmTenders()
        # Bid columns, and per tender its rows (a range, plus rows of later additions) and winner.
        self._b_tender = Growable(np.int64)
        self._b_bidder = Growable(np.int64)
        self._b_price = Growable(np.float64)
        self._b_win = Growable(np.bool_)
        self._t_start = Growable(np.int64, -1)
        self._t_count = Growable(np.int64)
        self._t_winner = Growable(np.int64, -1)
        self._more_rows: dict[int, list[int]] = {}
        self._mixed: dict[int, list[tuple[int, int, str]]] = {}
        self.docs = sim.SignatureIndex()
        self.counter = sim.ShingleCounter(self.params.template_min_docs, self.params.template_frac)
        self.add_companies(companies)

    # ---- interning -------------------------------------------------------------------------------
    def _cids_of(self, names: Sequence[str]) -> I64:
        before = len(self.cids)
        out = np.asarray(self.cids.intern_many(names), np.int64)
        for name in self.cids.names[before:]:
            self.companies.setdefault(name, CompanyRecord(name))
        return out

    def _vids(self, code: int, values: Sequence[str]) -> I64:
        """Value ids of one kind's values ("" -> -1), creating ids for values not seen before."""
        ids = self._val_ids[code]
        new = [v for v in dict.fromkeys(values) if v not in ids]
        if new:
            base = len(self._val_str)
            ids.update(zip(new, range(base, base + len(new)), strict=True))
            self._val_str.extend(new)
            self._val_kind.extend([code] * len(new))
            self.obs.new_values(len(new))
        return np.fromiter(map(ids.__getitem__, values), np.int64, len(values))

    def _tenders_of(self, ids: Sequence[str], records: Mapping[str, TenderRecord | str]) -> I64:
        """Intern tender ids, keeping the records of new ones (per-tender arrays grow to match)."""
        before = len(self.tids)
        out = np.asarray(self.tids.intern_many(ids), np.int64)
        n = len(self.tids)
        self._t_start.grow_to(n, -1)
        self._t_count.grow_to(n, 0)
        self._t_winner.grow_to(n, -1)
        for t, tid in enumerate(self.tids.names[before:], start=before):
            rec = records.get(tid)
            if isinstance(rec, TenderRecord):
                self.tenders[t] = rec
        return out

    def _tender(self, tender: TenderRecord | str) -> int:
        t = int(self._tenders_of([tender if isinstance(tender, str) else tender.tender_id], {})[0])
        if not isinstance(tender, str):
            self.tenders[t] = tender
        return t

    # ---- ingestion -------------------------------------------------------------------------------
    def add_company(self, c: CompanyRecord) -> None:
        self.add_companies([c])

    def add_companies(self, companies: Iterable[CompanyRecord]) -> None:
        vals: list[list[str]] = [[] for _ in _KIND]
        where: list[list[int]] = [[] for _ in _KIND]  # position of each value in note order
        firms: list[int] = []
        cs = list(companies)
        for f, c in zip(self._cids_of([c.company_id for c in cs]).tolist(), cs, strict=True):
            self.companies[c.company_id] = c
            for code, value in _company_values(c):
                vals[code].append(value)
                where[code].append(len(firms))
                firms.append(f)
        vid = np.full(len(firms), -1, np.int64)
        for code, vs in enumerate(vals):
            if vs:
                vid[where[code]] = self._vids(code, vs)
        self.obs.add(vid, np.asarray(firms, np.int64), np.full(len(firms), REGISTRY, np.int64))

    def add_tender(self, tender: TenderRecord | str, bids: Sequence[BidRecord]) -> int:
        """Register one tender with its bids (documents hashed against the region's templates so far)."""
        tid = tender if isinstance(tender, str) else tender.tender_id
        t = self._tender(tender)
        cols = BidColumns.from_records(bids, group=False)
        self._index_docs(self._ingest(cols, {tid: tender}))
        if self.obs.n_pending > FREEZE_PENDING:
            self.freeze()
        return t

    def _ingest(self, cols: BidColumns, tenders: Mapping[str, TenderRecord | str]) -> list[DocRow]:
        """Append bids (grouped by tender); returns the rows with documents, still to be indexed."""
        n = len(cols)
        row0 = len(self._b_tender)
        tcode = self._tenders_of(cols.tender, tenders)
        lo_run = np.flatnonzero(np.r_[True, tcode[1:] != tcode[:-1]]) if n else np.zeros(0, np.int64)
        hi_run = np.r_[lo_run[1:], n]
        start, count = self._t_start.view, self._t_count.view
        run_t = tcode[lo_run]
        if np.unique(run_t).size == run_t.size and (start[run_t] < 0).all():  # the usual case
            start[run_t], count[run_t] = row0 + lo_run, hi_run - lo_run
        else:
            for t, lo, hi in zip(run_t.tolist(), lo_run.tolist(), hi_run.tolist(), strict=True):
                if start[t] < 0:
                    start[t], count[t] = row0 + lo, hi - lo
                else:
                    self._more_rows.setdefault(t, []).extend(range(row0 + lo, row0 + hi))
        fcode = self._cids_of(cols.bidder)
        self._b_tender.extend(tcode)
        self._b_bidder.extend(fcode)
        self._b_price.extend(cols.price)
        self._b_win.extend(cols.winner)
        for r in np.flatnonzero(cols.winner).tolist():  # in row order: the last winner of a tender stays
            self._t_winner.view[tcode[r]] = fcode[r]
        for lo in range(0, n, INGEST_CHUNK):
            self._observe(cols, tcode, fcode, lo, min(n, lo + INGEST_CHUNK))
        return self._documents(cols, tcode, fcode)

    def _observe(self, cols: BidColumns, tcode: I64, fcode: I64, lo: int, hi: int) -> None:
        """Note the attribute values of bids lo..hi, bid by bid in a fixed slot order (the note order)."""
        pm, ct, er = cols.project_managers, cols.contacts, cols.errors
        pm_lo, ct_lo, er_lo = (int(m.counts[:lo].sum()) for m in (pm, ct, er))
        npm, nct, ner = pm.counts[lo:hi], ct.counts[lo:hi], er.counts[lo:hi]
        slots = 5 + int((npm + nct + ner).max(initial=0))
        grid = np.full((hi - lo, slots), -1, np.int64)
        for j, (code, col) in enumerate(
            (
                (_IP, cols.ip),
                (_DEV, cols.device),
                (_BOND, cols.bond),
                (_AGENT, cols.agent),
                (_META, cols.meta),
            )
        ):
            grid[:, j] = self._vids(code, col[lo:hi])
        before = np.zeros(hi - lo, np.int64)  # list slots already used in each bid
        for code, m, counts, first in (
            (_PM, pm, npm, pm_lo),
            (_CONTACT, ct, nct, ct_lo),
            (_ERR, er, ner, er_lo),
        ):
            k = int(counts.sum())
            if k:
                rows = np.repeat(np.arange(hi - lo), counts)
                within = np.arange(k) - np.repeat(np.cumsum(counts) - counts, counts)
                grid[rows, 5 + before[rows] + within] = self._vids(code, m.values[first : first + k])
            before += counts
        self.obs.add(grid.ravel(), np.repeat(fcode[lo:hi], slots), np.repeat(tcode[lo:hi], slots))

    def _documents(self, cols: BidColumns, tcode: I64, fcode: I64) -> list[DocRow]:
        """Mixed-up documents (a bid naming another bidder of its tender) and the rows to hash."""
        if cols.doc_text is None or cols.doc_signature is None:
            return []
        texts, sigs = cols.doc_text, cols.doc_signature
        rows: list[DocRow] = []
        for _, lo, hi in cols.runs():
            if not any(texts[lo:hi]) and not any(sigs[lo:hi]):
                continue
            t = int(tcode[lo])
            others = [(cols.bidder[i], self.companies[cols.bidder[i]]) for i in range(lo, hi)]
            for i in range(lo, hi):
                if texts[i]:
                    cand = [(o, c.name, c.credit_code) for o, c in others if o != cols.bidder[i]]
                    for other, what in sim.mixed_document_hits(texts[i], cand):
                        self._mixed.setdefault(t, []).append((int(fcode[i]), self.cids.intern(other), what))
                if texts[i] or sigs[i]:
                    rows.append((t, int(fcode[i]), texts[i], sigs[i]))
        return rows

    def _index_docs(self, rows: Sequence[DocRow], *, counted: bool = False) -> None:
        """Hash documents in chunks (bounded memory); `counted`: the template counter already saw them."""
        given = [(t, f, sig) for t, f, text, sig in rows if sig and not text]
        if given:
            sig = np.array([s for _, _, s in given], dtype=np.uint32)
            self.docs.add(sig, (f for _, f, _ in given), (t for t, _, _ in given))
        texts = [(t, f, text) for t, f, text, _ in rows if text]
        for lo in range(0, len(texts), DOC_CHUNK):
            chunk = texts[lo : lo + DOC_CHUNK]
            ttext = [self.tenders[t].doc_text if t in self.tenders else "" for t, _, _ in chunk]
            batch = sim.doc_signatures([x for _, _, x in chunk], self.counter, ttext, update=not counted)
            keep = np.flatnonzero(batch.comparable).tolist()
            self.docs.add(batch.sig[keep], (chunk[i][1] for i in keep), (chunk[i][0] for i in keep))

    @classmethod
    def from_records(
        cls,
        companies: Iterable[CompanyRecord],
        bids: Iterable[BidRecord],
        tenders: Iterable[TenderRecord] = (),
        params: GraphParams | None = None,
    ) -> GraphIndex:
        """Batch load: documents are hashed in one pass after the template counts cover the whole region."""
        with paused_gc():
            cols = BidColumns.from_records(list(bids))
        return cls.from_columns(companies, cols, tenders, params)

    @classmethod
    def from_columns(
        cls,
        companies: Iterable[CompanyRecord],
        bids: BidColumns,
        tenders: Iterable[TenderRecord] = (),
        params: GraphParams | None = None,
    ) -> GraphIndex:
        """Batch load of bids already in columns (grouped by tender)."""
        with paused_gc():
            idx = cls(companies, params)
            rows = idx._ingest(bids, {t.tender_id: t for t in tenders})
            texts = [text for _, _, text, _ in rows if text]
            for lo in range(0, len(texts), DOC_CHUNK):  # pass 1: region-wide template counts
                h, _ = sim.shingle_hashes(texts[lo : lo + DOC_CHUNK])
                idx.counter.add(h, len(texts[lo : lo + DOC_CHUNK]))
            idx._index_docs(rows, counted=True)
            idx.freeze()
        return idx

    def freeze(self) -> None:
        """Sort everything noted so far into the indices (queries stay correct without it, just slower)."""
        n_firms = len(self.cids)
        self.obs.freeze(n_firms)
        self._ft.freeze(self._b_bidder.view, self._b_tender.view, n_firms)

    # ---- per tender and per firm -----------------------------------------------------------------
    def tender_rows(self, t: int) -> I64:
        """Bid rows of a tender, in the order they were added."""
        s = int(self._t_start.view[t])
        rows = np.arange(s, s + int(self._t_count.view[t])) if s >= 0 else np.zeros(0, np.int64)
        more = self._more_rows.get(t)
        return np.concatenate([rows, np.asarray(more, np.int64)]) if more else rows

    def tender_bidders(self, t: int) -> list[int]:
        """Distinct bidders of a tender in the order of their first bid."""
        return list(dict.fromkeys(self._b_bidder.view[self.tender_rows(t)].tolist()))

    def firm_tenders(self, f: int) -> list[int]:
        """Distinct tenders a firm bid in (ascending, i.e. in the order they were added)."""
        return self._ft.of(f, self._b_bidder.view, self._b_tender.view)

    def columns(self) -> tuple[cb.I64, cb.I64, cb.F64, cb.B]:
        """All bids: tender, bidder, price, winner flag (views; do not modify)."""
        return self._b_tender.view, self._b_bidder.view, self._b_price.view, self._b_win.view

    @property
    def tender_winners(self) -> I64:
        """Winning firm per tender (-1: none flagged)."""
        return self._t_winner.view

    def _n_bids(self) -> cb.I64:
        return self._ft.counts(self._b_bidder.view, self._b_tender.view, len(self.cids))

    def _joint(self, x: int, y: int) -> list[int]:
        return sorted(set(self.firm_tenders(x)) & set(self.firm_tenders(y)))

    # ---- evidence helpers ------------------------------------------------------------------------
    def _name(self, f: int) -> str:
        return self.cids.names[f]

    def _tnames(self, ts: Iterable[int]) -> list[str]:
        return [self.tids.names[t] for t in ts if t >= 0]

    def _attr_evidence(self, vid: int, x: int, y: int, tenders: Iterable[int], n_firms: int) -> Evidence:
        kind, value = _KIND[self._val_kind[vid]], self._val_str[vid]
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
            self._tnames(tenders),
            detail,
            firms=n_firms,
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

    def _popular(self, vid: int, n_firms: int) -> bool:
        kind = _KIND[self._val_kind[vid]]
        return n_firms > self.params.enum_cap or (
            SPECS[kind].demotable and n_firms > self.params.nat_threshold
        )

    # ---- batch -----------------------------------------------------------------------------------
    def evidence(self) -> list[Evidence]:
        """All evidence in the region (batch)."""
        if self.obs.n_pending:
            self.freeze()
        out: list[Evidence] = []
        for vid in self.obs.shared_values(2).tolist():
            firms = self.obs.firm_tenders(vid)
            n = len(firms)
            if not self._popular(vid, n):
                for x, y in itertools.combinations(sorted(firms), 2):
                    out.append(self._attr_evidence(vid, x, y, (*firms[x], *firms[y]), n))
                continue
            by_t: dict[int, list[int]] = defaultdict(list)
            for f, ts in firms.items():
                for t in self.firm_tenders(f) if REGISTRY in ts else ts:
                    by_t[t].append(f)
            pairs: dict[tuple[int, int], list[int]] = defaultdict(list)
            for t, fs in by_t.items():
                for x, y in itertools.combinations(sorted(set(fs)), 2):
                    pairs[(x, y)].append(t)
            out.extend(self._attr_evidence(vid, x, y, ts, n) for (x, y), ts in pairs.items())
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

    def _cobid_batch(self) -> list[Evidence]:
        p = self.params.cobid
        tender, bidder, price, win = self.columns()
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

    def _cover_evidence(self, winner: int, loser: int) -> Evidence:
        joint = self._joint(winner, loser)
        won = self._t_winner.view
        wins = sum(1 for t in joint if won[t] == winner)
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
        bidders = sorted(self.tender_bidders(t))
        vals = {b: self.obs.firm_values(b) for b in bidders}
        first = self.obs.first_seq.view
        out: list[Evidence] = []
        for x, y in itertools.combinations(bidders, 2):
            for vid in sorted(vals[x] & vals[y], key=first.__getitem__):
                n = self.obs.n_firms(vid)
                if self._popular(vid, n):
                    ts: Sequence[int] = [t]  # infrastructure: only this tender links them
                else:
                    firms = self.obs.firm_tenders(vid)
                    ts = (*firms.get(x, ()), *firms.get(y, ()))
                out.append(self._attr_evidence(vid, x, y, ts, n))
            if (e := self._control(x, y)) is not None:
                out.append(e)
        out.extend(self._cobid_check(bidders))
        out.extend(self._step_check(t))
        out.extend(self._docs_check(t, bidders))
        out.extend(self._mixed_evidence({t: self._mixed.get(t, [])}))
        return out

    def _step_check(self, t: int) -> list[Evidence]:
        rows = self.tender_rows(t)
        tender = np.full(rows.size, t, np.int64)
        bidder, price = self._b_bidder.view[rows], self._b_price.view[rows]
        return self._step_evidence(cb.price_steps(tender, bidder, price, self.params.cobid))

    def _cobid_check(self, bidders: list[int]) -> list[Evidence]:
        ftenders = {b: self.firm_tenders(b) for b in bidders}
        covers, rotations = cb.among_bidders(bidders, ftenders, self._t_winner.view, self.params.cobid)
        out = [self._cover_evidence(winner, loser) for winner, loser in covers]
        for g in rotations:
            out.extend(self._rotation_evidence(g))
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


__all__ = [
    "GraphIndex",
    "GraphParams",
    "SuspectGroup",
    "build_graph",
    "graph_from_evidence",
    "graph_view",
    "suspect_groups",
]
