"""Alerts: import opens them, the review workflow, history as ledger events without confidential facts,
evidence and graph views, findings for the archive and the bidder's record, the run after opening."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from collusion.models import Alert, Finding, HistoryBid
from collusion.sources import BidEvidence
from tenderhall.ledger.models import LedgerEntry
from tests.collusion.helpers import ListSource, collusion, import_history, opening_tender


async def ledger(services: Any) -> list[tuple[str, str | None, dict[str, Any]]]:
    async with services.sessionmaker() as db:
        rows = await db.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
        return [(e.kind, e.subject, json.loads(e.body)) for e in rows]


def assert_no_confidential(entries: list[tuple[str, str | None, dict[str, Any]]], world: Any) -> None:
    secrets = [str(c.id) for c in world.companies] + [c.uscc for c in world.companies] + ["6222-0001", "OLD-"]
    for kind, _, body in entries:
        if kind.startswith("collusion."):
            text = json.dumps(body, ensure_ascii=False)
            assert not [s for s in secrets if s in text], (kind, text)


async def test_import_opens_alerts_and_workflow_runs_to_confirmation(client, world, services) -> None:
    report = await import_history(services, world)
    assert report.tenders == 6
    assert report.bids == 24
    assert report.linked_companies == 3
    assert report.alerts == 6
    staff = world.auth("staff")
    listed = (await client.get("/api/v1/collusion/alerts?level=high", headers=staff)).json()
    assert listed["total"] == 6
    first = listed["items"][0]
    assert first["status"] == "new"
    assert first["hard"]
    assert "shared_bond_account" in first["kinds"]
    assert set(first["suspects"]) == {str(world.companies[0].id), str(world.companies[1].id)}
    assert set(first["actions"]) == {"assign", "review", "comment", "escalate"}
    by_kind = await client.get("/api/v1/collusion/alerts?kind=shared_bond_account", headers=staff)
    assert by_kind.json()["total"] == 6
    by_company = await client.get(
        f"/api/v1/collusion/alerts?company_id={world.companies[2].id}", headers=staff
    )
    assert by_company.json()["total"] == 0  # the honest firm is not a suspect
    bad = await client.get("/api/v1/collusion/alerts?status=bogus", headers=staff)
    assert bad.status_code == 422

    aid = first["id"]
    detail = (await client.get(f"/api/v1/collusion/alerts/{aid}", headers=staff)).json()
    reason = next(r for r in detail["reasons"] if r["key"] == "evidence.shared_bond_account")
    assert reason["grounds"] == ["BL40.6", "GP37.6"]
    assert reason["evidence"]["value"] == "6222-0001"  # which account: inspectable by staff
    assert reason["evidence"]["tenders"]  # which tenders
    assert "投标保证金" in reason["zh"]
    assert "bid bonds" in reason["en"]
    assert {b["bond_account"] for b in detail["bids"]} >= {"6222-0001"}
    assert world.companies[0].name in detail["bidder_names"].values()
    graph = (await client.get(f"/api/v1/collusion/alerts/{aid}/graph", headers=staff)).json()
    edge = next(e for e in graph["edges"] if e["hard"])
    assert {edge["source"], edge["target"]} == {str(world.companies[0].id), str(world.companies[1].id)}
    assert edge["evidence"][0]["kind"] == "shared_bond_account"
    assert any(n.get("name") == world.companies[0].name for n in graph["nodes"])

    other_staff = world.users["staff_other"]
    wrong = await client.post(
        f"/api/v1/collusion/alerts/{aid}/assign", json={"assignee_id": str(other_staff.id)}, headers=staff
    )
    assert wrong.status_code == 422  # staff of another centre cannot own this alert
    ok = await client.post(
        f"/api/v1/collusion/alerts/{aid}/assign",
        json={"assignee_id": str(world.users["staff"].id)},
        headers=staff,
    )
    assert ok.status_code == 200
    early = await client.post(f"/api/v1/collusion/alerts/{aid}/confirm", json={}, headers=staff)
    assert early.status_code == 403  # confirm needs a review first
    assert (await client.post(f"/api/v1/collusion/alerts/{aid}/review", headers=staff)).json()[
        "status"
    ] == "under_review"
    c = await client.post(
        f"/api/v1/collusion/alerts/{aid}/comments", json={"body": "调取转账凭证"}, headers=staff
    )
    assert c.status_code == 201
    done = await client.post(
        f"/api/v1/collusion/alerts/{aid}/confirm", json={"note": "认定串通"}, headers=staff
    )
    assert done.status_code == 200
    assert done.json()["status"] == "confirmed"
    assert done.json()["actions"] == []
    again = await client.post(f"/api/v1/collusion/alerts/{aid}/dismiss", json={"reason": "x"}, headers=staff)
    assert again.status_code == 403

    history = (await client.get(f"/api/v1/collusion/alerts/{aid}/history", headers=staff)).json()
    kinds = [h["kind"] for h in history]
    assert kinds == [
        "collusion.alert_opened",
        "collusion.alert_assigned",
        "collusion.alert_review_started",
        "collusion.alert_commented",
        "collusion.alert_confirmed",
        "collusion.alert_commented",
    ]
    assert history[4]["body"]["data"]["from"] == "under_review"
    assert history[4]["body"]["actor"] == str(world.users["staff"].id)
    entries = await ledger(services)
    assert "collusion.history_imported" in [k for k, _, _ in entries]
    assert_no_confidential(entries, world)

    # Confirmed: recorded against each suspected bidder and the tender (the archive reads these).
    async with services.sessionmaker() as db:
        findings = list(await db.scalars(select(Finding).where(Finding.alert_id == Alert.id)))
    assert {f.company_id for f in findings} == {world.companies[0].id, world.companies[1].id}
    assert all("BL40.6" in f.grounds and "shared_bond_account" in f.kinds for f in findings)
    record = await client.get(f"/api/v1/collusion/companies/{world.companies[0].id}/findings", headers=staff)
    assert record.status_code == 200
    assert len(record.json()) == 1
    assert (
        await client.get(f"/api/v1/collusion/companies/{world.companies[2].id}/findings", headers=staff)
    ).json() == []
    mine = await client.get(
        f"/api/v1/collusion/companies/{world.companies[0].id}/findings", headers=world.auth("bidder")
    )
    assert mine.status_code in (403, 404)


async def test_dismiss_needs_a_reason_and_escalation_goes_to_the_supervisor(client, world, services) -> None:
    await import_history(services, world, n=3)
    staff, sup = world.auth("staff"), world.auth("supervisor")
    ids = [a["id"] for a in (await client.get("/api/v1/collusion/alerts", headers=staff)).json()["items"]]
    a, b = ids[0], ids[1]
    await client.post(f"/api/v1/collusion/alerts/{a}/review", headers=staff)
    empty = await client.post(f"/api/v1/collusion/alerts/{a}/dismiss", json={"reason": "  "}, headers=staff)
    assert empty.status_code == 422
    gone = await client.post(
        f"/api/v1/collusion/alerts/{a}/dismiss", json={"reason": "公共网络"}, headers=staff
    )
    assert gone.json()["status"] == "dismissed"
    assert gone.json()["dismissed_reason"] == "公共网络"
    up = await client.post(f"/api/v1/collusion/alerts/{b}/escalate", json={"note": "移交监督"}, headers=staff)
    assert up.json()["status"] == "escalated"
    assert (
        await client.post(f"/api/v1/collusion/alerts/{b}/confirm", json={}, headers=staff)
    ).status_code == 403
    sup_view = (await client.get(f"/api/v1/collusion/alerts/{b}", headers=sup)).json()
    assert set(sup_view["actions"]) == {"comment", "confirm", "dismiss"}
    assert sup_view["comments"][0]["body"] == "移交监督"
    decided = await client.post(f"/api/v1/collusion/alerts/{b}/confirm", json={"note": "立案"}, headers=sup)
    assert decided.json()["status"] == "confirmed"
    assert_no_confidential(await ledger(services), world)


async def test_incremental_run_after_opening_from_bidding_source(world, services) -> None:
    await import_history(services, world)  # history: companies 0 and 1 share a bond account
    svc = collusion(services)
    source = ListSource()
    svc.runs.source = source  # in place of bidding's hall
    a, b, c = world.companies
    async with services.transaction() as db:
        tender = await opening_tender(db, world)
        source.bids[tender.id] = [
            BidEvidence(a.id, 1_800_000.0, source_ip="58.1.1.1", device_fingerprint="dev-a"),
            BidEvidence(b.id, 1_860_000.0, source_ip="58.1.1.1", device_fingerprint="dev-b"),
            BidEvidence(c.id, 1_990_000.0, source_ip="61.2.2.2", device_fingerprint="dev-c"),
        ]
        await services.tenders.transition(db, tender, "finish_opening", None, {})
        tid = tender.id
    async with services.sessionmaker() as db:
        alert = await db.scalar(select(Alert).where(Alert.tender_id == tid))
        assert alert is not None
        assert alert.level == "high"
        assert alert.status == "new"
        keys = {r["key"] for r in alert.result["reasons"]}
        # The account links them from history, the IP from this very opening.
        assert {"evidence.shared_bond_account", "evidence.shared_ip"} <= keys
        stored = list(await db.scalars(select(HistoryBid).where(HistoryBid.tender_id == tid)))
        assert {r.ip for r in stored} == {"58.1.1.1", "61.2.2.2"}
        assert all(r.source == "platform" for r in stored)
    entries = await ledger(services)
    kinds = [k for k, _, _ in entries]
    assert kinds.index("tender.finish_opening") < kinds.index("collusion.tender_checked")
    checked = next(body for k, _, body in entries if k == "collusion.tender_checked")
    assert checked["data"]["tender"] == str(tid)
    assert len(checked["data"]["commitment"]) == 64
    assert_no_confidential(entries, world)


async def test_every_opening_writes_the_same_event_alert_or_not(world, services) -> None:
    """Bidders read the public ledger: an honest tender's check looks exactly like an alerted one's."""
    svc = collusion(services)
    source = ListSource()
    svc.runs.source = source  # in place of bidding's hall
    a, b, c = world.companies
    async with services.transaction() as db:
        tender = await opening_tender(db, world, "SH-2026-0002")
        source.bids[tender.id] = [
            BidEvidence(a.id, 1_000_000.0, source_ip="1.1.1.1", bond_payer_account="A1"),
            BidEvidence(b.id, 1_140_000.0, source_ip="2.2.2.2", bond_payer_account="B1"),
            BidEvidence(c.id, 1_310_000.0, source_ip="3.3.3.3", bond_payer_account="C1"),
        ]
        await services.tenders.transition(db, tender, "finish_opening", None, {})
    async with services.sessionmaker() as db:
        assert await db.scalar(select(Alert)) is None
    checked = [(s, body["data"]) for k, s, body in await ledger(services) if k == "collusion.tender_checked"]
    assert len(checked) == 1
    assert set(checked[0][1]) == {"tender", "commitment"}


async def test_history_source_checks_imported_rows_of_a_platform_tender(world, services) -> None:
    """Until bidding is wired: rows already in the history for the platform tender are checked."""
    a, b, c = world.companies
    async with services.transaction() as db:
        tender = await opening_tender(db, world, "SH-2026-0003")
        region = world.region.id
        for comp, price, acct in ((a, 1e6, "X-1"), (b, 1.05e6, "X-1"), (c, 1.2e6, "C-9")):
            db.add(
                HistoryBid(
                    region_id=region,
                    source="test",
                    tender_key=str(tender.id),
                    tender_id=tender.id,
                    bidder_key=str(comp.id),
                    company_id=comp.id,
                    price=price,
                    bid_date=tender.opening_at.date(),
                    is_winner=False,
                    estimate=2e6,
                    bond_account=acct,
                    ip="",
                    device="",
                    legal_rep="",
                    extra={},
                )
            )
        await db.flush()
        await services.tenders.transition(db, tender, "finish_opening", None, {})
        tid = tender.id
    async with services.sessionmaker() as db:
        alert = await db.scalar(select(Alert).where(Alert.tender_id == tid))
        assert alert is not None
        assert alert.level == "high"
