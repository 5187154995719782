from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections import Counter
from datetime import date
from fractions import Fraction

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.avoidance import Expert, PoolIndex, RegionRules, TenderContext, eligible
from evaluation.draw import (
    SEED_TAG,
    CommitteeRequest,
    CommitteeState,
    DrawError,
    DrawParams,
    DrawRecord,
    PoolSnapshot,
    QuotaError,
    Replacement,
    Seat,
    check_quotas,
    derive_seed,
    eligible_snapshot,
    params_for,
    prepare_draw,
    replace,
    run_draw,
)
from evaluation.draw_verify import verify_draw
from evaluation.hashrng import HashRng, lazy_permutation

DAY = date(2025, 6, 10)
SECRET = bytes(range(32))
SUPERVISOR = b"supervisor-value-0001"


def ctx(codes: frozenset[str] = frozenset({"A01", "B02"})) -> TenderContext:
    return TenderContext("T-1", "TENDERER", None, frozenset({"B1"}), "苏州", DAY, codes)


def make_pool(n: int, remote_every: int = 2) -> list[Expert]:
    # Expert k holds A01 if k is even, B02 if k % 3 == 0; every `remote_every`-th is from outside.
    out = []
    for k in range(n):
        specs = {c for c, hit in (("A01", k % 2 == 0), ("B02", k % 3 == 0), ("C03", k % 2 == 1)) if hit}
        city = "上海" if k % remote_every == 0 else "苏州"
        out.append(Expert(f"E{k:04d}", city, frozenset(specs), employer_id="B1" if k % 17 == 5 else None))
    return out


def draw_for(
    pool: list[Expert], request: CommitteeRequest, supervisor: bytes = SUPERVISOR
) -> tuple[DrawRecord, str]:
    c = ctx(frozenset(request.seats))
    snap, counts = eligible_snapshot(PoolIndex(pool), c, RegionRules())
    prepared = prepare_draw(snap, params_for(c, request, RegionRules()), counts, SECRET)
    return run_draw(prepared, supervisor), prepared.commitment.digest()


REQUEST = CommitteeRequest({"A01": 3, "B02": 2}, committee_size=7, reserves=4, remote_fraction=Fraction(2, 3))


# -- request validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats", "size", "message"),
    [
        ({"A01": 4}, 6, "odd and at least 5"),
        ({"A01": 3}, 3, "odd and at least 5"),
        ({"A01": 4}, 7, "at least 2/3 of the committee: 4 of 7 (need at least 5)"),
        ({"A01": 9}, 7, "9 expert seats do not fit a committee of 7"),
        ({"A01": 0, "B02": 5}, 5, "seats for specialty 'A01' must be a positive integer"),
        ({}, 5, "at least one specialty seat"),
    ],
)
def test_request_validation(seats: dict[str, int], size: int, message: str) -> None:
    with pytest.raises(DrawError, match="invalid committee request") as exc:
        CommitteeRequest(seats, size)
    assert message in str(exc.value)


def test_request_derived_numbers() -> None:
    r = CommitteeRequest({"A01": 4, "B02": 1}, committee_size=7, remote_fraction=Fraction(2, 3))
    assert (r.expert_seats, r.tenderer_representatives, r.min_remote) == (5, 2, 4)  # ceil(10/3) = 4


# -- PRNG ------------------------------------------------------------------------------------------


def test_hash_rng_is_hmac_sha256_counter_mode() -> None:
    rng = HashRng(SECRET, b"test")
    block0 = hmac.new(SECRET, b"test\x00" + (0).to_bytes(8, "big"), hashlib.sha256).digest()
    block1 = hmac.new(SECRET, b"test\x00" + (1).to_bytes(8, "big"), hashlib.sha256).digest()
    words = [int.from_bytes(b[i : i + 8], "big") for b in (block0, block1) for i in range(0, 32, 8)]
    assert [rng.next_u64() for _ in range(8)] == words
    # Pinned: the stream is a published contract; changing it breaks every past draw's replay.
    assert words[:2] == [3754789186406515825, 11717115529922826758]


