"""The pure OCDS builders and the feed's cursor: valid documents for every kind of tender, and a
cursor or a page size that the platform did not make is refused."""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from archive.ocds import build, feed
from archive.ocds.facts import tender_id_of
from tenderhall.errors import InvalidInput
from tests.archive.ocds.ocds_validation import errors

T = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
BUYER = build.Org("上海市第一人民医院", "12310000MB0000001X", "上海")
AGENCY = build.Org("上海华东招标代理有限公司", "91310000MA0000002Y", "上海")
FIRMS = [build.Org(f"投标公司{i}", f"9131000000000000{i}A", "上海") for i in range(3)]


def facts(state: str = "published", **changes: object) -> build.TenderFacts:
    base = build.TenderFacts(
        ocid="ocds-thall0-" + str(uuid.UUID(int=7)),
        tender_id=str(uuid.UUID(int=7)),
        reference="SH-2026-0001",
        title="医院门诊楼改造工程",
        description="资金已落实",
        state=state,
        procedure="open_tender",
        category="works",
        estimate_fen=1_000_000_00,
        changed_at=T + timedelta(days=30),
        issued_at=T,
        deadline_at=T + timedelta(days=20),
        buyer=BUYER,
        agency=AGENCY,
        documents=[
            build.DocumentFacts("d1", "招标文件.pdf", "application/pdf", "ab" * 32, 10, "http://x/d1", T)
        ],
        amendments=[
            build.AmendmentFacts(1, "延长截止时间", T + timedelta(days=3), T, T + timedelta(days=20))
        ],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def awarded() -> build.TenderFacts:
    bids = [
        build.BidFacts("b0", FIRMS[0], "decrypted", True, Decimal("950000.50"), T + timedelta(days=19)),
        build.BidFacts("b1", FIRMS[1], "decrypted", True, Decimal("990000"), T + timedelta(days=19)),
        build.BidFacts("b2", FIRMS[2], "revoked", False, None, T + timedelta(days=19)),
    ]
    award = build.AwardFacts("a1", FIRMS[0], Decimal("950000.50"), T + timedelta(days=29), "b0")
    return facts("awarded", bids=bids, awards=[award])


@pytest.mark.parametrize(
    "made",
    [
        facts("published"),
        facts("closed", amendments=[], documents=[]),
        facts("terminated", agency=None),
        facts("failed"),
        awarded(),
        replace(awarded(), state="archived", ended_as="awarded"),
        facts("archived", ended_as="terminated"),
    ],
    ids=lambda f: f"{f.state}-{f.ended_as}",
)
def test_every_kind_of_tender_makes_valid_documents(made: build.TenderFacts) -> None:
    release = build.release(made)
    assert errors("release", release) == []
    record = build.record(made)
    assert errors("release", record["compiledRelease"]) == []
    publisher = build.Publisher("x", "http://x")
    assert errors("record-package", build.record_package([record], "http://x/r", T, publisher)) == []
    package = build.release_package([release], "http://x/p", T, publisher, "http://x/p?cursor=a")
    assert errors("release-package", package) == []


def test_bids_losing_ones_included_and_the_award() -> None:
    release = build.release(awarded())
    details = {d["id"]: d for d in release["bids"]["details"]}
    assert details["b1"]["value"] == {"amount": 990000, "currency": "CNY"}  # a losing bid, with its value
    assert details["b1"]["status"] == "valid"
    assert details["b2"]["status"] == "disqualified"
    assert "value" not in details["b2"]
    assert details["b0"]["value"]["amount"] == 950000.5
    assert release["awards"][0]["relatedBids"] == ["b0"]
    assert release["awards"][0]["suppliers"] == [{"id": FIRMS[0].party_id, "name": FIRMS[0].name}]
    roles = {p["id"]: p["roles"] for p in release["parties"]}
    assert roles[FIRMS[0].party_id] == ["tenderer", "supplier"]
    assert roles[FIRMS[1].party_id] == ["tenderer"]
    assert roles[BUYER.party_id] == ["buyer"]
    assert roles[AGENCY.party_id] == ["procuringEntity"]
    assert release["tender"]["numberOfTenderers"] == 3
    assert release["tender"]["status"] == "complete"
    assert release["tag"] == [
        "tender",
        "tenderAmendment",
        "award",
    ]


def test_states_and_what_each_shows() -> None:
    assert "bids" not in build.release(facts("published"))
    assert build.release(facts("failed"))["tender"]["status"] == "unsuccessful"
    cancelled = build.release(facts("terminated"))
    assert cancelled["tender"]["status"] == "cancelled"
    assert "tenderCancellation" in cancelled["tag"]
    assert build.release(facts("archived", ended_as="failed"))["tender"]["status"] == "unsuccessful"
    document = build.release(facts())["tender"]["documents"][0]
    assert document["description"].startswith("sha256:" + "ab" * 32)


def test_a_release_id_names_one_content() -> None:
    one, same = build.release(facts()), build.release(facts())
    assert one == same
    changed = build.release(facts(title="医院门诊楼改造工程（二期）"))
    assert changed["id"] != one["id"]
    assert changed["id"].startswith(one["ocid"] + "-")
    record = build.record(facts())
    assert record["compiledRelease"]["tag"] == ["compiled"]
    assert record["releases"] == [one]


def test_the_cursor_round_trips() -> None:
    here = feed.Position(T, uuid.UUID(int=42))
    assert feed.decode(feed.encode(here)) == here
    shifted = feed.Position(T.astimezone(build.UTC), uuid.UUID(int=42))
    assert feed.encode(shifted) == feed.encode(here)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "x" * 500,
        "!!!!",
        "%00",
        _b64("garbage"),
        _b64("2026-03-02T02:00:00+00:00|not-a-uuid"),
        _b64("2026-03-02T02:00:00|" + str(uuid.UUID(int=1))),  # no zone
        _b64(
            "2026-03-02T02:00:00+00:00|" + str(uuid.UUID(int=0xABCDEF)).upper()
        ),  # not the platform's spelling
        feed.encode(feed.Position(T, uuid.UUID(int=1))) + "==",
        base64.urlsafe_b64encode(b"\xff\xfe|\x00").decode(),
    ],
)
def test_a_cursor_the_platform_did_not_make_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        feed.decode(cursor)
    assert refused.value.key == "ocds.cursor_invalid"


