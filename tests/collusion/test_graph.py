import dataclasses
import datetime as dt
import json
from collections.abc import Callable

import numpy as np
import pytest

from collusion.evidence import SPECS, EvidenceKind, Level, Strength
from collusion.graph import GraphIndex, GraphParams, build_graph, graph_view, suspect_groups
from collusion.records import BidRecord, CompanyRecord, DocumentMeta, LineItem, Shareholder, TenderRecord

K = EvidenceKind
D = dt.date(2024, 5, 1)
RNG = np.random.default_rng(3)


def cjk(n: int) -> str:
    return RNG.integers(0x4E00, 0x4E00 + 3000, size=n, dtype=np.uint32).tobytes().decode("utf-32-le")


def company(cid: str, **kw: object) -> CompanyRecord:
    base = CompanyRecord(cid, f"{cid}建设工程有限公司", "", f"rep-{cid}", (Shareholder(f"sh-{cid}", 100.0),))
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def bid(t: str, f: str, price: float, win: bool = False, **kw: object) -> BidRecord:
    b = BidRecord(
        t,
        f,
        price,
        D,
        win,
        1e6,
        ip=f"ip-{f}",
        device=f"dev-{f}",
        bond_account=f"acct-{f}",
        doc_meta=DocumentMeta(f"au-{f}", "tool", dt.datetime(2024, 5, 1, 8, 0, ord(f[0]) % 60)),
        doc_text=f"{f}自编内容" + cjk(80),
        agent=f"ag-{f}",
        project_managers=(f"pm-{f}",),
        contacts=(f"tel-{f}",),
    )
    return dataclasses.replace(b, **kw)  # type: ignore[arg-type]


Case = tuple[list[CompanyRecord], list[BidRecord], list[TenderRecord]]


def one_tender(
    a_kw: dict[str, object],
    b_kw: dict[str, object],
    cos: dict[str, dict[str, object]] | None = None,
    prices: tuple[float, float, float] = (900e3, 950e3, 980e3),
) -> Case:
    cos = cos or {}
    companies = [company(c, **cos.get(c, {})) for c in "ABC"]
    bids = [
        bid("T1", "A", prices[0], True, **a_kw),
        bid("T1", "B", prices[1], **b_kw),
        bid("T1", "C", prices[2]),
    ]
    return companies, bids, [TenderRecord("T1", D, doc_text="")]


def series(winners: list[str], members: str, extra: bool = True) -> Case:
    companies = [company(c) for c in members + "XYZUVW"]
    bids, tenders = [], []
    for k, w in enumerate(winners):
        t = f"T{k}"
        tenders.append(TenderRecord(t, D + dt.timedelta(days=k)))
        for i, m in enumerate(members):
            bids.append(bid(t, m, 900e3 + 1000 * i + (0 if m == w else 50e3), m == w))
        if extra:
            bids.append(bid(t, "XYZUVW"[k % 6], 990e3))
    return companies, bids, tenders