def test_below_rejects_biased_words() -> None:
    class Fixed(HashRng):
        def __init__(self, words: list[int]) -> None:
            self.queue = words

        def next_u64(self) -> int:
            return self.queue.pop(0)

    # n = 3: limit = 2**64 - (2**64 % 3) = 2**64 - 1, so 2**64 - 1 is rejected.
    assert Fixed([2**64 - 1, 7]).below(3) == 1
    assert Fixed([2**64 - 2]).below(3) == (2**64 - 2) % 3


@given(st.integers(1, 200), st.binary(min_size=32, max_size=32))
def test_lazy_permutation_is_a_permutation(n: int, seed: bytes) -> None:
    assert sorted(lazy_permutation(n, HashRng(seed, b"p"))) == list(range(n))


def test_permutation_is_roughly_uniform() -> None:
    # 3,000 shuffles of 4 items: each of the 24 orders should come up ~125 times.
    orders = Counter(tuple(lazy_permutation(4, HashRng(k.to_bytes(4, "big") * 8, b"u"))) for k in range(3000))
    assert len(orders) == 24
    assert all(80 < c < 175 for c in orders.values())


def test_seed_formula() -> None:
    pool_hash, params_hash = "11" * 32, "22" * 32
    expected = hashlib.sha256(
        SEED_TAG + SECRET + SUPERVISOR + bytes.fromhex(pool_hash) + bytes.fromhex(params_hash)
    ).digest()
    assert derive_seed(SECRET, SUPERVISOR, pool_hash, params_hash) == expected
    with pytest.raises(DrawError, match="supervisor value must be 16"):
        derive_seed(SECRET, b"short", pool_hash, params_hash)
    with pytest.raises(DrawError, match="platform secret must be 32 bytes"):
        derive_seed(b"x", SUPERVISOR, pool_hash, params_hash)


# -- snapshot and draw -----------------------------------------------------------------------------


def test_snapshot_is_canonical_json_of_sorted_records() -> None:
    pool = make_pool(40)
    snap, _ = eligible_snapshot(PoolIndex(pool), ctx(), RegionRules())
    assert snap.canonical_bytes() == rfc8785.dumps(snap.to_json_obj())
    assert snap.canonical_bytes() == snap.canonical_bytes(use_cache=False)
    slow, _ = eligible_snapshot(pool, ctx(), RegionRules())
    assert slow == snap
    assert list(snap.expert_ids) == sorted(snap.expert_ids)


def test_draw_satisfies_quotas_and_excludes_conflicts() -> None:
    record, _ = draw_for(make_pool(120), REQUEST)
    assert check_quotas(record.pool, record.params, record.committee) == []
    assert len(record.reserves) == 4
    assert not {s.expert_id for s in record.committee} & set(record.reserves)
    conflicted = {f"E{k:04d}" for k in range(120) if k % 17 == 5}
    assert not conflicted & {s.expert_id for s in record.committee}
    # Conflicted experts without A01/B02 are counted under "specialty", the first rule.
    relevant = [k for k in range(120) if k % 17 == 5 and (k % 2 == 0 or k % 3 == 0)]
    assert record.exclusion_counts["conflict"] == len(relevant) == 4


def test_draw_is_deterministic_in_the_seed() -> None:
    a, _ = draw_for(make_pool(120), REQUEST)
    b, _ = draw_for(make_pool(120), REQUEST)
    c, _ = draw_for(make_pool(120), REQUEST, supervisor=b"another-supervisor-value")
    assert (a.committee, a.reserves) == (b.committee, b.reserves)
    assert a.seed != c.seed
    assert (a.committee, a.reserves) != (c.committee, c.reserves)


def test_unconstrained_draw_is_uniform_enough() -> None:
    # 10 experts, 5 seats of one specialty, no remote quota: each expert is chosen ~half the time.
    pool = [Expert(f"E{k}", "苏州", frozenset({"A01"})) for k in range(10)]
    request = CommitteeRequest({"A01": 5}, committee_size=5, reserves=0)
    snap, counts = eligible_snapshot(pool, ctx(frozenset({"A01"})), RegionRules())
    params = params_for(ctx(frozenset({"A01"})), request, RegionRules())
    prepared = prepare_draw(snap, params, counts, SECRET)
    hits: Counter[str] = Counter()
    for k in range(1000):
        for seat in run_draw(prepared, k.to_bytes(16, "big")).committee:
            hits[seat.expert_id] += 1
    assert all(430 < h < 570 for h in hits.values()), hits


