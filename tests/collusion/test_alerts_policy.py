"""Who may see and move collusion alerts, as a matrix: only centre staff (own centre) and the region's
supervisors see alerts; bidders and every other role never learn that one exists."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from collusion.models import Alert
from tenderhall.auth.policy import Resource, Subject, permits
from tenderhall.auth.roles import Role
from tests.collusion.helpers import collusion, import_history, opening_tender

USERS = (
    "admin",
    "staff",
    "staff_other",
    "staff_far",
    "supervisor",
    "tenderer",
    "tenderer_other",
    "agent",
    "bidder",
    "bidder_other",
    "expert",
    "custodian",
)
SEES = {"staff", "supervisor"}

REGION, OTHER_REGION = uuid.uuid4(), uuid.uuid4()
CENTRE, OTHER_CENTRE = uuid.uuid4(), uuid.uuid4()
ACTIONS = ("view", "assign", "review", "comment", "confirm", "dismiss", "escalate")
# status -> (what own-centre staff may do, what the region's supervisor may do)
EXPECTED = {
    "new": ({"view", "assign", "review", "comment", "escalate"}, {"view", "comment"}),
    "under_review": ({"view", "assign", "comment", "confirm", "dismiss", "escalate"}, {"view", "comment"}),
    "escalated": ({"view", "comment"}, {"view", "comment", "confirm", "dismiss"}),
    "confirmed": ({"view"}, {"view"}),
    "dismissed": ({"view"}, {"view"}),
}


@pytest.mark.parametrize("status", list(EXPECTED))
def test_policy_rows_as_a_matrix(status: str) -> None:
    alert = Resource(kind="collusion_alert", state=status, region_id=REGION, centre_id=CENTRE)
    subjects = {
        "staff": Subject(Role.STAFF, uuid.uuid4(), REGION, CENTRE),
        "staff_other": Subject(Role.STAFF, uuid.uuid4(), REGION, OTHER_CENTRE),
        "staff_far": Subject(Role.STAFF, uuid.uuid4(), OTHER_REGION, uuid.uuid4()),
        "supervisor": Subject(Role.SUPERVISOR, uuid.uuid4(), REGION),
        "supervisor_far": Subject(Role.SUPERVISOR, uuid.uuid4(), OTHER_REGION),
        "anonymous": Subject.anonymous(),
    }
    for role in (Role.BIDDER, Role.TENDERER, Role.AGENT, Role.EXPERT, Role.CUSTODIAN, Role.ADMIN):
        subjects[role.value] = Subject(
            role, uuid.uuid4(), REGION, CENTRE, organisation_id=uuid.uuid4(), company_id=uuid.uuid4()
        )
    staff_may, sup_may = EXPECTED[status]
    for name, who in subjects.items():
        allowed = {a for a in ACTIONS if permits(who, f"collusion.alert.{a}", alert)}
        want = staff_may if name == "staff" else sup_may if name == "supervisor" else set()
        assert allowed == want, (name, status, allowed)


def test_findings_only_for_staff_supervisors_and_the_sitting_committee() -> None:
    tender = Resource(kind="collusion_finding", state="evaluating", region_id=REGION, centre_id=CENTRE)
    expert = Subject(Role.EXPERT, uuid.uuid4(), REGION)
    on_committee = Resource(
        kind="collusion_finding",
        state="evaluating",
        region_id=REGION,
        centre_id=CENTRE,
        user_id=expert.user_id,
    )
    assert permits(expert, "collusion.finding.view", on_committee)
    assert not permits(expert, "collusion.finding.view", tender)  # not on this committee
    before = Resource(
        kind="collusion_finding",
        state="published",
        region_id=REGION,
        centre_id=CENTRE,
        user_id=expert.user_id,
    )
    assert not permits(expert, "collusion.finding.view", before)
    bidder = Subject(Role.BIDDER, uuid.uuid4(), REGION, company_id=uuid.uuid4())
    assert not permits(bidder, "collusion.finding.view", tender)
    assert permits(Subject(Role.STAFF, uuid.uuid4(), REGION, CENTRE), "collusion.finding.view", tender)
    assert permits(Subject(Role.SUPERVISOR, uuid.uuid4(), REGION), "collusion.finding.view", tender)


async def test_api_hides_alerts_from_everyone_but_staff_and_supervisors(client, world, services) -> None:
    await import_history(services, world, n=3)
    async with services.sessionmaker() as db:
        alert_id = (await db.scalars(select(Alert.id))).first()
    assert alert_id is not None
    for name in USERS:
        h = world.auth(name)
        lst = await client.get("/api/v1/collusion/alerts", headers=h)
        one = await client.get(f"/api/v1/collusion/alerts/{alert_id}", headers=h)
        graph = await client.get(f"/api/v1/collusion/alerts/{alert_id}/graph", headers=h)
        hist = await client.get(f"/api/v1/collusion/alerts/{alert_id}/history", headers=h)
        act = await client.post(
            f"/api/v1/collusion/alerts/{alert_id}/comments", json={"body": "x"}, headers=h
        )
        if name in SEES:
            assert lst.status_code == 200, name
            assert lst.json()["total"] == 3, name
            assert one.status_code == graph.status_code == hist.status_code == 200, name
            assert act.status_code == 201, name
        elif name in ("staff_other", "staff_far"):  # another centre: an empty list, the alert hidden
            assert lst.status_code == 200
            assert lst.json()["total"] == 0
            assert one.status_code == graph.status_code == hist.status_code == act.status_code == 404
        else:
            # Bidders above all: the same 404 as for an id that does not exist.
            assert lst.status_code == 404, name
            assert one.status_code == graph.status_code == hist.status_code == act.status_code == 404, name
            missing = await client.get(f"/api/v1/collusion/alerts/{uuid.uuid4()}", headers=h)
            assert missing.status_code == 404
            assert missing.json()["title"] == one.json()["title"]
    anon = await client.get(f"/api/v1/collusion/alerts/{alert_id}")
    assert anon.status_code in (401, 404)
    graph = await client.get("/api/v1/collusion/graph", headers=world.auth("bidder"))
    assert graph.status_code in (403, 404)
    region = await client.get("/api/v1/collusion/graph?min_weight=0", headers=world.auth("supervisor"))
    assert region.status_code == 200
    assert region.json()["edges"]


async def test_committee_sees_confirmed_findings_of_its_tender_only(client, world, services) -> None:
    svc = collusion(services)
    seats: set[tuple[uuid.UUID, uuid.UUID]] = set()

    async def sits(db, tender_id: uuid.UUID, user_id: uuid.UUID) -> bool:  # evaluation's answer
        return (tender_id, user_id) in seats

    svc.findings.committee = sits  # in place of evaluation's answer
    async with services.transaction() as db:
        tender = await opening_tender(db, world, "SH-2026-0100")
        tender.state = "evaluating"
        tid = tender.id
    expert = world.auth("expert")
    url = f"/api/v1/collusion/tenders/{tid}/findings"
    assert (await client.get(url, headers=expert)).status_code in (403, 404)
    seats.add((tid, world.users["expert"].id))
    assert (await client.get(url, headers=expert)).status_code == 200
    for name in ("bidder", "tenderer", "agent", "staff_other"):
        assert (await client.get(url, headers=world.auth(name))).status_code in (403, 404), name
    assert (await client.get(url, headers=world.auth("staff"))).status_code == 200
