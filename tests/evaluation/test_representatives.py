"""Tenderer representatives (招标人代表): a committee of five with four drawn experts and one seat
the tenderer fills with its own staff, through the API: appointment rules, the 回避声明, a conflict
and a second appointment, start refused until the seat is active, then the representative reads
bids, reviews, scores (commit-reveal waits for it) and signs like any member.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bidding.models import Bid
from bidding.service import Bidding
from evaluation.models import ExpertEvaluation
from tenderhall.auth.policy import permits
from tenderhall.auth.roles import Role
from tenderhall.auth.service import subject_of
from tenderhall.ledger.models import LedgerEntry
from tenderhall.tenders.models import Tender


async def staff_of_tenderer(world: Any, name: str) -> tuple[Any, dict[str, str]]:
    services = world.services
    async with services.transaction() as db:
        user = await services.accounts.create_user(
            db,
            username=name,
            password="correct-horse-battery",
            role=Role.TENDERER,
            display_name=f"{name} 代表",
            organisation_id=world.tenderers[0].id,
        )
        _, token = await services.accounts.create_token(db, user, "tests", None)
    return user, {"Authorization": f"Bearer {token}"}


async def test_representative_sits_on_the_committee(
    client: Any, world: Any, pool: Any, tender: Any, clock: Any, helpers: Any, services: Any
) -> None:
    tid = tender.id
    base = f"/api/v1/tenders/{tid}/evaluation"
    staff, sup, tenderer = world.auth("staff"), world.auth("supervisor"), world.auth("tenderer")
    rep1, rep1_auth = await staff_of_tenderer(world, "rep.one")
    rep2, rep2_auth = await staff_of_tenderer(world, "rep.two")
    appoint = f"{base}/representatives"

    r = await client.post(appoint, headers=tenderer, json={"user_id": str(rep1.id)})
    assert r.status_code == 409
    assert r.json()["code"] == "representative.no_draw"

    draw_at = clock.now() + timedelta(days=20)
    r = await client.post(
        f"{base}/draws",
        headers=staff,
        json={
            "seats": {"A01": 4},
            "committee_size": 5,
            "evaluation_date": tender.deadline.date().isoformat(),
            "draw_at": draw_at.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["status"] == "committed", r.text

    # Who may appoint whom.
    for who in ("bidder", "tenderer_other", "staff", "agent"):  # this tender has no agency
        r = await client.post(appoint, headers=world.auth(who), json={"user_id": str(rep1.id)})
        assert r.status_code in (403, 404), (who, r.text)
    for wrong in (world.users["tenderer_other"].id, world.users["bidder"].id, world.users["agent"].id):
        r = await client.post(appoint, headers=tenderer, json={"user_id": str(wrong)})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "representative.not_tenderer_staff"
    r = await client.post(appoint, headers=tenderer, json={"user_id": "not-a-uuid"})
    assert r.status_code == 400, r.text

    r = await client.post(appoint, headers=tenderer, json={"user_id": str(rep1.id)})
    assert r.status_code == 201, r.text
    seat1 = r.json()
    assert (seat1["member"], seat1["kind"], seat1["status"]) == ("M5", "representative", "accepted")
    r = await client.post(appoint, headers=tenderer, json={"user_id": str(rep2.id)})
    assert r.status_code == 409
    assert r.json()["code"] == "representative.seats_full"

    # The representative sees its own seat and its notification, never the committee's names.
    mine = (await client.get("/api/v1/seats/", headers=rep1_auth)).json()
    assert [s["id"] for s in mine] == [seat1["id"]]
    notes = (await client.get("/api/v1/notifications/", headers=rep1_auth)).json()
    assert [n["kind"] for n in notes] == ["representative"]
    assert (await client.get(f"{base}/committee", headers=rep1_auth)).status_code in (403, 404)

    # A declared conflict empties the seat; the same person cannot come back, another can.
    r = await client.post(
        f"/api/v1/seats/{seat1['id']}/declaration",
        headers=rep1_auth,
        json={"conflict": True, "statement": "本人曾在投标公司1任职"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "conflict"
    r = await client.post(appoint, headers=tenderer, json={"user_id": str(rep1.id)})
    assert r.status_code == 409
    assert r.json()["code"] == "representative.already_appointed"
    r = await client.post(appoint, headers=tenderer, json={"user_id": str(rep2.id)})
    assert r.status_code == 201, r.text
    seat2 = r.json()
    assert seat2["member"] == "M5"

    # The draw: four experts accept and declare.
    clock.set(draw_at)
    r = await client.post(
        f"/api/v1/draws/{req['id']}/reveal", headers=sup, json={"value": secrets.token_hex(32)}
    )
    assert r.status_code == 201, r.text
    committee = (await client.get(f"{base}/committee", headers=staff)).json()
    assert sorted((s["member"], s["kind"]) for s in committee if s["status"] != "conflict") == [
        ("M1", "expert"),
        ("M2", "expert"),
        ("M3", "expert"),
        ("M4", "expert"),
        ("M5", "representative"),
    ]
    assert {s["name"] for s in committee if s["kind"] == "representative"} == {"rep.one 代表", "rep.two 代表"}
    experts = [s for s in committee if s["kind"] == "expert"]
    for s in experts:
        h = pool.auth(s["expert_id"])
        assert (
            await client.post(f"/api/v1/seats/{s['id']}/respond", headers=h, json={"accept": True})
        ).status_code == 201
        assert (
            await client.post(f"/api/v1/seats/{s['id']}/declaration", headers=h, json={"conflict": False})
        ).status_code == 201

    await helpers.open_tender(world, clock, tender)
    # Not before the representative's 回避声明: until then it sees nothing and the committee is short.
    assert (await client.get(f"{base}/bids", headers=rep2_auth)).status_code in (403, 404)
    r = await client.post(f"{base}/start", headers=staff)
    assert r.status_code == 409
    assert r.json()["code"] == "evaluation.committee_incomplete"
    r = await client.post(
        f"/api/v1/seats/{seat2['id']}/declaration", headers=rep2_auth, json={"conflict": False}
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{base}/start", headers=staff)
    assert r.status_code == 201, r.text

    # The representative is a member: it reads, reviews, scores and signs.
    bids = await client.get(f"{base}/bids", headers=rep2_auth)
    assert bids.status_code == 200, bids.text
    companies = sorted(b["company_id"] for b in bids.json())
    # Another staff member of the same tenderer, not seated, sees nothing.
    assert (await client.get(f"{base}/bids", headers=tenderer)).status_code in (403, 404)
    # The decrypted packages themselves (bidding's policy object names the committee): the seated
    # representative may read them, the tenderer's other staff may not.
    bidding = services.get(Bidding)
    async with services.transaction() as db:
        row = await db.get(Tender, tid)
        package = Bid(company_id=uuid.UUID(companies[0]))
        for user, allowed in ((rep2, True), (world.users["tenderer"], False)):
            who = subject_of(user)
            resource = await bidding.bid_resource(db, row, package, who)
            assert permits(who, "bid.content.view", resource) is allowed, user.username
    members = {s["member"]: s for s in experts} | {"M5": seat2}
    auth = {m: pool.auth(s["expert_id"]) for m, s in members.items() if m != "M5"} | {"M5": rep2_auth}
    for m in sorted(members):
        for c in companies:
            r = await client.post(
                f"{base}/qualification", headers=auth[m], json={"company_id": c, "passed": True, "reason": ""}
            )
            assert r.status_code == 201, r.text
    sheets = {
        m: helpers.make_sheet(
            tid,
            m,
            {
                (c, item): str(pts - j)
                for j, c in enumerate(companies)
                for item, pts in (("T1", 35), ("C1", 15))
            },
        )
        for m in members
    }
    for m in ("M1", "M2", "M3", "M4"):
        r = await client.post(
            f"{base}/scores/commit", headers=auth[m], json={"digest": helpers.digest(sheets[m])}
        )
        assert r.status_code == 201, r.text
    r = await client.post(f"{base}/scores/reveal", headers=auth["M1"], json={"sheet": sheets["M1"]})
    assert r.status_code == 409  # the representative has not committed yet
    assert r.json()["code"] == "scoring.not_all_committed"
    r = await client.post(
        f"{base}/scores/commit", headers=rep2_auth, json={"digest": helpers.digest(sheets["M5"])}
    )
    assert r.status_code == 201, r.text
    for m, sheet in sheets.items():
        r = await client.post(f"{base}/scores/reveal", headers=auth[m], json={"sheet": sheet})
        assert r.status_code == 201, r.text
    progress = (await client.get(f"{base}/progress", headers=rep2_auth)).json()
    assert [p["member"] for p in progress["members"]] == ["M1", "M2", "M3", "M4", "M5"]
    r = await client.post(f"{base}/report", headers=staff)
    assert r.status_code == 201, r.text
    r = await client.post(f"{base}/report/sign", headers=rep2_auth, json={"sha256": r.json()["sha256"]})
    assert r.status_code == 201, r.text
    assert r.json()["verdict"] == "assent"

    async with services.sessionmaker() as db:
        # The registry's history counts the four drawn experts, not the representative.
        count = await db.scalar(
            select(func.count()).select_from(ExpertEvaluation).where(ExpertEvaluation.tender_id == tid)
        )
        assert count == 4
        appointed = list(
            await db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "seat.representative_appointed"))
        )
    assert len(appointed) == 2
    for entry in appointed:  # the public ledger names a seat, never the person
        for secret in (str(rep1.id), str(rep2.id), "rep.one", "rep.two"):
            assert secret.encode() not in entry.body