def test_binding_remote_quota_is_met() -> None:
    # Only every 5th expert is from outside; 4 of 5 experts must be.
    request = CommitteeRequest({"A01": 3, "B02": 2}, 5, reserves=2, remote_fraction=Fraction(4, 5))
    for k in range(20):
        record, _ = draw_for(make_pool(200, remote_every=5), request, supervisor=k.to_bytes(16, "big"))
        assert check_quotas(record.pool, record.params, record.committee) == []


def test_quota_errors_name_the_quota_and_shortfall() -> None:
    pool = make_pool(12, remote_every=6)  # A01 holders: 6; remote experts: E0000, E0006
    with pytest.raises(QuotaError) as exc:
        draw_for(pool, CommitteeRequest({"A01": 7}, 7))
    assert "specialty:A01: needs 7, only 6 possible (short by 1)" in str(exc.value)
    with pytest.raises(QuotaError) as exc:
        draw_for(pool, CommitteeRequest({"A01": 3, "B02": 2}, 5, remote_fraction=Fraction(3, 5)))
    assert [(s.quota, s.needed, s.available) for s in exc.value.shortfalls] == [("remote", 3, 2)]
    assert "outside 苏州" in str(exc.value)


def test_quota_error_for_overlapping_specialties() -> None:
    # B02 holders are multiples of 3 (E0, E3, E6, E9); A01 holders are even (E0..E10).
    # 4 B02 seats + 4 A01 seats: B02 can be filled, but E0 and E6 hold both, so A01 has only
    # 4 others left; 8 seats from {A01 or B02} holders = 8 experts exactly: feasible.
    pool = make_pool(12)
    record, _ = draw_for(pool, CommitteeRequest({"A01": 4, "B02": 4}, 9))
    assert check_quotas(record.pool, record.params, record.committee) == []
    with pytest.raises(QuotaError, match=r"specialty:A01\+B02: needs 9, only 8"):
        draw_for(pool, CommitteeRequest({"A01": 5, "B02": 4}, 9))


# -- verification ----------------------------------------------------------------------------------


def test_verify_accepts_honest_record_and_its_json() -> None:
    record, anchored = draw_for(make_pool(120), REQUEST)
    assert verify_draw(record, anchored_commitment_digest=anchored).ok
    data = record.to_json()
    assert data == rfc8785.dumps(record.to_json_obj())
    assert DrawRecord.from_json(data) == record
    assert verify_draw(data, anchored_commitment_digest=anchored).ok


def _tamper(record: DrawRecord, what: str) -> DrawRecord:
    pool = record.pool
    if what == "pool":
        cities = ("北京", *pool.cities[1:])
        return dataclasses.replace(record, pool=dataclasses.replace(pool, cities=cities, _fragments=None))
    if what == "params":
        request = dataclasses.replace(record.params.request, reserves=record.params.request.reserves + 1)
        return dataclasses.replace(record, params=dataclasses.replace(record.params, request=request))
    if what == "secret":
        return dataclasses.replace(record, platform_secret=bytes(32))
    if what == "seed":
        return dataclasses.replace(record, seed=bytes(32))
    if what == "supervisor":
        return dataclasses.replace(record, supervisor_value=b"a-different-supervisor")
    if what == "result":
        outsider = next(e for e in record.reserves)
        seats = (Seat(outsider, record.committee[0].specialty), *record.committee[1:])
        return dataclasses.replace(record, committee=seats)
    if what == "reserves":
        return dataclasses.replace(record, reserves=tuple(reversed(record.reserves)))
    raise AssertionError(what)


