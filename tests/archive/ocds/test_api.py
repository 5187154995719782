"""The OCDS API on the demo platform (every tender state the demo seeds) and under attack.

Every document the API serves validates offline against the OCDS 1.1.5 schemas and the bid
details extension (an independent validator, ``ocds_validation``); drafts never appear; the
platform's own feed goes through ``tenderhall collusion score --format ocds``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from archive.ocds import feed
from archive.ocds.records import compiled_record
from tenderhall.app import create_app
from tenderhall.clock import SystemClock
from tenderhall.demo import seed
from tenderhall.errors import NotFound
from tenderhall.services import Services
from tenderhall.settings import Settings
from tenderhall.tenders.models import Tender
from tests.archive.ocds.ocds_validation import errors, vectors
from tests.support.tenders import draft_tender

API = "/api/v1/ocds"
RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术方案", "kind": "technical", "max_points": "70"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "30"},
    ],
}


@pytest.fixture
async def demo(settings: Settings) -> AsyncIterator[Litestar]:
    """The demo platform (a dozen tenders across the lifecycle), served on the real clock."""
    assert await seed(settings) is not None
    application = create_app(settings, SystemClock(), sweeper=False)
    yield application
    await application.state.services.engine.dispose()


def ocid(services: Services, tender_id: Any) -> str:
    return f"{services.settings.ocds_prefix}-{tender_id}"


def is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def walk_feed(client: Any, limit: int) -> list[dict[str, Any]]:
    """Every page of the feed, following links.next."""
    pages = []
    url: str | None = f"{API}/releases?limit={limit}"
    while url is not None:
        answer = await client.get(url)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        url = pages[-1].get("links", {}).get("next")
        assert len(pages) < 100
    return pages


@pytest.mark.slow
async def test_every_demo_tender_validates_and_drafts_never_appear(
    demo: Litestar, database_url: str, run_cli: Any, tmp_path: Path
) -> None:
    services: Services = demo.state.services
    async with services.sessionmaker() as db:
        tenders = list(await db.scalars(select(Tender)))
    public = {t.id: t for t in tenders if t.state != "draft" and t.issued_at is not None}
    drafts = [t for t in tenders if t.issued_at is None]
    assert drafts
    assert len({t.state for t in public.values()}) >= 6
    async with AsyncTestClient(app=demo, base_url="http://testserver.local") as client:
        validated: set[str] = set()
        awarded: dict[str, Any] | None = None
        for tender in public.values():
            answer = await client.get(f"{API}/releases/{ocid(services, tender.id)}")
            assert answer.status_code == 200, answer.text
            package = answer.json()
            assert errors("release-package", package) == [], tender.state
            (release,) = package["releases"]
            assert errors("release", release) == [], tender.state
            answer = await client.get(f"{API}/records/{ocid(services, tender.id)}")
            assert answer.status_code == 200, answer.text
            records = answer.json()
            assert errors("record-package", records) == [], tender.state
            (record,) = records["records"]
            assert errors("release", record["compiledRelease"]) == []
            assert record["releases"] == [release]
            async with services.reader() as db:
                assert await compiled_record(db, services, tender.id) == record
            # Bids only after the award, losing ones included with their bidders and values.
            assert ("bids" in release) == (tender.state == "awarded"), tender.state
            if tender.state == "awarded":
                awarded = release
            validated.add(tender.state)
        assert validated == {t.state for t in public.values()}

        assert awarded is not None
        (award,) = awarded["awards"]
        winners = {s["id"] for s in award["suppliers"]}
        losing = [d for d in awarded["bids"]["details"] if d["tenderers"][0]["id"] not in winners]
        assert losing
        assert all(d["value"]["amount"] > 0 for d in losing if d["status"] == "valid")
        assert award["relatedBids"][0] in {d["id"] for d in awarded["bids"]["details"]}

        for draft in drafts:  # a draft's ocid, guessed: as absent as a made-up one
            for kind in ("releases", "records"):
                is_problem(await client.get(f"{API}/{kind}/{ocid(services, draft.id)}"), 404)
            async with services.reader() as db:
                with pytest.raises(NotFound):
                    await compiled_record(db, services, draft.id)

        # The feed: every public tender once, no draft, each page valid, small pages chained.
        pages = await walk_feed(client, limit=4)
        assert len(pages) == -(-len(public) // 4)
        seen = [r["ocid"] for p in pages for r in p["releases"]]
        assert sorted(seen) == sorted(ocid(services, t) for t in public)
        for page in pages:
            assert errors("release-package", page) == []
            assert all(errors("release", r) == [] for r in page["releases"])
        assert "links" not in pages[-1]
        whole = await walk_feed(client, limit=feed.MAX_LIMIT)
        assert len(whole) == 1
        assert [r["ocid"] for r in whole[0]["releases"]] == seen

        # ETag: the same data answers the same bytes, so a poller gets 304 until it changes.
        first = await client.get(f"{API}/releases?limit=4")
        tag = first.headers["etag"]
        again = await client.get(f"{API}/releases?limit=4", headers={"if-none-match": tag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == tag
        stale = await client.get(f"{API}/releases?limit=4", headers={"if-none-match": '"0000"'})
        assert stale.status_code == 200
        assert stale.content == first.content
        some = ocid(services, next(iter(public)))
        record_tag = (await client.get(f"{API}/records/{some}")).headers["etag"]
        cached = await client.get(f"{API}/records/{some}", headers={"if-none-match": f"W/{record_tag}"})
        assert cached.status_code == 304

        # since: only tenders changed at or after it.
        latest = max(t.updated_at for t in public.values())
        since = (latest - timedelta(microseconds=1)).isoformat()
        recent = await client.get(f"{API}/releases", params={"since": since})
        assert recent.status_code == 200, recent.text
        assert [r["ocid"] for r in recent.json()["releases"]] == [seen[-1]]

    # Round trip: the platform's own feed (one release package a line) is the detector's input.
    feed_file = tmp_path / "feed.jsonl"
    feed_file.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pages), encoding="utf-8")
    out = tmp_path / "scores.csv"
    scored = run_cli(
        database_url, "collusion", "score", str(feed_file), "--format", "ocds", "--output", str(out),
        "--schema", str(vectors()), "--quiet",
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert "ocds.schema" not in scored.stderr  # the detector's own validator agrees
    assert "scored 1 tenders" in scored.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["tender_id"] for r in rows] == [awarded["ocid"]]
    assert rows[0]["level"] in ("high", "suspicious", "none")


async def test_attacks_get_problem_details(
    services: Services, world: Any, client: AsyncTestClient[Litestar]
) -> None:
    async with services.transaction() as db:
        draft = await draft_tender(
            services,
            db,
            world.who("tenderer"),
            title="未发布的项目",
            estimate_fen=100_000_00,
            tenderer_id=world.tenderers[0].id,
            centre_id=world.centres[0].id,
            rubric=RUBRIC,
        )
    guessed = ocid(services, draft.id)
    for who in (None, "staff", "tenderer", "admin"):  # not even those who run it: open data only
        headers = world.auth(who) if who else {}
        for kind in ("releases", "records"):
            is_problem(await client.get(f"{API}/{kind}/{guessed}", headers=headers), 404)
    empty = await client.get(f"{API}/releases")
    assert empty.status_code == 200
    assert empty.json()["releases"] == []

    for bad in (f"ocds-zzzzzz-{draft.id}", str(draft.id), guessed.upper(), guessed + "-1", "..%2F..%2Fetc"):
        is_problem(await client.get(f"{API}/records/{bad}"), 404)
    is_problem(await client.get(f"{API}/records/{'x' * 5000}"), 400)

    for limit in ("0", "-1", "101", "1" * 40, "abc", "1e9"):
        is_problem(await client.get(f"{API}/releases", params={"limit": limit}), 400)
    for cursor in ("garbage", "eyJ0aGlzIjoianNvbiJ9", "MjAyNi0wMy0wMlQwMjowMDowMHx4"):
        body = is_problem(await client.get(f"{API}/releases", params={"cursor": cursor}), 422)
        assert body["code"] == "ocds.cursor_invalid"
    is_problem(await client.get(f"{API}/releases", params={"cursor": "A" * 10_000}), 400)
    for since in ("yesterday", "2026-03-02T10:00:00", "2026-13-40T00:00:00Z"):
        body = is_problem(await client.get(f"{API}/releases", params={"since": since}), 422)
        assert body["code"] == "ocds.since_invalid"
    zh = await client.get(
        f"{API}/releases", params={"cursor": "garbage"}, headers={"accept-language": "zh-CN"}
    )
    assert "游标无效" in zh.json()["detail"]
