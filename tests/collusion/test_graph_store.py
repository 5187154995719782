"""The columnar graph index gives the same evidence however the history was loaded: in one batch, tender
by tender (pending observations, never sorted), or partly frozen in between."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict

import numpy as np

from collusion.columns import BidColumns
from collusion.evidence import Evidence, EvidenceKind
from collusion.graph import GraphIndex
from collusion.graph_store import REGISTRY, Growable, Observations
from collusion.records import BidRecord, CompanyRecord
from collusion.synthetic import RegionSpec, SyntheticRegion, generate_columns, generate_region

# No document texts: the batch counts template shingles over the whole region before hashing, the
# incremental path only over what it has seen so far, so document evidence may legitimately differ.
SPEC = RegionSpec(n_tenders=500, n_firms=200, n_segments=6, with_docs=False, seed=31)


@functools.cache
def region() -> SyntheticRegion:
    return generate_region(SPEC)


def _by_tender(r: SyntheticRegion) -> dict[str, list[BidRecord]]:
    out: dict[str, list[BidRecord]] = defaultdict(list)
    for b in r.bids:
        out[b.tender_id].append(b)
    return out


def _incremental(freeze_at: int | None) -> GraphIndex:
    r = region()
    idx = GraphIndex(r.companies)
    for i, t in enumerate(r.tenders):
        if i == freeze_at:
            idx.freeze()
        idx.add_tender(t, _by_tender(r)[t.tender_id])
    return idx


def _key(e: Evidence) -> tuple[object, ...]:
    return (e.kind, e.a, e.b, e.value, round(e.weight, 12), e.hard, e.tenders, e.detail)


def test_batch_incremental_and_partly_frozen_give_the_same_evidence() -> None:
    r = region()
    batch = GraphIndex.from_records(r.companies, r.bids, r.tenders)
    pending = _incremental(None)
    half = _incremental(len(r.tenders) // 2)
    assert pending.obs.n_pending > 0  # nothing was sorted: queries ran on the pending arrays
    for t in r.tenders[:: max(1, len(r.tenders) // 60)]:
        ref = [_key(e) for e in batch.check_tender(t.tender_id)]
        assert [_key(e) for e in pending.check_tender(t.tender_id)] == ref
        assert [_key(e) for e in half.check_tender(t.tender_id)] == ref
    ref_all = [_key(e) for e in batch.evidence()]
    assert {k[0] for k in ref_all} >= {EvidenceKind.SHARED_DEVICE, EvidenceKind.COVER_BIDDING}
    assert [_key(e) for e in pending.evidence()] == ref_all  # evidence() freezes first
    assert [_key(e) for e in half.evidence()] == ref_all


def test_columns_and_records_load_the_same_index() -> None:
    r = region()
    cols = generate_columns(SPEC)
    a = GraphIndex.from_records(r.companies, r.bids, r.tenders)
    b = GraphIndex.from_columns(cols.companies, cols.bids, cols.tenders)
    assert [_key(e) for e in a.evidence()] == [_key(e) for e in b.evidence()]
    for x, y in zip(a.columns(), b.columns(), strict=True):
        assert np.array_equal(x, y)


def test_records_are_grouped_by_tender_in_order_of_first_bid() -> None:
    d = dt.date(2024, 1, 1)
    bids = [BidRecord(t, f, p, d) for t, f, p in [("T2", "A", 1.0), ("T1", "B", 2.0), ("T2", "C", 3.0)]]
    cols = BidColumns.from_records(bids)
    assert cols.tender == ["T2", "T2", "T1"]
    assert cols.bidder == ["A", "C", "B"]
    assert list(cols.runs()) == [("T2", 0, 2), ("T1", 2, 3)]


def test_tender_added_twice_keeps_all_its_rows() -> None:
    d = dt.date(2024, 1, 1)
    idx = GraphIndex([CompanyRecord("A"), CompanyRecord("B")])
    idx.add_tender("T1", [BidRecord("T1", "A", 10.0, d, device="dev-x")])
    idx.add_tender("T2", [BidRecord("T2", "A", 11.0, d)])
    idx.add_tender("T1", [BidRecord("T1", "B", 12.0, d, True, device="dev-x")])
    t1 = idx.tids.get("T1")
    assert t1 is not None
    assert idx.tender_rows(t1).tolist() == [0, 2]
    assert idx.tender_bidders(t1) == [0, 1]
    assert int(idx.tender_winners[t1]) == 1
    kinds = {e.kind for e in idx.check_tender("T1")}
    assert EvidenceKind.SHARED_DEVICE in kinds
    idx.freeze()
    assert {e.kind for e in idx.check_tender("T1")} == kinds
    assert idx.firm_tenders(0) == [0, 1]


def test_observations_keep_first_use_order_across_freezes() -> None:
    obs = Observations()
    obs.new_values(2)
    a = np.asarray
    obs.add(a([1, 0, 1, -1]), a([7, 5, 3, 9]), a([0, 0, 0, 0]))
    obs.freeze(n_firms=10)
    obs.add(a([0, 1]), a([3, 7]), a([1, 1]))
    assert obs.firm_tenders(1) == {7: [0, 1], 3: [0]}
    assert obs.firm_tenders(0) == {5: [0], 3: [1]}
    assert obs.n_firms(0) == 2
    assert obs.firm_values(3) == {0, 1}
    assert obs.firm_values(9) == set()  # value -1 is "no value"
    obs.freeze(n_firms=10)
    assert obs.firm_tenders(1) == {7: [0, 1], 3: [0]}
    assert obs.shared_values().tolist() == [1, 0]  # value 1 was seen first
    obs.new_values(1)
    obs.add(a([2]), a([4]), a([REGISTRY]))
    assert obs.firm_tenders(2) == {4: [REGISTRY]}


def test_growable_keeps_values_across_growth() -> None:
    g = Growable(np.int64, -1)
    g.extend(np.arange(10))
    g.extend(np.arange(40))
    g.grow_to(60, -1)
    assert len(g) == 60
    assert g.view[:10].tolist() == list(range(10))
    assert g.view[50:].tolist() == [-1] * 10


def test_company_added_later_is_noted_in_the_register() -> None:
    r = region()
    idx = GraphIndex.from_records(r.companies, r.bids, r.tenders)
    a, b = r.companies[0], r.companies[1]
    idx.add_company(dataclasses.replace(b, legal_rep=a.legal_rep))
    f = idx.cids.get(a.company_id)
    assert f is not None
    kinds = {e.kind for e in idx.evidence() if {e.a, e.b} == {a.company_id, b.company_id}}
    assert EvidenceKind.SHARED_LEGAL_REP in kinds