@pytest.mark.parametrize(
    ("what", "kind"),
    [
        ("pool", "pool"),
        ("params", "params"),
        ("secret", "secret"),
        ("seed", "seed"),
        ("supervisor", "seed"),
        ("result", "result"),
        ("reserves", "reserves"),
    ],
)
def test_verify_rejects_tampering(what: str, kind: str) -> None:
    record, anchored = draw_for(make_pool(120), REQUEST)
    result = verify_draw(_tamper(record, what), anchored_commitment_digest=anchored)
    assert not result.ok
    assert kind in result.kinds, result.problems


def test_tampering_only_the_result_is_reported_only_as_result() -> None:
    record, anchored = draw_for(make_pool(120), REQUEST)
    assert verify_draw(_tamper(record, "result"), anchored_commitment_digest=anchored).kinds == {"result"}
    assert verify_draw(_tamper(record, "seed"), anchored_commitment_digest=anchored).kinds == {"seed"}


def test_verify_rejects_a_rewritten_commitment() -> None:
    _record, anchored = draw_for(make_pool(120), REQUEST)
    forged, _ = draw_for(make_pool(121), REQUEST)  # self-consistent, but not what was anchored
    assert verify_draw(forged).ok
    assert verify_draw(forged, anchored_commitment_digest=anchored).kinds == {"commitment"}


def test_verify_reports_unreadable_json() -> None:
    assert verify_draw(b"{}").kinds == {"format"}


# -- replacements ----------------------------------------------------------------------------------


def test_replacement_takes_first_fitting_reserve_and_replays() -> None:
    record, anchored = draw_for(make_pool(120), REQUEST)
    state = CommitteeState.initial(record)
    leaving = record.committee[0]
    rep = replace(record, leaving.expert_id, state)
    snap = record.pool
    where = {e: k for k, e in enumerate(snap.expert_ids)}
    fits = [r for r in record.reserves if leaving.specialty in snap.specialties[where[r]]]
    assert (fits and rep.replacement_id in record.reserves) or not fits
    state2 = state.apply(rep)
    assert check_quotas(snap, record.params, state2.members) == []
    rep2 = replace(record, rep.replacement_id, state2, "no_show")
    assert rep2.replacement_id not in {rep.replacement_id, leaving.expert_id}
    final = record.with_replacement(rep).with_replacement(rep2)
    assert verify_draw(final, anchored_commitment_digest=anchored).ok
    bad = record.with_replacement(dataclasses.replace(rep, replacement_id=record.reserves[-1]))
    if record.reserves[-1] != rep.replacement_id:
        assert verify_draw(bad).kinds == {"replacement"}


def test_replacement_keeps_remote_quota() -> None:
    request = CommitteeRequest({"A01": 5}, 5, reserves=3, remote_fraction=Fraction(1))
    record, _ = draw_for(make_pool(60, remote_every=2), request)
    state = CommitteeState.initial(record)
    for _ in range(4):
        rep = replace(record, state.members[0].expert_id, state)
        state = state.apply(rep)
        assert check_quotas(record.pool, record.params, state.members) == []


def test_replacement_exhaustion_is_a_quota_error() -> None:
    pool = [Expert(f"E{k}", "上海", frozenset({"A01"})) for k in range(5)]
    record, _ = draw_for(pool, CommitteeRequest({"A01": 5}, 5, reserves=0))
    with pytest.raises(QuotaError, match="no eligible expert left to replace"):
        replace(record, record.committee[0].expert_id, CommitteeState.initial(record))
    with pytest.raises(DrawError, match="holds no seat"):
        replace(record, "nobody", CommitteeState.initial(record))


# -- properties over random pools ------------------------------------------------------------------

CODES = ["A01", "B02", "C03"]


