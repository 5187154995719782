"""Seeded synthetic region: honest firms, injected cartels of every evidence kind, honest look-alikes.

Honest firms live in market segments and bid on tenders of their segment; prices are the estimate
times a log-normal factor (firm efficiency plus noise, a few per cent of dispersion); the lowest price
wins. Cartels are extra firms that only bid in their cartel tenders (with one or two honest
outsiders), each cartel carrying one kind of evidence (ground truth per cartel and per kind).
Look-alikes are honest firms behind one office NAT IP and honest firms using one widely circulated
public template (with its metadata and a built-in arithmetic error): they must not reach "high" on
soft evidence alone.

``generate_columns`` draws the same region (same random stream) but keeps the honest bids as columns
(collusion.columns.BidColumns) instead of one record per bid: a region of millions of bids then fits
in a fraction of the memory, for the region-scale benchmark.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np

from collusion import similarity as sim
from collusion.columns import BidColumns, Multi, meta_value
from collusion.evidence import EvidenceKind
from collusion.records import (
    BidRecord,
    CompanyRecord,
    DocumentMeta,
    LineItem,
    Shareholder,
    TenderRecord,
    credit_code_check_char,
)

K = EvidenceKind
CARTEL_KINDS: tuple[EvidenceKind, ...] = tuple(K)
_CODE_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True, slots=True)
class RegionSpec:
    n_tenders: int = 1500
    n_firms: int = 600
    n_segments: int = 15
    bidders: tuple[int, int] = (3, 8)
    cartels_per_kind: int = 1
    cartel_size: tuple[int, int] = (2, 4)
    cartel_tenders: int = 6
    nat_firms: int = 12
    template_firms: int = 25
    with_docs: bool = True
    doc_chars: int = 80  # firm-authored characters per bid (plus firm style, tender quote, template)
    seed: int = 0
    start: dt.date = dt.date(2023, 1, 1)
    days: int = 730
    kinds: tuple[EvidenceKind, ...] = CARTEL_KINDS


@dataclass(frozen=True, slots=True)
class InjectedCartel:
    cartel_id: str
    kind: EvidenceKind
    members: tuple[str, ...]
    tenders: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # sorted pairs the kind links (a star for control / mixed documents)


@dataclass(frozen=True, slots=True)
class LookAlike:
    kind: EvidenceKind
    members: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class SyntheticRegion:
    companies: list[CompanyRecord]
    tenders: list[TenderRecord]
    bids: list[BidRecord]
    cartels: list[InjectedCartel]
    lookalikes: list[LookAlike]
    truth: dict[tuple[str, str], set[EvidenceKind]] = field(default_factory=dict)


class _Text:
    """Random CJK text, fast: one big block of code points sliced per call."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self, n: int) -> str:
        cps = self.rng.integers(0x4E00, 0x4E00 + 3000, size=n, dtype=np.uint32)
        return cps.tobytes().decode("utf-32-le")

    def mutate(self, text: str, rate: float) -> str:
        chars = list(text)
        for i in np.flatnonzero(self.rng.random(len(chars)) < rate).tolist():
            chars[i] = self(1)
        return "".join(chars)


def _credit_code(rng: np.random.Generator) -> str:
    body = "91" + "".join(str(d) for d in rng.integers(0, 10, 6)) + "".join(rng.choice(list(_CODE_BODY), 9))
    return body + credit_code_check_char(body)


def _firm(fid: str, rng: np.random.Generator) -> CompanyRecord:
    return CompanyRecord(
        company_id=fid,
        name=f"{fid}建设工程有限公司",
        credit_code=_credit_code(rng),
        legal_rep=f"P-{fid}-lr",
        shareholders=(Shareholder(f"P-{fid}-s1", 70.0), Shareholder(f"P-{fid}-s2", 30.0)),
        agents=(f"P-{fid}-ag",),
        project_managers=(f"P-{fid}-pm1", f"P-{fid}-pm2"),
        phones=(f"+86-{fid}",),
    )


