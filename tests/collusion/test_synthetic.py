import functools
import itertools

import numpy as np
import pytest

from collusion.columns import BidColumns
from collusion.evidence import SPECS, EvidenceKind, Level, Strength
from collusion.graph import GraphIndex, suspect_groups
from collusion.records import is_valid_credit_code
from collusion.synthetic import RegionSpec, SyntheticRegion, generate_columns, generate_region

SPEC = RegionSpec(n_tenders=800, n_firms=300, n_segments=8, seed=11)


@functools.cache
def region() -> SyntheticRegion:
    return generate_region(SPEC)


@functools.cache
def index() -> GraphIndex:
    r = region()
    return GraphIndex.from_records(r.companies, r.bids, r.tenders)


@functools.cache
def graph():  # type: ignore[no-untyped-def]
    return index().graph()


def test_seeded_and_deterministic() -> None:
    a, b = (
        generate_region(RegionSpec(n_tenders=60, n_firms=40, seed=5)),
        generate_region(RegionSpec(n_tenders=60, n_firms=40, seed=5)),
    )
    assert a.bids == b.bids
    assert a.companies == b.companies
    assert a.cartels == b.cartels
    assert generate_region(RegionSpec(n_tenders=60, n_firms=40, seed=6)).bids != a.bids


def test_shape_and_records() -> None:
    r = region()
    assert {c.kind for c in r.cartels} == set(EvidenceKind)
    assert all(is_valid_credit_code(c.credit_code) for c in r.companies)
    winners = {b.tender_id for b in r.bids if b.is_winner}
    assert winners == {t.tender_id for t in r.tenders}
    assert sum(b.is_winner for b in r.bids) == len(r.tenders)


def test_honest_price_dispersion_is_realistic() -> None:
    r = region()
    cartel_tenders = {t for c in r.cartels for t in c.tenders}
    by_t: dict[str, list[float]] = {}
    for b in r.bids:
        if b.tender_id not in cartel_tenders:
            by_t.setdefault(b.tender_id, []).append(b.price / (b.estimate or 1))
    cvs = [np.std(v) / np.mean(v) for v in by_t.values() if len(v) >= 3]
    rel = np.concatenate([np.array(v) for v in by_t.values()])
    assert 0.02 < float(np.median(cvs)) < 0.08
    assert 0.9 < float(np.median(rel)) < 1.0


@pytest.mark.parametrize("kind", [k for k in EvidenceKind if SPECS[k].strength is Strength.HARD])
def test_every_injected_hard_case_is_found_with_its_evidence(kind: EvidenceKind) -> None:
    g = graph()
    for c in (c for c in region().cartels if c.kind is kind):
        for a, b in c.pairs:
            d = g.get_edge_data(a, b)
            assert d is not None, (kind, a, b)
            items = [e for e in d["evidence"] if e.kind is kind]
            assert any(e.hard for e in items), (kind, a, b)
            assert d["level"] is Level.HIGH
            assert set(items[0].tenders) <= set(c.tenders) or kind in (
                EvidenceKind.SHARED_LEGAL_REP,
                EvidenceKind.CONTROL_LINK,
            )


@pytest.mark.parametrize("kind", [k for k in EvidenceKind if SPECS[k].strength is Strength.SOFT])
def test_injected_soft_cases_are_found(kind: EvidenceKind) -> None:
    g = graph()
    for c in (c for c in region().cartels if c.kind is kind):
        for a, b in c.pairs:
            d = g.get_edge_data(a, b)
            assert d is not None, (kind, a, b)
            assert kind in d["kinds"], (kind, a, b)


def test_lookalikes_never_reach_high_on_soft_evidence() -> None:
    g, truth = graph(), region().truth
    seen = 0
    for la in region().lookalikes:
        for a, b in itertools.combinations(la.members, 2):
            d = g.get_edge_data(a, b)
            if d is None or (min(a, b), max(a, b)) in truth:
                continue
            seen += 1
            assert not d["hard"], (la.kind, a, b, d["kinds"])
            assert d["level"] is not Level.HIGH, (la.kind, a, b, d["kinds"])
    assert seen > 0  # the NAT firms do meet in tenders


def test_template_users_are_not_near_identical() -> None:
    g = graph()
    template = next(la for la in region().lookalikes if la.kind is EvidenceKind.NEAR_IDENTICAL_DOC)
    for a, b in itertools.combinations(template.members, 2):
        d = g.get_edge_data(a, b)
        assert d is None or EvidenceKind.NEAR_IDENTICAL_DOC not in d["kinds"]


def test_honest_pairs_rarely_high() -> None:
    g, truth = graph(), region().truth
    cartel_firms = {m for c in region().cartels for m in c.members}
    high = [
        (a, b)
        for a, b, d in g.edges(data=True)
        if d["level"] is Level.HIGH
        and a not in cartel_firms
        and b not in cartel_firms
        and (min(a, b), max(a, b)) not in truth
    ]
    assert high == []


def test_groups_recover_hard_cartels() -> None:
    groups = {s.members for s in suspect_groups(graph(), seed=0)}
    for c in region().cartels:
        if SPECS[c.kind].strength is Strength.HARD and c.kind is not EvidenceKind.MIXED_DOCUMENTS:
            assert any(set(c.members) <= set(m) for m in groups), c.cartel_id


def test_incremental_check_finds_cartel_in_new_tender() -> None:
    r = region()
    cartel = next(c for c in r.cartels if c.kind is EvidenceKind.SHARED_DEVICE)
    last = cartel.tenders[-1]
    idx = GraphIndex(r.companies)
    trec = {t.tender_id: t for t in r.tenders}
    for t in r.tenders:
        if t.tender_id != last:
            idx.add_tender(t, [b for b in r.bids if b.tender_id == t.tender_id])
    idx.add_tender(trec[last], [b for b in r.bids if b.tender_id == last])
    ev = idx.check_tender(last)
    pairs = {e.pair for e in ev if e.kind is EvidenceKind.SHARED_DEVICE and e.hard}
    assert set(cartel.pairs) <= pairs


def test_columns_are_the_same_region_as_records() -> None:
    spec = RegionSpec(n_tenders=120, n_firms=60, seed=5)
    rec = generate_region(spec)
    col = generate_columns(spec)
    assert (col.companies, col.tenders, col.cartels, col.truth) == (
        rec.companies,
        rec.tenders,
        rec.cartels,
        rec.truth,
    )
    want = BidColumns.from_records(rec.bids)
    for name in ("tender", "bidder", "ip", "device", "bond", "agent", "meta", "doc_text"):
        assert getattr(col.bids, name) == getattr(want, name), name
    assert np.array_equal(col.bids.price, want.price)
    assert np.array_equal(col.bids.winner, want.winner)
    for name in ("project_managers", "contacts", "errors"):
        a, b = getattr(col.bids, name), getattr(want, name)
        assert a.values == b.values, name
        assert np.array_equal(a.counts, b.counts), name
    assert any(col.bids.errors.values)  # the template's error and a few random ones