COPY = cjk(300)
POSITIVE: dict[EvidenceKind, Callable[[], Case]] = {
    K.SHARED_IP: lambda: one_tender({"ip": "1.1.1.1"}, {"ip": "1.1.1.1"}),
    K.SHARED_DEVICE: lambda: one_tender({"device": "D1"}, {"device": "D1"}),
    K.SHARED_BOND_ACCOUNT: lambda: one_tender({"bond_account": "622-1"}, {"bond_account": "622-1"}),
    K.SHARED_DOC_METADATA: lambda: one_tender(
        {"doc_meta": DocumentMeta("zh", "Word", dt.datetime(2024, 4, 1, 9))},
        {"doc_meta": DocumentMeta("zh", "Word", dt.datetime(2024, 4, 1, 9))},
    ),
    K.SHARED_LEGAL_REP: lambda: one_tender({}, {}, {"A": {"legal_rep": "p1"}, "B": {"legal_rep": "p1"}}),
    K.SHARED_SHAREHOLDER: lambda: one_tender(
        {},
        {},
        {
            "A": {"shareholders": (Shareholder("inv", 20.0),)},
            "B": {"shareholders": (Shareholder("inv", 10.0),)},
        },
    ),
    K.CONTROL_LINK: lambda: one_tender({}, {}, {"B": {"parent_id": "A"}}),
    K.SHARED_AGENT: lambda: one_tender({"agent": "p9"}, {"agent": "p9"}),
    K.SHARED_PROJECT_MANAGER: lambda: one_tender(
        {"project_managers": ("pm",)}, {"project_managers": ("pm",)}
    ),
    K.SHARED_CONTACT: lambda: one_tender({"contacts": ("138",)}, {"contacts": ("138",)}),
    K.NEAR_IDENTICAL_DOC: lambda: one_tender({"doc_text": COPY}, {"doc_text": COPY[:-3] + "改三字"}),
    K.IDENTICAL_ERROR: lambda: one_tender(
        {"line_items": (LineItem("3.2", 12, 450.0, 5500.0),)},
        {"line_items": (LineItem("3.2", 12, 450.0, 5500.0),)},
    ),
    K.MIXED_DOCUMENTS: lambda: one_tender({}, {"doc_text": cjk(50) + "投标人：A建设工程有限公司"}),
    K.COVER_BIDDING: lambda: series(["A"] * 5, "AB"),
    K.BID_ROTATION: lambda: series(["A", "B", "C"] * 2, "ABC"),
    K.REGULAR_PRICE_STEPS: lambda: one_tender({}, {}, prices=(900e3, 920e3, 940e3)),
}
NEGATIVE: dict[EvidenceKind, Callable[[], Case]] = {
    K.SHARED_IP: lambda: one_tender({"ip": "1.1.1.1"}, {"ip": "1.1.1.2"}),
    K.SHARED_DEVICE: lambda: one_tender({"device": "D1"}, {"device": "D2"}),
    K.SHARED_BOND_ACCOUNT: lambda: one_tender({"bond_account": "622-1"}, {"bond_account": "622-2"}),
    K.SHARED_DOC_METADATA: lambda: one_tender(  # same default author and tool, different files
        {"doc_meta": DocumentMeta("Administrator", "Word", dt.datetime(2024, 4, 1, 9))},
        {"doc_meta": DocumentMeta("Administrator", "Word", dt.datetime(2024, 4, 2, 9))},
    ),
    K.SHARED_LEGAL_REP: lambda: one_tender({}, {}, {"A": {"legal_rep": "p1"}, "B": {"legal_rep": "p2"}}),
    K.SHARED_SHAREHOLDER: lambda: one_tender({}, {}),
    K.CONTROL_LINK: lambda: one_tender({}, {}, {"B": {"shareholders": (Shareholder("A", 30.0),)}}),
    K.SHARED_AGENT: lambda: one_tender({"agent": "p9"}, {"agent": "p8"}),
    K.SHARED_PROJECT_MANAGER: lambda: one_tender(
        {"project_managers": ("pm",)}, {"project_managers": ("pm2",)}
    ),
    K.SHARED_CONTACT: lambda: one_tender({"contacts": ("138",)}, {"contacts": ("139",)}),
    K.NEAR_IDENTICAL_DOC: lambda: _quoted_template(),
    K.IDENTICAL_ERROR: lambda: one_tender(
        {"line_items": (LineItem("3.2", 12, 450.0, 5500.0),)},
        {"line_items": (LineItem("3.2", 12, 450.0, 5400.0),)},
    ),
    K.MIXED_DOCUMENTS: lambda: one_tender({}, {"doc_text": cjk(50) + "投标人：B建设工程有限公司"}),
    K.COVER_BIDDING: lambda: series(["A", "A", "A", "A", "B"], "AB"),
    K.BID_ROTATION: lambda: series(["A"] * 6, "ABC"),
    K.REGULAR_PRICE_STEPS: lambda: one_tender({}, {}, prices=(900e3, 920e3, 945e3)),
}


def _quoted_template() -> Case:
    """Both bids quote the tender document at length; their own text differs."""
    companies, bids, _ = one_tender({"doc_text": COPY + cjk(100)}, {"doc_text": COPY + cjk(100)})
    return companies, bids, [TenderRecord("T1", D, doc_text=COPY)]


def _edge_kinds(case: Case) -> tuple[set[EvidenceKind], dict[EvidenceKind, bool]]:
    companies, bids, tenders = case
    g = build_graph(companies, bids, tenders)
    d = g.get_edge_data("A", "B") or {"kinds": [], "evidence": []}
    return set(d["kinds"]), {e.kind: e.hard for e in d["evidence"]}


