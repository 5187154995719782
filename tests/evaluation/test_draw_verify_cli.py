"""`tenderhall draw verify` as a real subprocess: honest records pass, every kind of tampering fails."""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from evaluation import draw as dr
from evaluation.avoidance import Expert, RegionRules, TenderContext


def honest_record() -> tuple[dict[str, Any], str]:
    experts = [
        Expert(f"e{i:03d}", "上海" if i % 3 else "杭州", frozenset({"A01"} if i % 2 else {"A01", "B02"}))
        for i in range(40)
    ]
    ctx = TenderContext(
        "t1", "TENDERER", None, frozenset(), "上海", date(2026, 4, 1), frozenset({"A01", "B02"})
    )
    rules = RegionRules()
    pool, counts = dr.eligible_snapshot(experts, ctx, rules)
    params = dr.params_for(ctx, dr.CommitteeRequest({"A01": 4, "B02": 1}, 5, 3, Fraction(2, 3)), rules)
    prepared = dr.prepare_draw(pool, params, counts, bytes(range(32)))
    record = dr.run_draw(prepared, b"supervisor-value-0123456789")
    state = dr.CommitteeState.initial(record)
    record = record.with_replacement(dr.replace(record, record.committee[0].expert_id, state, "declined"))
    return json.loads(record.to_json()), prepared.commitment.digest()


def tamper(kind: str, rec: dict[str, Any]) -> None:
    if kind == "pool":
        rec["pool"][0]["city"] = "南京"
    elif kind == "params":
        rec["params"]["tender_city"] = "杭州"
    elif kind == "seed":
        rec["seed"] = "00" + rec["seed"][2:]
    elif kind == "result":
        rec["committee"][0]["expert_id"], rec["reserves"][0] = (
            rec["reserves"][0],
            rec["committee"][0]["expert_id"],
        )
    elif kind == "supervisor":
        rec["supervisor_value"] = rec["supervisor_value"][:-2] + "ff"


def write(tmp_path: Path, rec: dict[str, Any]) -> Path:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    return path


def test_honest_record_verifies(run_cli: Any, database_url: str, tmp_path: Path) -> None:
    rec, commitment = honest_record()
    done = run_cli(database_url, "draw", "verify", str(write(tmp_path, rec)), "--commitment", commitment)
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout
    assert "anchored" in done.stdout


@pytest.mark.parametrize("kind", ["pool", "params", "seed", "result", "supervisor"])
def test_tampered_record_is_rejected(run_cli: Any, database_url: str, tmp_path: Path, kind: str) -> None:
    rec, commitment = honest_record()
    tamper(kind, rec)
    done = run_cli(database_url, "draw", "verify", str(write(tmp_path, rec)), "--commitment", commitment)
    assert done.returncode == 1
    assert "MISMATCH" in done.stderr


def test_rewritten_commitment_is_caught_by_the_anchor(
    run_cli: Any, database_url: str, tmp_path: Path
) -> None:
    """A forger who rewrites pool *and* commitment consistently fails only against the ledger anchor."""
    rec, commitment = honest_record()
    pool = dr.PoolSnapshot.from_json_obj(rec["pool"][1:])
    rec["pool"] = pool.to_json_obj()
    rec["commitment"]["pool_hash"] = pool.digest()
    rec["commitment"]["pool_size"] = len(pool)
    path = write(tmp_path, rec)
    done = run_cli(database_url, "draw", "verify", str(path), "--commitment", commitment)
    assert done.returncode == 1
    assert "[commitment]" in done.stderr
