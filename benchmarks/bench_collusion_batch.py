"""Collusion detector, region-wide batch: 300,000 tenders / 50,000 firms / ~1.8 million bids."""

from __future__ import annotations

import gc
import resource
import time

from collusion.detector import Detector, RiskLevel
from collusion.synthetic import RegionSpec, generate_region

FULL = RegionSpec(n_tenders=300_000, n_firms=50_000, n_segments=500, bidders=(3, 9), with_docs=False, seed=7)
QUICK = RegionSpec(n_tenders=20_000, n_firms=4_000, n_segments=40, bidders=(3, 9), with_docs=False, seed=7)
TIME_BUDGET_S = 60.0
MEMORY_BUDGET_GB = 3.0


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB


def run(quick: bool) -> str:
    spec = QUICK if quick else FULL
    t0 = time.perf_counter()
    region = generate_region(spec)
    gen_s = time.perf_counter() - t0
    n_bids, n_tenders, n_firms = len(region.bids), len(region.tenders), len(region.companies)
    gc.collect()
    rss_input = _rss_gb()
    t1 = time.perf_counter()
    det = Detector.from_records(region.companies, region.bids, region.tenders)
    ingest_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    results = det.batch()
    score_s = time.perf_counter() - t2
    total = ingest_s + score_s
    peak = _rss_gb()
    high = sum(r.level is RiskLevel.HIGH for r in results)
    suspicious = sum(r.level is RiskLevel.SUSPICIOUS for r in results)
    truth = {t for c in region.cartels for t in c.tenders}
    found = sum(1 for r in results if r.tender_id in truth and r.level is not RiskLevel.NONE)
    verdict = "met" if total <= TIME_BUDGET_S and peak <= MEMORY_BUDGET_GB else "NOT met"
    return (
        "### Collusion detector: region batch\n\n"
        f"Synthetic region (collusion.synthetic, seed {spec.seed}, no document texts): "
        f"{n_tenders:,} tenders, "
        f"{n_firms:,} firms, {n_bids:,} bids; generated in {gen_s:.0f} s (not counted).\n\n"
        "| stage | time |\n|---|---|\n"
        f"| ingest (GraphIndex.from_records + prices) | {ingest_s:.1f} s |\n"
        f"| batch (region evidence, screens, screen model, risk per tender) | {score_s:.1f} s |\n"
        f"| **total** | **{total:.1f} s** (budget {TIME_BUDGET_S:.0f} s) |\n\n"
        f"Peak RSS {peak:.2f} GiB (of which the generated input records {rss_input:.2f} GiB; "
        f"budget {MEMORY_BUDGET_GB:.0f} GB): **{verdict}**. "
        f"Result: {high:,} high, {suspicious:,} suspicious; "
        f"{found}/{len(truth)} injected cartel tenders flagged.\n"
    )