@pytest.mark.parametrize("limit", [0, -1, feed.MAX_LIMIT + 1, 10**30])
def test_page_sizes_are_bounded(limit: int) -> None:
    with pytest.raises(InvalidInput):
        feed.check_limit(limit)
    assert feed.check_limit(feed.MAX_LIMIT) == feed.MAX_LIMIT


def test_an_ocid_names_a_tender_of_this_platform_only() -> None:
    tid = uuid.UUID(int=0xABCDEF09)
    assert tender_id_of(f"ocds-thall0-{tid}", "ocds-thall0") == tid
    for other in (
        f"ocds-abcdef-{tid}",
        f"xocds-thall0-{tid}",
        f"ocds-thall0-{str(tid).upper()}",
        f"ocds-thall0-{tid}-1",
        "ocds-thall0-",
        "ocds-thall0",
        "",
    ):
        assert tender_id_of(other, "ocds-thall0") is None, other


def test_the_validator_sees_what_the_schema_forbids() -> None:
    release = build.release(awarded())
    release["bids"]["details"][0]["status"] = "won"  # not in the closed bidStatus codelist
    del release["initiationType"]
    release["date"] = "yesterday"
    found = errors("release", release)
    assert any("bids/details/0/status" in e for e in found)
    assert any("initiationType" in e for e in found)
    assert any(e.startswith("date:") for e in found)
