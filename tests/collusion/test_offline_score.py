"""`tenderhall collusion score`: the CSV contract, bad rows with line numbers, the output contract."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from collusion import offline
from collusion.synthetic import RegionSpec, generate_region

HEADER = "tender_id,bidder_id,price,date,winner,estimate,ip,device,bond_account,legal_rep,contact,notes\n"
DUMMY_DB = "sqlite+aiosqlite:////nonexistent/never-used.db"  # score never opens the database


def region_csv(path: Path) -> Any:
    r = generate_region(RegionSpec(n_tenders=300, n_firms=120, n_segments=5, seed=4, with_docs=False))
    reps = {c.company_id: c.legal_rep for c in r.companies}
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([*offline.REQUIRED, *offline.OPTIONAL, "extra_column"])
        for b in r.bids:
            w.writerow(
                [
                    b.tender_id,
                    b.bidder_id,
                    f"{b.price:.2f}",
                    b.date.isoformat(),
                    "1" if b.is_winner else "0",
                    "" if b.estimate is None else f"{b.estimate:.2f}",
                    b.ip,
                    b.device,
                    b.bond_account,
                    reps.get(b.bidder_id, ""),
                    b.contacts[0] if b.contacts else "",
                    "ignored",
                ]
            )
    return r


def test_bad_rows_are_reported_with_line_numbers_and_skipped() -> None:
    text = (
        HEADER
        + "T1,A,1000000,2025-01-02,1,,,,,,,\n"  # line 2 ok
        + "T1,B,abc,2025-01-02,0,,,,,,,\n"  # 3 price
        + ",C,1000,2025-01-02,0,,,,,,,\n"  # 4 tender
        + "T1,D,-5,2025-01-02,0,,,,,,,\n"  # 5 negative
        + "T1,E,1010000,2025-13-02,0,,,,,,,\n"  # 6 date
        + "T1,F,1020000,2025-01-02,maybe,,,,,,,\n"  # 7 winner
        + "T1,G,1030000,2025-01-02,0,zero,,,,,,\n"  # 8 estimate
        + "T1,A,1040000,2025-01-02,0,,,,,,,\n"  # 9 duplicate bidder in the tender
        + "\n"  # 10 blank: not a row
        + 'T1,H,"1,050,000.00",2025-01-02,0,,,,,,,\n'  # 11 ok (thousands separators)
        + "T1,,1060000,,0,,,,,,,\n"  # 12 ok, anonymous bidder, no date
        + "T1,,1070000,,,,,,,,,\n"  # 13 ok, second anonymous bidder
        + "T1,I,nan,2025-01-02,0,,,,,,,\n"  # 14 not finite
        + "T1\n"  # 15 short row
    )
    loaded = offline.read_csv(io.StringIO(text))
    got = [(p.line, p.code) for p in loaded.problems]
    assert got == [
        (3, "price.invalid"),
        (4, "tender_id.missing"),
        (5, "price.invalid"),
        (6, "date.invalid"),
        (7, "winner.invalid"),
        (8, "estimate.invalid"),
        (9, "bid.duplicate"),
        (14, "price.invalid"),
        (15, "row.short"),
    ]
    assert [b.bidder_id for b in loaded.bids][:2] == ["A", "H"]
    anon = [b.bidder_id for b in loaded.bids if b.bidder_id.startswith(offline.ANON)]
    assert len(anon) == 2
    assert len(set(anon)) == 2
    assert {b.price for b in loaded.bids} == {1_000_000.0, 1_050_000.0, 1_060_000.0, 1_070_000.0}
    assert loaded.rows == 13


def test_missing_required_column_is_fatal() -> None:
    with pytest.raises(offline.InputError, match="price"):
        offline.read_csv(io.StringIO("tender_id,bidder_id,amount\nT1,A,5\n"))
    with pytest.raises(offline.InputError, match="empty"):
        offline.read_csv(io.StringIO(""))


def test_score_command_end_to_end(tmp_path: Path, run_cli: Any) -> None:
    inp, out = tmp_path / "bids.csv", tmp_path / "risk.csv"
    r = region_csv(inp)
    with inp.open("a", encoding="utf-8") as f:
        f.write("T999999,F00001,not-a-price,2025-01-01,0,,,,,,,x\n")
    bad_line = len(r.bids) + 2
    done = run_cli(DUMMY_DB, "collusion", "score", str(inp), "--output", str(out), "--explain", "zh")
    assert done.returncode == 0, done.stderr
    assert f"line {bad_line}: price.invalid" in done.stderr
    # Written whole through a temporary file renamed into place: none is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bids.csv", "risk.csv"]
    assert out.stat().st_mode & 0o777 == 0o644
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["tender_id", "risk", "level", "reasons", "explanation"]
    by_id = {row["tender_id"]: row for row in rows}
    assert set(by_id) == {t.tender_id for t in r.tenders}  # one row per tender, the bad row not used
    for row in rows:
        assert 0.0 <= float(row["risk"]) <= 1.0
        assert row["level"] in ("high", "suspicious", "none")
    bond = next(c for c in r.cartels if c.kind.value == "shared_bond_account")
    for tid in bond.tenders:
        assert by_id[tid]["level"] == "high"
        assert "evidence.shared_bond_account" in by_id[tid]["reasons"].split(";")
        assert "投标保证金从同一账户" in by_id[tid]["explanation"]
    rep = next(c for c in r.cartels if c.kind.value == "shared_legal_rep")
    assert all("evidence.shared_legal_rep" in by_id[t]["reasons"] for t in rep.tenders)
    cartel_tenders = {t for c in r.cartels for t in c.tenders}
    honest = [float(row["risk"]) for t, row in by_id.items() if t not in cartel_tenders]
    hard = [float(by_id[t]["risk"]) for t in bond.tenders]
    assert min(hard) > sorted(honest)[int(0.9 * len(honest))]  # higher risk = more collusive
    strict = run_cli(DUMMY_DB, "collusion", "score", str(inp), "-o", str(out), "--strict", "--quiet")
    assert strict.returncode == 2


def test_score_command_refuses_unusable_input(tmp_path: Path, run_cli: Any) -> None:
    inp = tmp_path / "bad.csv"
    inp.write_text("tender,bidder,price\nT1,A,5\n", encoding="utf-8")
    done = run_cli(DUMMY_DB, "collusion", "score", str(inp), "--output", str(tmp_path / "o.csv"))
    assert done.returncode == 1
    assert "tender_id" in done.stderr
    assert "bidder_id" in done.stderr
    assert not (tmp_path / "o.csv").exists()


def test_thresholds_from_the_command_line(tmp_path: Path, run_cli: Any) -> None:
    inp = tmp_path / "b.csv"
    inp.write_text(
        HEADER + "T1,A,900000,,1,,,,acct-1,,,\nT1,B,950000,,0,,,,acct-1,,,\nT1,C,990000,,0,,,,acct-3,,,\n",
        encoding="utf-8",
    )
    bad = run_cli(DUMMY_DB, "collusion", "score", str(inp), "-o", str(tmp_path / "o.csv"), "--high", "0.3")
    assert bad.returncode == 1
    assert "thresholds" in bad.stderr
    ok = run_cli(DUMMY_DB, "collusion", "score", str(inp), "-o", str(tmp_path / "o.csv"), "--high", "0.95")
    assert ok.returncode == 0, ok.stderr
    row = next(csv.DictReader((tmp_path / "o.csv").open(encoding="utf-8")))
    assert row["level"] == "high"
    assert float(row["risk"]) >= 0.95
