"""Expert draw over a 100,000-expert regional pool with every avoidance rule and quota active.

Timed per draw: avoidance rules over the compiled pool, snapshot serialisation (RFC 8785), the
pool and parameter hashes, the commitment, the seed and the quota-constrained selection with
reserves.  Not timed: building the synthetic pool and compiling it (`PoolIndex`, once per pool
change), which are reported separately.  Reference floor: SHA-256 of the same snapshot bytes.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from datetime import date, timedelta
from fractions import Fraction

from evaluation.avoidance import (
    DateRange,
    Expert,
    PastEvaluation,
    PoolIndex,
    RegionRules,
    Relation,
    RelationKind,
    TenderContext,
)
from evaluation.draw import (
    CommitteeRequest,
    eligible_snapshot,
    params_for,
    prepare_draw,
    run_draw,
)
from evaluation.draw_verify import verify_draw

DAY = date(2025, 6, 10)
CITIES = ["苏州", "上海", "杭州", "南京", "无锡", "宁波", "合肥", "常州"]
CODES = [f"A{k:02d}" for k in range(40)]


def synthetic_pool(n: int, rnd: random.Random) -> list[Expert]:
    firms = [f"F{k:05d}" for k in range(5000)]
    kinds = list(RelationKind)
    pool = []
    for k in range(n):
        leave = (DateRange(DAY - timedelta(5), DAY + timedelta(5)),) if rnd.random() < 0.03 else ()
        suspended = (DateRange(DAY - timedelta(30), DAY + timedelta(30)),) if rnd.random() < 0.01 else ()
        pool.append(
            Expert(
                expert_id=f"E{k:07d}",
                home_city=rnd.choice(CITIES),
                specialties=frozenset(rnd.sample(CODES, rnd.randint(1, 3))),
                employer_id=rnd.choice(firms),
                removed_on=DAY - timedelta(100) if rnd.random() < 0.01 else None,
                suspensions=suspended,
                leaves=leave,
                relations=tuple(
                    Relation(rnd.choice(kinds), rnd.choice(firms)) for _ in range(rnd.randint(0, 2))
                ),
                history=tuple(
                    PastEvaluation(DAY - timedelta(rnd.randint(0, 400)), rnd.choice(firms[:200]))
                    for _ in range(rnd.randint(0, 10))
                ),
            )
        )
    return pool


def run(quick: bool) -> str:
    n = 10_000 if quick else 100_000
    runs = 5 if quick else 25
    rnd = random.Random(20250610)
    t0 = time.perf_counter()
    pool = synthetic_pool(n, rnd)
    t1 = time.perf_counter()
    index = PoolIndex(pool)
    t2 = time.perf_counter()

    rules = RegionRules(yearly_evaluation_cap=8, same_tenderer_cap=1)
    request = CommitteeRequest(
        {"A01": 3, "A02": 2, "A03": 2}, committee_size=9, reserves=6, remote_fraction=Fraction(2, 3)
    )
    times, sha_times = [], []
    record = prepared = None
    for r in range(runs):
        ctx = TenderContext(
            tender_id=f"T-{r}",
            tenderer_id=f"F{r % 200:05d}",
            agency_id=f"F{(r + 7) % 5000:05d}",
            bidder_ids=frozenset(f"F{rnd.randrange(5000):05d}" for _ in range(15)),
            city="苏州",
            evaluation_date=DAY,
            required_specialties=frozenset(request.seats),
        )
        secret = rnd.randbytes(32)
        supervisor = rnd.randbytes(32)
        start = time.perf_counter()
        snapshot, counts = eligible_snapshot(index, ctx, rules)
        prepared = prepare_draw(snapshot, params_for(ctx, request, rules), counts, secret)
        record = run_draw(prepared, supervisor)
        times.append(time.perf_counter() - start)
        data = snapshot.canonical_bytes()
        start = time.perf_counter()
        hashlib.sha256(data).digest()
        sha_times.append(time.perf_counter() - start)
    assert record is not None
    assert prepared is not None
    t3 = time.perf_counter()
    ok = verify_draw(record, anchored_commitment_digest=prepared.commitment.digest()).ok
    t4 = time.perf_counter()

    ms = sorted(t * 1000 for t in times)
    median = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    sha = statistics.median(sha_times) * 1000
    size = len(record.pool.canonical_bytes())
    counts = dict(record.exclusion_counts)
    return "\n".join(
        [
            "## Expert draw (`evaluation.draw`)",
            "",
            f"Pool of {n:,} synthetic experts (40 specialty codes, 8 cities, 5,000 firms, up to 10 past "
            "evaluations each); request 3+2+2 expert seats of a 9-member committee, at least 2/3 from "
            "outside the tenderer's city, 6 reserves; every avoidance rule active.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| draw, median of {runs} (rules, snapshot, hashes, commitment, selection) | {median:.1f} ms |",
            f"| draw, p95 | {p95:.1f} ms |",
            f"| SHA-256 of the snapshot bytes alone (hashlib, median) | {sha:.2f} ms |",
            f"| ratio draw / SHA-256 floor | {median / sha:.0f}x |",
            f"| eligible experts / snapshot size | {len(record.pool):,} / {size / 1e6:.2f} MB |",
            f"| exclusions (last draw) | {', '.join(f'{k} {v:,}' for k, v in counts.items())} |",
            f"| one-off: build synthetic pool / compile `PoolIndex` | {t1 - t0:.2f} s / {t2 - t1:.2f} s |",
            f"| `verify_draw` of the last record (recomputes snapshot JSON and selection) "
            f"| {(t4 - t3) * 1000:.0f} ms, ok={ok} |",
        ]
    )


if __name__ == "__main__":
    print(run(quick=True))