@pytest.mark.parametrize("kind", list(K))
def test_each_kind_fires_with_its_evidence(kind: EvidenceKind) -> None:
    kinds, hard = _edge_kinds(POSITIVE[kind]())
    assert kind in kinds
    assert hard[kind] is (SPECS[kind].strength is Strength.HARD)


@pytest.mark.parametrize("kind", list(K))
def test_each_kind_near_miss_does_not_fire(kind: EvidenceKind) -> None:
    kinds, _ = _edge_kinds(NEGATIVE[kind]())
    assert kind not in kinds


@pytest.mark.parametrize("kind", list(K))
def test_incremental_check_agrees_with_batch(kind: EvidenceKind) -> None:
    companies, bids, tenders = POSITIVE[kind]()
    idx = GraphIndex(companies)
    for t in tenders:
        idx.add_tender(t, [b for b in bids if b.tender_id == t.tender_id])
    found = {e.kind for e in idx.check_tender(tenders[-1].tender_id) if e.pair == ("A", "B")}
    assert kind in found
    companies, bids, tenders = NEGATIVE[kind]()
    idx = GraphIndex(companies)
    for t in tenders:
        idx.add_tender(t, [b for b in bids if b.tender_id == t.tender_id])
    assert kind not in {e.kind for e in idx.check_tender(tenders[-1].tender_id) if e.pair == ("A", "B")}


def test_control_link_points_from_parent() -> None:
    companies, bids, tenders = POSITIVE[K.CONTROL_LINK]()
    g = build_graph(companies, bids, tenders)
    (e,) = [e for e in g["A"]["B"]["evidence"] if e.kind is K.CONTROL_LINK]
    assert (e.a, e.b) == ("A", "B")
    assert "A → B" in e.explain("en")


def _nat_case(firms: int) -> Case:
    names = [f"N{i:02d}" for i in range(firms)]
    companies = [company(n) for n in names]
    bids = [bid("T1", n, 900e3 + 7919.3 * i * i, i == 0, ip="203.0.113.10") for i, n in enumerate(names)]
    return companies, bids, [TenderRecord("T1", D)]


def test_nat_rule_threshold() -> None:
    m = GraphParams().nat_threshold
    g = build_graph(*_nat_case(m))
    assert g["N00"]["N01"]["level"] is Level.MEDIUM
    g = build_graph(*_nat_case(m + 7))
    d = g["N00"]["N01"]
    assert d["level"] is Level.LOW
    assert not d["hard"]
    assert d["weight"] == pytest.approx(0.6 * m / (m + 7))


def test_nat_ip_only_links_firms_within_a_tender() -> None:
    companies, bids, _tenders = _nat_case(12)
    moved = [dataclasses.replace(b, tender_id=f"T{i}") for i, b in enumerate(bids)]
    g = build_graph(companies, moved, [TenderRecord(f"T{i}", D) for i in range(12)])
    assert g.number_of_edges() == 0


def test_groups_view_and_determinism() -> None:
    companies, bids, tenders = POSITIVE[K.SHARED_BOND_ACCOUNT]()
    g = build_graph(companies, bids, tenders)
    groups = suspect_groups(g, seed=1)
    assert [(s.members, s.level, s.hard) for s in groups] == [(("A", "B"), Level.HIGH, True)]
    assert suspect_groups(g, seed=1) == groups
    view = graph_view(g, groups)
    text = json.dumps(view, ensure_ascii=False)
    assert "622-1" in text
    assert "BL40.6" in text
    assert {n["id"] for n in view["nodes"]} == {"A", "B"}  # type: ignore[index]


def test_hard_component_is_never_split() -> None:
    companies = [company(c) for c in "ABCD"]
    bids = [
        bid("T1", c, 900e3 + 1e4 * i, i == 0, bond_account="x" if c in "AB" else "y")
        for i, c in enumerate("ABCD")
    ]
    bids[1] = dataclasses.replace(bids[1], device="d")
    bids[2] = dataclasses.replace(bids[2], device="d")
    g = build_graph(companies, bids, [TenderRecord("T1", D)])
    groups = suspect_groups(g)
    assert len(groups) == 1
    assert groups[0].members == ("A", "B", "C", "D")


def test_unknown_tender_raises() -> None:
    with pytest.raises(KeyError):
        GraphIndex().check_tender("nope")
