"""The opening record's pure rules: the ceiling read out, a price above it flagged."""

from __future__ import annotations

from datetime import UTC, datetime

from bidding.hall import RecordRow, above_ceiling, build_record


def row(bid: str, price: str | None, status: str = "decrypted") -> RecordRow:
    form = (
        None
        if price is None
        else {"price": price, "duration_days": 90, "quality": "合格", "project_manager": "王工"}
    )
    return RecordRow(bid, f"公司{bid}", f"USCC{bid}", status, form, None, None)


def test_above_ceiling_is_strictly_above() -> None:
    assert above_ceiling("100.01", 10_000)
    assert not above_ceiling("100.00", 10_000)
    assert not above_ceiling("99.99", 10_000)
    assert not above_ceiling("not a price", 10_000)


def test_the_record_flags_prices_above_the_ceiling() -> None:
    rows = [row("a", "1000.01"), row("b", "1000.00"), row("c", None, "revoked")]
    record = build_record("t", "REF", "标题", datetime(2026, 3, 2, tzinfo=UTC), rows, 100_000)
    assert record["ceiling"] == "1000.00"
    assert record["bids_above_ceiling"] == 1
    assert [e.get("above_ceiling") for e in record["bids"]] == [True, False, None]
    assert record["valid_bids"] == 2  # flagged, not refused: rejecting is the committee's act
