"""OCDS compiled releases (JSON Lines, bid extension) as scoring input, validated offline against the
1.1.5 release schema merged with the bid extension."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from collusion import ocds_schema, offline
from collusion.records import BidRecord
from collusion.synthetic import RegionSpec, generate_region

SCHEMA_DIR = ocds_schema.default_dir()
needs_schema = pytest.mark.skipif(SCHEMA_DIR is None, reason="OCDS schema vectors not found")
DUMMY_DB = "sqlite+aiosqlite:////nonexistent/never-used.db"


def release(tid: str, bids: list[BidRecord]) -> dict[str, Any]:
    est = bids[0].estimate
    day = bids[0].date.isoformat()
    firms = sorted({b.bidder_id for b in bids})
    winner = next((i for i, b in enumerate(bids) if b.is_winner), None)
    doc: dict[str, Any] = {
        "ocid": f"ocds-th0000-{tid}",
        "id": f"{tid}-compiled",
        "date": f"{day}T00:00:00Z",
        "tag": ["compiled"],
        "initiationType": "tender",
        "parties": [{"id": f, "name": f"{f} 公司", "roles": ["tenderer"]} for f in firms],
        "tender": {
            "id": tid,
            "value": {"amount": est, "currency": "CNY"},
            "tenderPeriod": {"endDate": f"{day}T09:00:00+08:00"},
        },
        "bids": {
            "details": [
                {
                    "id": f"{tid}-bid-{i}",
                    "status": "valid",
                    "tenderers": [{"id": b.bidder_id, "name": f"{b.bidder_id} 公司"}],
                    "value": {"amount": b.price, "currency": "CNY"},
                }
                for i, b in enumerate(bids)
            ]
        },
    }
    if winner is not None:
        doc["awards"] = [
            {
                "id": f"{tid}-award",
                "status": "active",
                "relatedBids": [f"{tid}-bid-{winner}"],
                "suppliers": [{"id": bids[winner].bidder_id, "name": f"{bids[winner].bidder_id} 公司"}],
            }
        ]
    return doc


def region_jsonl(path: Path) -> Any:
    r = generate_region(RegionSpec(n_tenders=200, n_firms=90, n_segments=4, seed=8, with_docs=False))
    by: dict[str, list[BidRecord]] = {}
    for b in r.bids:
        by.setdefault(b.tender_id, []).append(b)
    with path.open("w", encoding="utf-8") as f:
        for tid, bids in by.items():
            f.write(json.dumps(release(tid, bids), ensure_ascii=False) + "\n")
    return r, by


@needs_schema
def test_our_fixture_releases_are_valid_and_the_validator_can_fail(tmp_path: Path) -> None:
    assert SCHEMA_DIR is not None
    check = ocds_schema.Validator.from_dir(SCHEMA_DIR)
    _, by = region_jsonl(tmp_path / "r.jsonl")
    tid, bids = next(iter(by.items()))
    good = release(tid, bids)
    assert check(good) == []
    # The merged schema knows the bid extension: a bad bid status and a missing ocid are caught.
    bad = json.loads(json.dumps(good))
    bad["bids"]["details"][0]["status"] = "rigged"
    del bad["ocid"]
    bad["tender"]["value"]["amount"] = "lots"
    errors = check(bad)
    assert any("/bids/details/0/status" in e for e in errors)
    assert any("'ocid' is required" in e for e in errors)
    assert any("/tender/value/amount" in e for e in errors)


@needs_schema
def test_ocds_lines_with_problems_are_reported_by_line() -> None:
    assert SCHEMA_DIR is not None
    bids = [BidRecord("X1", f"F{i}", 1e6 + i * 1e4, dt.date(2025, 1, 1), i == 0, 1.2e6) for i in range(3)]
    good = release("X1", bids)
    bad_status = json.loads(json.dumps(good))
    bad_status["ocid"] = "ocds-th0000-X2"
    bad_status["bids"]["details"][1]["status"] = "rigged"
    no_bids = {k: v for k, v in good.items() if k != "bids"} | {"ocid": "ocds-th0000-X3"}
    withdrawn = json.loads(json.dumps(good))
    withdrawn["ocid"] = "ocds-th0000-X4"
    withdrawn["bids"]["details"][2]["status"] = "withdrawn"
    package = {"uri": "x", "releases": [json.loads(json.dumps(good)) | {"ocid": "ocds-th0000-X5"}]}
    text = "\n".join(
        [
            json.dumps(good),
            "{not json",
            json.dumps(bad_status),
            "",
            json.dumps(no_bids),
            json.dumps(withdrawn),
            json.dumps(package),
        ]
    )
    loaded = offline.read_ocds(io.StringIO(text), ocds_schema.Validator.from_dir(SCHEMA_DIR))
    assert [(p.line, p.code) for p in loaded.problems] == [
        (2, "json.invalid"),
        (3, "ocds.schema"),
        (5, "ocds.no_bids"),
    ]
    assert "status" in loaded.problems[1].detail
    counts = {t: sum(1 for b in loaded.bids if b.tender_id == t) for t in loaded.tender_ids}
    assert counts == {"ocds-th0000-X1": 3, "ocds-th0000-X4": 2, "ocds-th0000-X5": 3}
    x1 = [b for b in loaded.bids if b.tender_id == "ocds-th0000-X1"]
    assert [b.is_winner for b in x1] == [True, False, False]
    assert x1[0].estimate == 1.2e6
    assert x1[0].date.isoformat() == "2025-01-01"


@needs_schema
def test_score_command_reads_ocds_and_finds_patterns(tmp_path: Path, run_cli: Any) -> None:
    inp, out = tmp_path / "releases.jsonl", tmp_path / "risk.csv"
    r, _ = region_jsonl(inp)
    done = run_cli(
        DUMMY_DB, "collusion", "score", str(inp), "--output", str(out), "--schema", str(SCHEMA_DIR)
    )
    assert done.returncode == 0, done.stderr
    rows = {row["tender_id"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert len(rows) == len(r.tenders)
    # OCDS carries no IPs or bond accounts, but prices and co-bidding history are there.
    cover = next(c for c in r.cartels if c.kind.value == "cover_bidding")
    assert any("evidence.cover_bidding" in rows[f"ocds-th0000-{t}"]["reasons"] for t in cover.tenders)
    steps = next(c for c in r.cartels if c.kind.value == "regular_price_steps")
    assert any("evidence.regular_price_steps" in rows[f"ocds-th0000-{t}"]["reasons"] for t in steps.tenders)
    assert all(row["level"] != "high" for row in rows.values())  # soft evidence only
