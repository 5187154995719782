"""Collusion detector, region-wide batch: 300,000 tenders / 50,000 firms / ~1.8 million bids."""

from __future__ import annotations

import gc
import os
import resource
import time

from collusion.detector import Detector, RiskLevel
from collusion.synthetic import RegionSpec, generate_columns

FULL = RegionSpec(n_tenders=300_000, n_firms=50_000, n_segments=500, bidders=(3, 9), with_docs=False, seed=7)
QUICK = RegionSpec(n_tenders=20_000, n_firms=4_000, n_segments=40, bidders=(3, 9), with_docs=False, seed=7)
TIME_BUDGET_S = 60.0
MEMORY_BUDGET_GB = 3.0


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB


def run(quick: bool) -> str:
    spec = QUICK if quick else FULL
    t0 = time.perf_counter()
    region = generate_columns(spec)  # the generator's region with its bids as columns, not records
    gen_s = time.perf_counter() - t0
    n_bids, n_tenders, n_firms = len(region.bids), len(region.tenders), len(region.companies)
    gc.collect()
    rss_input = _rss_gb()
    load = os.getloadavg()
    t1, c1 = time.perf_counter(), time.process_time()
    det = Detector.from_columns(region.companies, region.bids, region.tenders)
    ingest_s, ingest_cpu = time.perf_counter() - t1, time.process_time() - c1
    t2, c2 = time.perf_counter(), time.process_time()
    results = det.batch()
    score_s, score_cpu = time.perf_counter() - t2, time.process_time() - c2
    total = ingest_s + score_s
    peak = _rss_gb()
    load = tuple(max(a, b) for a, b in zip(load, os.getloadavg(), strict=True))
    high = sum(r.level is RiskLevel.HIGH for r in results)
    suspicious = sum(r.level is RiskLevel.SUSPICIOUS for r in results)
    truth = {t for c in region.cartels for t in c.tenders}
    found = sum(1 for r in results if r.tender_id in truth and r.level is not RiskLevel.NONE)
    verdict = "met" if total <= TIME_BUDGET_S and peak <= MEMORY_BUDGET_GB else "NOT met"
    return (
        "### Collusion detector: region batch\n\n"
        f"Synthetic region (collusion.synthetic.generate_columns, seed {spec.seed}, no document texts): "
        f"{n_tenders:,} tenders, "
        f"{n_firms:,} firms, {n_bids:,} bids as columns; generated in {gen_s:.0f} s (not counted).\n\n"
        "| stage | wall | CPU |\n|---|---|---|\n"
        f"| ingest (GraphIndex.from_columns: bids, attribute index) | {ingest_s:.1f} s "
        f"| {ingest_cpu:.1f} s |\n"
        f"| batch (region evidence, screens, screen model, risk per tender) | {score_s:.1f} s "
        f"| {score_cpu:.1f} s |\n"
        f"| **total** | **{total:.1f} s** (budget {TIME_BUDGET_S:.0f} s) "
        f"| {ingest_cpu + score_cpu:.1f} s |\n\n"
        "Load average during the run (1/5/15 min, highest seen): "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores.\n\n"
        f"Peak RSS {peak:.2f} GiB (of which the generated input {rss_input:.2f} GiB; "
        f"budget {MEMORY_BUDGET_GB:.0f} GB): **{verdict}**. "
        f"Result: {high:,} high, {suspicious:,} suspicious; "
        f"{found}/{len(truth)} injected cartel tenders flagged.\n"
    )