@dataclass(frozen=True, slots=True)
class SyntheticColumns:
    """The region of ``generate_region`` with its bids as columns (grouped by tender)."""

    companies: list[CompanyRecord]
    tenders: list[TenderRecord]
    bids: BidColumns
    cartels: list[InjectedCartel]
    lookalikes: list[LookAlike]
    truth: dict[tuple[str, str], set[EvidenceKind]] = field(default_factory=dict)


def _run(g: _Gen) -> dict[tuple[str, str], set[EvidenceKind]]:
    g.honest()
    for kind in g.s.kinds:
        for n in range(g.s.cartels_per_kind):
            g.cartel(kind, n)
    truth: dict[tuple[str, str], set[EvidenceKind]] = {}
    for c in g.cartels:
        for p in c.pairs:
            truth.setdefault(p, set()).add(c.kind)
    return truth


def generate_region(spec: RegionSpec | None = None) -> SyntheticRegion:
    g = _Gen(spec or RegionSpec())
    truth = _run(g)
    return SyntheticRegion(list(g.companies.values()), g.tenders, g.bids, g.cartels, g.lookalikes, truth)


def generate_columns(spec: RegionSpec | None = None) -> SyntheticColumns:
    """Same region as ``generate_region(spec)``; honest bids never become records."""
    g = _Gen(spec or RegionSpec(), columns=True)
    truth = _run(g)
    assert g.sink is not None
    bids = g.sink.columns(BidColumns.from_records(g.bids, group=False))
    return SyntheticColumns(list(g.companies.values()), g.tenders, bids, g.cartels, g.lookalikes, truth)


class _ColumnSink:
    """Honest bids as column lists; per-firm strings are made once and shared by all its bids."""

    def __init__(self, with_docs: bool) -> None:
        self.tender: list[str] = []
        self.bidder: list[str] = []
        self.price: list[float] = []
        self.winner: list[bool] = []
        self.meta: list[str] = []
        self.errors: list[tuple[str, ...]] = []
        self.doc_text: list[str] | None = [] if with_docs else None
        self._firm: dict[str, tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]] = {}
        self.firm_fields: list[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]] = []

    def firm(self, f: str, g: _Gen) -> tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]:
        got = self._firm.get(f)
        if got is None:
            c = g.companies[f]
            got = self._firm[f] = (
                g.ip.get(f, f"10.200.0.{len(f)}-{f}"),
                f"dev-{f}",
                f"acct-{f}",
                c.agents[0] if c.agents else "",
                c.project_managers[:1],
                c.phones[:1],
            )
        return got

    def add(self, t: TenderRecord, bids: list[tuple[str, float, _Drawn]], g: _Gen) -> None:
        """One tender's bids; the lowest price wins (first on ties), as ``_Gen.settle``."""
        win = min(range(len(bids)), key=lambda i: bids[i][1])
        for i, (f, price, (meta, items, text)) in enumerate(bids):
            self.tender.append(t.tender_id)
            self.bidder.append(f)
            self.price.append(price)
            self.winner.append(i == win)
            self.meta.append(meta_value(meta))
            self.errors.append(sim.line_item_errors(items, price) if items else ())
            self.firm_fields.append(self.firm(f, g))
            if self.doc_text is not None:
                self.doc_text.append(text)

    def columns(self, cartel: BidColumns) -> BidColumns:
        """The honest bids followed by ``cartel`` (the cartel tenders' bids, made as records)."""
        ip, dev, bond, agent, pms, contacts = (list(x) for x in zip(*self.firm_fields, strict=True))
        own = BidColumns(
            tender=self.tender,
            bidder=self.bidder,
            price=np.asarray(self.price, np.float64),
            winner=np.asarray(self.winner, np.bool_),
            ip=ip,
            device=dev,
            bond=bond,
            agent=agent,
            meta=self.meta,
            project_managers=Multi.of(pms),
            contacts=Multi.of(contacts),
            errors=Multi.of(self.errors),
            doc_text=self.doc_text,
            doc_signature=None if self.doc_text is None else [()] * len(self.tender),
        )
        return BidColumns.concat([own, cartel])


_Drawn = tuple[DocumentMeta, tuple[LineItem, ...], str]  # document metadata, line items, text


