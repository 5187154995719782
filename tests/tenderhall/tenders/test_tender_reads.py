"""The tender read path: plain GETs take no lock, and a deadline that has passed is still applied
by the first read that finds it due, in a writing transaction of its own, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tenderhall.ledger.models import LedgerEntry
from tenderhall.tenders.models import Tender
from tests.tenderhall.db.statements import locking, recorded
from tests.tenderhall.tenders.test_tender_api import draft, published

HTML = {"accept": "text/html"}


async def closes(services: Any, tender_id: str) -> int:
    async with services.reader() as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.kind == "tender.close", LedgerEntry.subject == f"tender:{tender_id}")
            )
            or 0
        )


async def test_plain_reads_take_no_lock(client, world, services, clock) -> None:
    tender = await published(client, world, clock)
    reads = [
        ("/api/v1/tenders", {}),
        (f"/api/v1/tenders/{tender['id']}", {}),
        (f"/api/v1/tenders/{tender['id']}/amendments", {}),
        (f"/api/v1/tenders/{tender['id']}/clarifications", world.auth("tenderer")),
        (f"/api/v1/tenders/{tender['id']}/registrations", world.auth("tenderer")),
        ("/", HTML),
        (f"/tenders/{tender['id']}", HTML),
        (f"/tenders/{tender['id']}", {**HTML, **world.auth("bidder")}),
        ("/ledger", HTML),
        ("/healthz", {}),
    ]
    for path, headers in reads:
        for caller in ({}, world.auth("bidder"), world.auth("staff")):
            with recorded(services) as sent:
                response = await client.get(path, headers={**caller, **headers})
            assert response.status_code == 200, (path, response.text)
            assert sent, path
            assert locking(sent) == [], (path, locking(sent))


async def test_a_read_after_the_deadline_applies_the_close_once(client, world, services, clock) -> None:
    tender = await published(client, world, clock)
    clock.set(clock.now() + timedelta(days=20))  # exactly the deadline
    with recorded(services) as sent:
        first = await client.get(f"/api/v1/tenders/{tender['id']}")
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "closed"
    assert first.json()["version"] == tender["version"] + 1
    # One writing transaction applied it: SQLite's BEGIN IMMEDIATE, or the tender's row lock
    # (and the ledger head's, for its event) on PostgreSQL.
    assert len([s for s in locking(sent) if "ledger_head" not in s]) == 1, locking(sent)
    async with services.reader() as db:
        assert await db.scalar(select(Tender.state).where(Tender.id == first.json()["id"])) == "closed"
    assert await closes(services, tender["id"]) == 1
    # Later reads find nothing due: no lock, no second event.
    for path, headers in ((f"/api/v1/tenders/{tender['id']}", {}), (f"/tenders/{tender['id']}", HTML)):
        with recorded(services) as sent:
            again = await client.get(path, headers=headers)
        assert again.status_code == 200
        assert locking(sent) == []
    assert await closes(services, tender["id"]) == 1


async def test_the_tender_page_applies_a_due_close_too(client, world, services, clock) -> None:
    tender = await published(client, world, clock)
    clock.set(clock.now() + timedelta(days=21))
    page = await client.get(f"/tenders/{tender['id']}", headers=HTML)
    assert page.status_code == 200
    assert 'class="state state-closed"' in page.text
    assert await closes(services, tender["id"]) == 1
    # The list shows what is stored, now closed.
    listed = (await client.get("/api/v1/tenders")).json()["items"]
    assert [t["state"] for t in listed if t["id"] == tender["id"]] == ["closed"]


async def test_a_document_is_revalidated_by_its_hash(client, world) -> None:
    tender = await draft(client, world)
    doc = (await client.get(f"/api/v1/tenders/{tender['id']}", headers=world.auth("tenderer"))).json()[
        "documents"
    ][0]
    url = f"/api/v1/tenders/{tender['id']}/documents/{doc['id']}"
    first = await client.get(url, headers=world.auth("tenderer"))
    assert first.status_code == 200
    assert first.headers["etag"] == f'"{doc["sha256"]}"'
    assert first.headers["cache-control"] == "no-cache"
    for named in (first.headers["etag"], f'"other", W/{first.headers["etag"]}', "*"):
        again = await client.get(url, headers={**world.auth("tenderer"), "if-none-match": named})
        assert again.status_code == 304, named
        assert again.content == b""
        assert again.headers["etag"] == first.headers["etag"]
    stale = await client.get(url, headers={**world.auth("tenderer"), "if-none-match": '"0000"'})
    assert stale.status_code == 200
    assert stale.content == first.content
    # Access is decided before the validator: an outsider learns nothing, not even "not modified".
    outsider = await client.get(url, headers={**world.auth("bidder"), "if-none-match": first.headers["etag"]})
    assert outsider.status_code == 404