@st.composite
def draw_cases(draw: st.DrawFn) -> tuple[list[Expert], CommitteeRequest, bytes, set[str]]:
    n = draw(st.integers(5, 60))
    bidders = {"B1"}  # ctx() registers B1 only; B2 employees stay eligible
    pool = [
        Expert(
            f"E{k:03d}",
            draw(st.sampled_from(["苏州", "上海", "杭州"])),
            frozenset(draw(st.sets(st.sampled_from(CODES), min_size=1, max_size=2))),
            employer_id=draw(st.none() | st.sampled_from(["B1", "B2", "X"])),
        )
        for k in range(n)
    ]
    codes = draw(st.sets(st.sampled_from(CODES), min_size=1, max_size=3))
    seats = {c: draw(st.integers(1, 3)) for c in sorted(codes)}
    experts = sum(seats.values())
    size = experts if experts % 2 else experts + 1
    size = max(size, 5)
    if 3 * experts < 2 * size:
        seats[min(seats)] += size - experts
    request = CommitteeRequest(
        seats,
        size,
        reserves=draw(st.integers(0, 4)),
        remote_fraction=draw(st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(2, 3)])),
    )
    return pool, request, draw(st.binary(min_size=16, max_size=32)), bidders


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw_cases())
def test_random_draws_keep_rules_and_quotas(
    case: tuple[list[Expert], CommitteeRequest, bytes, set[str]],
) -> None:
    pool, request, supervisor, bidders = case
    try:
        record, anchored = draw_for(pool, request, supervisor)
    except QuotaError as exc:
        shortfalls = exc.shortfalls
    else:
        shortfalls = ()
    if shortfalls:
        # Then the quota really is impossible: even the whole eligible pool cannot fill it.
        assert all(s.available < s.needed for s in shortfalls)
        return
    ids, _ = eligible(pool, ctx(frozenset(request.seats)), RegionRules())
    by_id = {e.expert_id: e for e in pool}
    members = [s.expert_id for s in record.committee]
    assert set(members) <= set(ids)
    assert set(record.reserves) <= set(ids)
    assert not any(by_id[m].employer_id in bidders for m in members)
    assert check_quotas(record.pool, record.params, record.committee) == []
    assert len(record.committee) == request.expert_seats
    assert len(set(members) | set(record.reserves)) == len(members) + len(record.reserves)
    assert verify_draw(record, anchored_commitment_digest=anchored).ok
    again, _ = draw_for(pool, request, supervisor)
    assert (again.committee, again.reserves) == (record.committee, record.reserves)
    # Any single tampering of the result is caught.
    other = [e for e in record.pool.expert_ids if e not in members]
    if other:
        forged = (Seat(other[0], record.committee[-1].specialty), *record.committee[:-1])
        assert "result" in verify_draw(dataclasses.replace(record, committee=forged)).kinds


@settings(max_examples=60, deadline=None)
@given(draw_cases(), st.data())
def test_random_replacements_replay(
    case: tuple[list[Expert], CommitteeRequest, bytes, set[str]], data: st.DataObject
) -> None:
    pool, request, supervisor, _ = case
    try:
        record, anchored = draw_for(pool, request, supervisor)
    except QuotaError:
        return
    state = CommitteeState.initial(record)
    for _ in range(data.draw(st.integers(1, 3))):
        leaving = data.draw(st.sampled_from([s.expert_id for s in state.members]))
        try:
            rep = replace(record, leaving, state, data.draw(st.sampled_from(["declined", "no_show"])))
        except QuotaError:
            break
        state = state.apply(rep)
        record = record.with_replacement(rep)
        assert check_quotas(record.pool, record.params, state.members) == []
    assert verify_draw(record, anchored_commitment_digest=anchored).ok
    if record.replacements:
        last = record.replacements[-1]
        forged = Replacement(last.departed_id, last.reason, last.departed_id, last.specialty)
        tampered = dataclasses.replace(record, replacements=(*record.replacements[:-1], forged))
        assert verify_draw(tampered).kinds == {"replacement"}


def test_params_roundtrip_and_inconsistency() -> None:
    params = DrawParams("T", "苏州", DAY, REQUEST, RegionRules())
    obj = params.to_json_obj()
    assert DrawParams.from_json_obj(obj) == params
    with pytest.raises(DrawError, match="inconsistent"):
        DrawParams.from_json_obj({**obj, "min_remote": 0})


def test_snapshot_rejects_unsorted() -> None:
    snap = PoolSnapshot(("E2", "E1"), ("a", "b"), (("A01",), ("A01",)))
    with pytest.raises(DrawError, match="not sorted"):
        snap.canonical_bytes()