class _Gen:
    def __init__(self, spec: RegionSpec, *, columns: bool = False) -> None:
        self.s = spec
        self.sink = _ColumnSink(spec.with_docs) if columns else None
        self.rng = np.random.default_rng(spec.seed)
        self.text = _Text(self.rng)
        self.companies: dict[str, CompanyRecord] = {}
        self.tenders: list[TenderRecord] = []
        self.bids: list[BidRecord] = []
        self.cartels: list[InjectedCartel] = []
        self.lookalikes: list[LookAlike] = []
        n = spec.n_firms
        self.ids = [f"F{i:05d}" for i in range(n)]
        for fid in self.ids:
            self.companies[fid] = _firm(fid, self.rng)
        self.segment = {
            f: int(s) for f, s in zip(self.ids, self.rng.integers(0, spec.n_segments, n), strict=True)
        }
        self.activity = {f: float(a) for f, a in zip(self.ids, self.rng.lognormal(0, 0.6, n), strict=True)}
        self.efficiency = {
            f: float(e) for f, e in zip(self.ids, self.rng.normal(-0.05, 0.02, n), strict=True)
        }
        self.style = {f: self.text(40) for f in self.ids} if spec.with_docs else {}
        self.ip = {f: f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i, f in enumerate(self.ids)}
        # Look-alikes: NAT firms share a segment so they meet in tenders; template firms are disjoint.
        pool = list(self.rng.permutation(self.ids))
        self.nat = set(pool[: spec.nat_firms])
        self.template = set(pool[spec.nat_firms : spec.nat_firms + spec.template_firms])
        for f in self.nat:
            self.segment[f] = 0
            self.ip[f] = "203.0.113.10"
        self.template_text = self.text(400) if spec.with_docs else ""
        self.lookalikes.append(LookAlike(K.SHARED_IP, tuple(sorted(self.nat)), "one office building NAT"))
        self.lookalikes.append(
            LookAlike(
                K.NEAR_IDENTICAL_DOC,
                tuple(sorted(self.template)),
                "public template with its metadata and error",
            )
        )
        self.by_segment: dict[int, list[str]] = {}
        for f in self.ids:
            self.by_segment.setdefault(self.segment[f], []).append(f)

    # ---- building blocks ---------------------------------------------------------------------
    def new_tender(self, segment: int) -> TenderRecord:
        i = len(self.tenders)
        date = self.s.start + dt.timedelta(days=int(self.rng.integers(0, self.s.days)))
        est = float(np.round(self.rng.lognormal(np.log(1e6), 0.8), -2))
        quote = self.text(60) if self.s.with_docs else ""
        t = TenderRecord(f"T{i:06d}", date, f"tenderer-{segment}", est, doc_text=quote)
        self.tenders.append(t)
        return t

    def honest_price(self, f: str, est: float) -> float:
        return round(est * float(np.exp(self.rng.normal(self.efficiency.get(f, -0.05), 0.04))), 2)

    def draw(self, t: TenderRecord, f: str) -> _Drawn:
        """The random parts of one bid: submission time (in the metadata), line items, document text."""
        ts = dt.datetime.combine(t.date, dt.time(9)) + dt.timedelta(
            seconds=int(self.rng.integers(0, 86400 * 5))
        )
        template = f in self.template
        meta = DocumentMeta(f"user-{f}", "BidTool 3.2", ts)
        text = ""
        items: tuple[LineItem, ...] = ()
        if template:
            meta = DocumentMeta("公共资源交易中心", "WPS 2019", dt.datetime(2021, 3, 1, 8, 30))
            items = (LineItem("9.9", 3, 1000.0, 3300.0),)  # the template's own arithmetic error
        elif self.rng.random() < 0.02:
            items = (LineItem(f"{self.rng.integers(1, 99)}", 2, 100.0, float(self.rng.integers(201, 999))),)
        if self.s.with_docs:
            text = (
                t.doc_text
                + (self.template_text if template else "")
                + self.style.get(f, "")
                + self.text(self.s.doc_chars)
            )
        return meta, items, text

    def bid(self, t: TenderRecord, f: str, price: float, **over: object) -> BidRecord:
        meta, items, text = self.draw(t, f)
        c = self.companies[f]
        fields: dict[str, object] = {
            "ip": self.ip.get(f, f"10.200.0.{len(f)}-{f}"),
            "device": f"dev-{f}",
            "bond_account": f"acct-{f}",
            "doc_meta": meta,
            "doc_text": text,
            "line_items": items,
            "agent": c.agents[0] if c.agents else "",
            "project_managers": c.project_managers[:1],
            "contacts": c.phones[:1],
        }
        fields.update(over)
        return BidRecord(t.tender_id, f, price, t.date, False, t.estimate, **fields)  # type: ignore[arg-type]

    def settle(self, bids: list[BidRecord], winner: str | None = None) -> None:
        """Mark the lowest price (or the designated winner) as winner and keep the bids."""
        w = winner or min(bids, key=lambda b: b.price).bidder_id
        for b in bids:
            self.bids.append(b if b.bidder_id != w else _replace_win(b))

    def honest(self) -> None:
        lo, hi = self.s.bidders
        segs = sorted(self.by_segment)
        for _ in range(self.s.n_tenders):
            seg = int(self.rng.choice(segs))
            firms = self.by_segment[seg]
            w = np.array([self.activity[f] for f in firms])
            k = min(len(firms), int(self.rng.integers(lo, hi + 1)))
            chosen = self.rng.choice(len(firms), size=k, replace=False, p=w / w.sum())
            t = self.new_tender(seg)
            assert t.estimate is not None
            if self.sink is not None:  # same draws in the same order as the records below
                drawn = []
                for i in chosen:
                    price = self.honest_price(firms[i], t.estimate)
                    drawn.append((firms[i], price, self.draw(t, firms[i])))
                self.sink.add(t, drawn, self)
                continue
            bids = [self.bid(t, firms[i], self.honest_price(firms[i], t.estimate)) for i in chosen]
            self.settle(bids)

    # ---- cartels -----------------------------------------------------------------------------
    def cartel(self, kind: EvidenceKind, n: int) -> None:
        lo, hi = self.s.cartel_size
        size = int(
            self.rng.integers(max(lo, 3 if kind in (K.BID_ROTATION, K.REGULAR_PRICE_STEPS) else lo), hi + 1)
        )
        if kind is K.COVER_BIDDING:
            size = 2
        cid = f"C-{kind.value}-{n}"
        seg = int(self.rng.integers(0, self.s.n_segments))
        members = [f"{cid}-m{i}" for i in range(size)]
        for m in members:
            self.companies[m] = _firm(m, self.rng)
            self.segment[m] = seg
            self.efficiency[m] = -0.05
            if self.s.with_docs:
                self.style[m] = self.text(40)
        self._registry(kind, cid, members)
        n_t = self.s.cartel_tenders * (size if kind is K.BID_ROTATION else 1)
        tenders = [self.new_tender(seg) for _ in range(n_t)]
        outsiders = self.by_segment.get(seg, []) or self.ids
        shared_text = self.text(self.s.doc_chars + 40) if self.s.with_docs else ""
        for j, t in enumerate(tenders):
            assert t.estimate is not None
            outs = list(
                self.rng.choice(
                    outsiders, size=min(len(outsiders), int(self.rng.integers(1, 3))), replace=False
                )
            )
            out_bids = [self.bid(t, o, self.honest_price(o, t.estimate)) for o in outs]
            floor = min(b.price for b in out_bids)
            bids = out_bids + self._member_bids(kind, cid, members, t, j, floor, shared_text)
            winner = None
            if kind is K.COVER_BIDDING:
                winner = members[0]
            elif kind is K.BID_ROTATION:
                winner = members[j % size]
            self.settle(bids, winner)
        if kind in (K.CONTROL_LINK, K.MIXED_DOCUMENTS):  # m0 is the parent / the firm named in the others
            pairs = tuple(tuple(sorted((members[0], m))) for m in members[1:])
        else:
            pairs = tuple(itertools.combinations(sorted(members), 2))
        ts = tuple(t.tender_id for t in tenders)
        self.cartels.append(InjectedCartel(cid, kind, tuple(members), ts, pairs))  # type: ignore[arg-type]

    def _registry(self, kind: EvidenceKind, cid: str, members: list[str]) -> None:
        first = members[0]
        for m in members[1:]:
            c = self.companies[m]
            if kind is K.SHARED_LEGAL_REP:
                c = _with(c, legal_rep=f"P-{cid}-boss")
            elif kind is K.SHARED_SHAREHOLDER:
                c = _with(c, shareholders=(*c.shareholders[:1], Shareholder(f"P-{cid}-investor", 30.0)))
            elif kind is K.CONTROL_LINK:
                c = _with(c, parent_id=first, shareholders=(Shareholder(first, 60.0), *c.shareholders[1:]))
            self.companies[m] = c
        if kind is K.SHARED_LEGAL_REP:
            self.companies[first] = _with(self.companies[first], legal_rep=f"P-{cid}-boss")
        if kind is K.SHARED_SHAREHOLDER:
            c = self.companies[first]
            self.companies[first] = _with(
                c, shareholders=(*c.shareholders[:1], Shareholder(f"P-{cid}-investor", 30.0))
            )

    def _member_bids(
        self,
        kind: EvidenceKind,
        cid: str,
        members: list[str],
        t: TenderRecord,
        j: int,
        floor: float,
        shared: str,
    ) -> list[BidRecord]:
        assert t.estimate is not None
        out: list[BidRecord] = []
        size = len(members)
        step = round(floor * 0.02, 2)
        for i, m in enumerate(members):
            price = self.honest_price(m, t.estimate)
            over: dict[str, object] = {}
            if kind is K.COVER_BIDDING:
                price = round(floor * (0.97 if i == 0 else float(self.rng.uniform(1.03, 1.08))), 2)
            elif kind is K.BID_ROTATION:
                price = round(floor * (0.97 if i == j % size else float(self.rng.uniform(1.02, 1.08))), 2)
            elif kind is K.REGULAR_PRICE_STEPS:
                price = round(floor * 1.01, 2) + i * step
            elif kind is K.SHARED_IP:
                over["ip"] = f"198.51.100.{len(self.cartels) % 250}"
            elif kind is K.SHARED_DEVICE:
                over["device"] = f"dev-{cid}"
            elif kind is K.SHARED_BOND_ACCOUNT:
                over["bond_account"] = f"acct-{cid}"
            elif kind is K.SHARED_DOC_METADATA:
                over["doc_meta"] = DocumentMeta(
                    f"user-{cid}", "BidTool 3.2", dt.datetime.combine(t.date, dt.time(7, 1, 2))
                )
            elif kind is K.SHARED_AGENT:
                over["agent"] = f"P-{cid}-agent"
            elif kind is K.SHARED_PROJECT_MANAGER:
                over["project_managers"] = (f"P-{cid}-pm",)
            elif kind is K.SHARED_CONTACT:
                over["contacts"] = (f"+86-{cid}",)
            elif kind is K.IDENTICAL_ERROR:
                over["line_items"] = (LineItem("3.2", 12, 450.0, 5500.0 + j),)
            elif kind is K.NEAR_IDENTICAL_DOC and self.s.with_docs:
                over["doc_text"] = t.doc_text + self.text.mutate(shared, 0.02)
            elif kind is K.MIXED_DOCUMENTS and i > 0 and self.s.with_docs:
                c0 = self.companies[members[0]]
                over["doc_text"] = (
                    t.doc_text + self.style[m] + f"投标人：{c0.name} 统一社会信用代码 {c0.credit_code}"
                )
            out.append(self.bid(t, m, price, **over))
        return out


def _with(c: CompanyRecord, **kw: object) -> CompanyRecord:
    from dataclasses import replace

    return replace(c, **kw)  # type: ignore[arg-type]


def _replace_win(b: BidRecord) -> BidRecord:
    from dataclasses import replace

    return replace(b, is_winner=True)
