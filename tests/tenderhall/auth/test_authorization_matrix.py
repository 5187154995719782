"""The denial matrix through the real HTTP API, on every database backend.

Every actor of the world (and anonymous visitors) calls every tender, company, user and token
endpoint on tenders in several states owned by different organisations, centres and regions.  The
expected outcome of each call is derived from the policy table (:func:`permits` and the ``hide``
rule), from facts the test itself tracks, never from the code under test:

* ``allowed`` — 2xx, or a domain 4xx that is not 401/403/404 (bodies are made to fail domain
  validation *after* the policy check, so allowed calls change nothing either);
* ``denied`` — 403 (401 for an anonymous visitor);
* ``hidden`` — 404: the caller may not even see the object, so its existence must not leak (401
  for an anonymous visitor where the operation needs sign-in: asked before any look-up).

A refused call changes nothing: the ledger size and every object's version stay the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from tenderhall.auth.models import ApiToken, LoginThrottle, User, UserSession
from tenderhall.auth.policy import Resource, Subject, permits
from tenderhall.auth.roles import Role
from tenderhall.clock import FixedClock
from tenderhall.ledger.models import LedgerEntry
from tenderhall.orgs import uscc
from tenderhall.orgs.models import Company, Organisation, OrganisationKind
from tenderhall.services import Services
from tenderhall.tenders.models import Amendment, Clarification, Registration, Tender, TenderDocument
from tenderhall.tenders.service import TenderDraft
from tests.conftest import from_address

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery"
PROBLEM = "application/problem+json"
RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术方案", "kind": "technical", "max_points": 60},
        {"code": "P1", "name": "价格", "kind": "price", "max_points": 40},
    ],
}
ACTORS = [
    None,  # anonymous
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
]


# -- the scene ---------------------------------------------------------------------------------------


@dataclass
class TenderFacts:
    """What the test knows about a tender, independently of the code under test."""

    id: uuid.UUID
    state: str
    centre_id: uuid.UUID
    region_id: uuid.UUID
    organisations: frozenset[uuid.UUID]
    document_id: uuid.UUID
    registered: set[uuid.UUID] = field(default_factory=set)

    def resource(self) -> Resource:
        return Resource(
            kind="tender",
            state=self.state,
            region_id=self.region_id,
            centre_id=self.centre_id,
            organisation_ids=self.organisations,
            registered_companies=frozenset(self.registered),
        )


@dataclass
class Scene:
    world: Any
    services: Services
    clock: FixedClock
    tenders: dict[str, TenderFacts]
    companies: dict[str, Company]
    other_region_id: uuid.UUID
    asked: dict[str, int]  # actor → number of the clarification it asked

    def who(self, actor: str | None) -> Subject:
        return Subject.anonymous() if actor is None else self.world.who(actor)

    def headers(self, actor: str | None) -> dict[str, str]:
        return {} if actor is None else self.world.auth(actor)


async def _upload(client: httpx.AsyncClient, scene_world: Any, actor: str, tender_id: uuid.UUID) -> uuid.UUID:
    response = await client.post(
        f"/api/v1/tenders/{tender_id}/documents",
        files={"data": ("招标文件.pdf", b"%PDF-1.4 tender documents", "application/pdf")},
        headers=scene_world.auth(actor),
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


@pytest.fixture
async def scene(client: httpx.AsyncClient, services: Services, world: Any, clock: FixedClock) -> Scene:
    region_id = world.region.id
    far_centre = world.centres[2]
    async with services.transaction() as db:
        far_org = Organisation(
            region_id=far_centre.region_id,
            kind=OrganisationKind.TENDERER.value,
            name="远方招标人",
            uscc=uscc.make("91440000000000777"),
            city="广州",
        )
        far_company = Company(
            region_id=far_centre.region_id,
            name="远方投标公司",
            uscc=uscc.make("91440000000000888"),
            city="广州",
            legal_representative="远方法人",
        )
        db.add_all([far_org, far_company])
    t0, t1 = world.tenderers
    c0, c1 = world.centres[0], world.centres[1]
    # name → (creator, tenderer, agency, centre, region, deadline or None for a draft)
    plan: dict[str, tuple[str, Organisation, Organisation | None, Any, uuid.UUID, timedelta | None]] = {
        "draft": ("tenderer", t0, None, c0, region_id, None),
        "draft_other": ("tenderer_other", t1, None, c1, region_id, None),
        "draft_agent": ("agent", t1, world.agency, c0, region_id, None),
        "published": ("tenderer", t0, world.agency, c0, region_id, timedelta(days=30)),
        "published_other": ("tenderer_other", t1, None, c1, region_id, timedelta(days=30)),
        "closed": ("agent", t1, world.agency, c1, region_id, timedelta(days=21)),
        "terminated": ("staff", t0, None, c0, region_id, timedelta(days=30)),
        "far_draft": ("staff_far", far_org, None, far_centre, far_centre.region_id, None),
        "far_published": ("staff_far", far_org, None, far_centre, far_centre.region_id, timedelta(days=30)),
    }
    tenders: dict[str, TenderFacts] = {}
    for name, (creator, tenderer, agency, centre, region, _) in plan.items():
        async with services.transaction() as db:
            tender = await services.tenders.create(
                db,
                world.who(creator),
                TenderDraft(
                    title=f"测试项目 {name}",
                    procedure="open_tender",
                    estimate_fen=100_000_000,
                    tenderer_id=tenderer.id,
                    centre_id=centre.id,
                    agency_id=agency.id if agency else None,
                    rubric=RUBRIC,
                ),
            )
        assert tender.centre_id == centre.id
        document = await _upload(client, world, creator, tender.id)
        orgs = frozenset({tenderer.id} | ({agency.id} if agency else set()))
        tenders[name] = TenderFacts(tender.id, "draft", centre.id, region, orgs, document)
    for name, (creator, *_, deadline) in plan.items():
        if deadline is None:
            continue
        async with services.transaction() as db:
            await services.tenders.publish(db, world.who(creator), tenders[name].id, T0 + deadline)
        tenders[name].state = "published"
    # Registrations and clarifications while bidding is open.
    for actor, names in {
        "bidder": ("published", "closed", "terminated"),
        "bidder_other": ("published",),
    }.items():
        for name in names:
            async with services.transaction() as db:
                await services.tenders.register(db, world.who(actor), tenders[name].id)
            tenders[name].registered.add(world.users[actor].company_id)
    asked: dict[str, int] = {}
    for actor in ("bidder", "bidder_other"):
        async with services.transaction() as db:
            item = await services.clarifications.ask(
                db, world.who(actor), tenders["published"].id, f"{actor} 的问题"
            )
        asked[actor] = item.number
    async with services.transaction() as db:
        await services.clarifications.answer(db, world.who("tenderer"), tenders["published"].id, 1, "答复")
        await services.tenders.terminate(db, world.who("staff"), tenders["terminated"].id, "项目取消")
    tenders["terminated"].state = "terminated"
    # Past the first deadline: the clock decides, inside the transaction that acts on the tender.
    clock.set(T0 + timedelta(days=22))
    response = await client.get(f"/api/v1/tenders/{tenders['closed'].id}", headers=world.auth("agent"))
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "closed"
    tenders["closed"].state = "closed"
    async with services.sessionmaker() as db:
        for facts in tenders.values():
            stored = await db.get(Tender, facts.id)
            assert stored is not None
            assert stored.state == facts.state
    return Scene(
        world=world,
        services=services,
        clock=clock,
        tenders=tenders,
        companies={
            "own": world.companies[0],
            "other": world.companies[1],
            "unclaimed": world.companies[2],
            "far": far_company,
        },
        other_region_id=far_centre.region_id,
        asked=asked,
    )


# -- what must not change on a refused request --------------------------------------------------------


async def fingerprint(services: Services) -> tuple[Any, ...]:
    """Everything a request could change, read in three queries."""

    def count(model: Any, *where: Any) -> Any:
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    async with services.sessionmaker() as db:
        counts = (
            await db.execute(
                select(
                    count(LedgerEntry),
                    count(Registration),
                    count(Clarification),
                    count(Clarification, Clarification.answer.is_not(None)),
                    count(Amendment),
                    count(TenderDocument),
                    count(User),
                    count(LoginThrottle),
                    count(ApiToken),
                    count(ApiToken, ApiToken.revoked_at.is_not(None)),
                    count(UserSession),
                )
            )
        ).one()
        tenders = (
            await db.execute(
                select(Tender.id, Tender.state, Tender.version, Tender.title).order_by(Tender.id)
            )
        ).all()
        companies = (
            await db.execute(select(Company.id, Company.name, Company.updated_at).order_by(Company.id))
        ).all()
        return (tuple(counts), tuple(tenders), tuple(companies))


# -- expectations --------------------------------------------------------------------------------------


def expect(who: Subject, action: str, resource: Resource, hide: str | None) -> str:
    if permits(who, action, resource):
        return "allowed"
    if hide is not None and not permits(who, hide, resource):
        return "hidden"
    return "denied"


def matches(outcome: str, response: httpx.Response, anonymous: bool) -> bool:
    status = response.status_code
    if anonymous and outcome != "allowed" and response.request.method not in ("GET", "HEAD"):
        # Anonymous writes are refused before their body is read (web/edge.py), whatever the
        # object: a 401 for every id, which tells nothing of the object either.
        return status == 401
    if outcome == "allowed":
        return 200 <= status < 300 or (400 <= status < 500 and status not in (401, 403, 404))
    if outcome == "hidden":
        # An operation that needs sign-in answers anonymous callers 401 before looking anything
        # up, which says no more about the object than 404.
        return status == 404 or (anonymous and status == 401)
    if outcome == "unauthenticated":
        return status == 401
    return status == 403 or (anonymous and status == 401)


def check_problem(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    if not response.headers.get("content-type", "").startswith(PROBLEM):
        return f"error without problem details: {response.headers.get('content-type')}"
    body = response.json()
    if body.get("status") != response.status_code:
        return f"problem status {body.get('status')} != {response.status_code}"
    return None


@dataclass
class Probe:
    """One call: the action the policy must decide, and how to make the call."""

    name: str
    action: str
    hide: str | None
    call: Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]
    needs_user: bool = False  # the endpoint needs a signed-in user before any policy check


class Matrix:
    def __init__(self, scene: Scene, client: httpx.AsyncClient) -> None:
        self.scene = scene
        self.client = client
        self.failures: list[str] = []
        self.counts: dict[str, int] = {"allowed": 0, "denied": 0, "hidden": 0, "unauthenticated": 0}
        self.current: tuple[Any, ...] | None = None

    async def run(self, actor: str | None, probe: Probe, resource: Resource, label: str) -> httpx.Response:
        if self.current is None:
            self.current = await fingerprint(self.scene.services)
        who = self.scene.who(actor)
        outcome = (
            "unauthenticated"
            if actor is None and probe.needs_user
            else expect(who, probe.action, resource, probe.hide)
        )
        self.counts[outcome] += 1
        response = await probe.call(self.client, self.scene.headers(actor))
        where = f"{actor or 'anonymous'} {probe.name} on {label}"
        if not matches(outcome, response, actor is None):
            self.failures.append(
                f"{where}: expected {outcome}, got {response.status_code} {response.text[:200]}"
            )
        if response.status_code >= 500:
            self.failures.append(f"{where}: server error")
        problem = check_problem(response)
        if problem:
            self.failures.append(f"{where}: {problem}")
        after = await fingerprint(self.scene.services)
        if response.status_code >= 300 and after != self.current:
            self.failures.append(f"{where}: a refused request ({response.status_code}) changed the database")
        self.current = after
        return response

    def assert_clean(self) -> None:
        assert not self.failures, f"{len(self.failures)} wrong cells:\n" + "\n".join(self.failures[:60])


def tender_probes(facts: TenderFacts, now: datetime) -> list[Probe]:
    base = f"/api/v1/tenders/{facts.id}"
    V = "tender.view"

    def get(path: str) -> Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]:
        return lambda c, h: c.get(base + path, headers=h)

    def post(
        path: str, body: Any
    ) -> Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]:
        return lambda c, h: c.post(base + path, json=body, headers=h)

    async def upload(c: httpx.AsyncClient, h: dict[str, str]) -> httpx.Response:
        # An empty file is refused after the policy check (422), so an allowed upload stores nothing.
        return await c.post(
            base + "/documents", files={"data": ("empty.pdf", b"", "application/pdf")}, headers=h
        )

    return [
        Probe("GET tender", V, V, get("")),
        Probe("GET amendments", V, V, get("/amendments")),
        Probe("GET document", V, V, get(f"/documents/{facts.document_id}")),
        Probe("GET registrations", "tender.registration.view", V, get("/registrations")),
        Probe("GET clarifications", "clarification.view", V, get("/clarifications")),
        # Stale version: 409 after the check, nothing edited.
        Probe(
            "PATCH tender",
            "tender.edit",
            V,
            lambda c, h: c.patch(base, json={"version": -1, "title": "改"}, headers=h),
        ),
        Probe("POST document", "tender.edit", V, upload),
        # A deadline one day away is too short for any procedure: 422 after the check.
        Probe(
            "POST publish",
            "tender.publish",
            V,
            post("/publish", {"deadline": (now + timedelta(days=1)).isoformat()}),
        ),
        Probe(
            "POST amendment",
            "tender.amend",
            V,
            post("/amendments", {"summary": " ", "affects_preparation": True}),
        ),
        Probe("POST terminate", "tender.terminate", V, post("/terminate", {"reason": " "})),
        Probe("POST clarification", "clarification.ask", V, post("/clarifications", {"question": " "})),
        Probe("POST answer", "clarification.answer", V, post("/clarifications/1/answer", {"answer": " "})),
        # Registering is idempotent and really happens when allowed; the scene tracks it.
        Probe(
            "POST registration", "tender.register", V, lambda c, h: c.post(base + "/registrations", headers=h)
        ),
    ]


# -- the matrix ----------------------------------------------------------------------------------------


async def test_tender_matrix(scene: Scene, client: httpx.AsyncClient) -> None:
    matrix = Matrix(scene, client)
    now = scene.clock.now()
    for name, facts in scene.tenders.items():
        for actor in ACTORS:
            for probe in tender_probes(facts, now):
                response = await matrix.run(actor, probe, facts.resource(), f"{name} ({facts.state})")
                if probe.action == "tender.register" and response.status_code in (200, 201):
                    assert actor is not None
                    facts.registered.add(scene.world.users[actor].company_id)
    matrix.assert_clean()
    # The walk covered every outcome.
    assert all(matrix.counts[k] > 0 for k in ("allowed", "denied", "hidden")), matrix.counts
    # The unregistered bidders registered for the open tenders (allowed) and nowhere else.
    bidder_company = scene.world.users["bidder_other"].company_id
    assert bidder_company in scene.tenders["published_other"].registered
    assert bidder_company in scene.tenders["far_published"].registered
    assert bidder_company not in scene.tenders["closed"].registered


async def test_create_endpoints_matrix(scene: Scene, client: httpx.AsyncClient) -> None:
    matrix = Matrix(scene, client)
    world = scene.world
    # An unknown procedure is refused after the policy check.
    body = {
        "title": "新项目",
        "procedure": "nope",
        "estimate": "100",
        "tenderer_id": str(world.tenderers[0].id),
    }
    create_tender = Probe(
        "POST tender", "tender.create", None, lambda c, h: c.post("/api/v1/tenders", json=body, headers=h)
    )
    user_body = {"username": "new.user", "password": PASSWORD, "role": "nope", "display_name": "新用户"}
    create_user = Probe(
        "POST user", "user.create", None, lambda c, h: c.post("/api/v1/users", json=user_body, headers=h)
    )
    for actor in ACTORS:
        await matrix.run(actor, create_tender, Resource(kind="tender"), "new tender")
        await matrix.run(actor, create_user, Resource(kind="user"), "new user")
        who = scene.who(actor)
        for region_label, region_id in (
            ("own region", world.region.id),
            ("far region", scene.other_region_id),
            ("default region", None),
        ):
            company_body: dict[str, Any] = {
                "name": "新公司",
                "uscc": "X",
                "city": "上海",
                "legal_representative": "某",
            }
            if region_id is not None:
                company_body["region_id"] = str(region_id)
            probe = Probe(
                "POST company",
                "company.create",
                None,
                lambda c, h, b=company_body: c.post("/api/v1/companies", json=b, headers=h),
            )
            await matrix.run(
                actor, probe, Resource(kind="company", region_id=region_id or who.region_id), region_label
            )
    matrix.assert_clean()


async def test_company_and_user_matrix(scene: Scene, client: httpx.AsyncClient) -> None:
    matrix = Matrix(scene, client)
    for label, company in scene.companies.items():
        resource = Resource(kind="company", region_id=company.region_id, company_id=company.id)
        url = f"/api/v1/companies/{company.id}"
        # The USCC may not change: 422 after the policy check, nothing edited.
        body = {"name": "改名", "uscc": "X", "city": "上海", "legal_representative": "某"}
        probes = [
            Probe(
                "GET company",
                "company.view",
                "company.view",
                lambda c, h, u=url: c.get(u, headers=h),
                needs_user=True,
            ),
            Probe(
                "PATCH company",
                "company.edit",
                "company.view",
                lambda c, h, u=url, b=body: c.patch(u, json=b, headers=h),
            ),
        ]
        for actor in ACTORS:
            for probe in probes:
                await matrix.run(actor, probe, resource, f"company {label}")
    for target, user in scene.world.users.items():
        url = f"/api/v1/users/{user.id}"
        probe = Probe("GET user", "user.view", "user.view", lambda c, h, u=url: c.get(u, headers=h))
        for actor in ACTORS:
            await matrix.run(actor, probe, Resource(kind="user", user_id=user.id), f"user {target}")
    for actor in ACTORS:
        probe = Probe(
            "POST token",
            "token.manage",
            None,
            lambda c, h: c.post("/api/v1/auth/tokens", json={"name": " "}, headers=h),
            needs_user=True,
        )
        me = scene.world.users[actor].id if actor else None
        await matrix.run(actor, probe, Resource(kind="user", user_id=me), "own tokens")
    matrix.assert_clean()


async def test_lists_show_exactly_what_the_policy_lets_each_actor_see(
    scene: Scene, client: httpx.AsyncClient
) -> None:
    all_companies = {c.id for c in scene.companies.values()}
    for actor in ACTORS:
        who = scene.who(actor)
        response = await client.get("/api/v1/tenders", params={"limit": 100}, headers=scene.headers(actor))
        assert response.status_code == 200, response.text
        page = response.json()
        seen = {uuid.UUID(item["id"]) for item in page["items"]}
        visible = {f.id for f in scene.tenders.values() if permits(who, "tender.view", f.resource())}
        assert seen == visible, actor
        assert page["total"] == len(visible), actor
        states = {f.id: f.state for f in scene.tenders.values()}
        assert all(item["state"] == states[uuid.UUID(item["id"])] for item in page["items"]), actor

        response = await client.get("/api/v1/companies", params={"limit": 100}, headers=scene.headers(actor))
        if actor is None:
            assert response.status_code == 401
            continue
        viewable = {
            c.id
            for c in scene.companies.values()
            if permits(who, "company.view", Resource(kind="company", region_id=c.region_id, company_id=c.id))
        }
        if not viewable:
            assert response.status_code == 404, (actor, response.text)
            continue
        assert response.status_code == 200, response.text
        listed = {uuid.UUID(item["id"]) for item in response.json()["items"]} & all_companies
        assert listed == viewable, actor
        if who.role is Role.BIDDER:
            assert [uuid.UUID(i["id"]) for i in response.json()["items"]] == [who.company_id]


async def test_anonymous_sees_published_tenders_but_not_drafts(
    scene: Scene, client: httpx.AsyncClient
) -> None:
    response = await client.get("/api/v1/tenders", params={"limit": 100})
    states = {item["state"] for item in response.json()["items"]}
    assert "draft" not in states
    assert {"published", "closed", "terminated"} <= states
    for name in ("draft", "draft_other", "far_draft"):
        response = await client.get(f"/api/v1/tenders/{scene.tenders[name].id}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)
        response = await client.get(
            f"/api/v1/tenders/{scene.tenders[name].id}/documents/{scene.tenders[name].document_id}"
        )
        assert response.status_code == 404
    response = await client.get(f"/api/v1/tenders/{scene.tenders['published'].id}")
    assert response.status_code == 200
    assert response.json()["allowed_actions"] == []
    # A draft's 404 looks exactly like a tender that does not exist.
    missing = await client.get(f"/api/v1/tenders/{uuid.uuid4()}")
    hidden = await client.get(f"/api/v1/tenders/{scene.tenders['draft'].id}")
    assert {k: v for k, v in missing.json().items() if k != "instance"} == {
        k: v for k, v in hidden.json().items() if k != "instance"
    }


async def test_registrations_show_a_bidder_only_its_own_company(
    scene: Scene, client: httpx.AsyncClient
) -> None:
    world = scene.world
    url = f"/api/v1/tenders/{scene.tenders['published'].id}/registrations"
    both = {world.users["bidder"].company_id, world.users["bidder_other"].company_id}
    for actor in ("bidder", "bidder_other"):
        response = await client.get(url, headers=world.auth(actor))
        assert response.status_code == 200
        assert [uuid.UUID(r["company_id"]) for r in response.json()] == [world.users[actor].company_id]
    for actor in ("tenderer", "agent", "staff", "supervisor"):
        response = await client.get(url, headers=world.auth(actor))
        assert response.status_code == 200
        assert {uuid.UUID(r["company_id"]) for r in response.json()} == both
    # Nor does the public ledger say who registered.
    entries = (await client.get("/api/v1/ledger/entries", params={"start": 0, "end": 1000})).json()
    text = str([e for e in entries if e["kind"] == "tender.registered"])
    assert all(str(company) not in text for company in both)


async def test_clarifications_never_reveal_who_asked(scene: Scene, client: httpx.AsyncClient) -> None:
    world = scene.world
    url = f"/api/v1/tenders/{scene.tenders['published'].id}/clarifications"
    user_ids = {str(u.id) for u in world.users.values()}
    for actor in ("bidder", "bidder_other", "tenderer", "agent", "staff", "supervisor"):
        response = await client.get(url, headers=world.auth(actor))
        assert response.status_code == 200, (actor, response.text)
        items = response.json()
        assert len(items) == 2
        mine = {item["number"] for item in items if item["asked_by_me"]}
        assert mine == ({scene.asked[actor]} if actor in scene.asked else set()), actor
        assert not any(uid in response.text for uid in user_ids), actor
        for item in items:
            assert set(item) == {"number", "question", "asked_at", "answer", "answered_at", "asked_by_me"}
    entries = (await client.get("/api/v1/ledger/entries", params={"start": 0, "end": 1000})).json()
    asked = [e for e in entries if e["kind"] == "clarification.asked"]
    assert len(asked) == 2
    assert not any(uid in str(asked) for uid in user_ids)


# -- authentication -------------------------------------------------------------------------------------


async def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_bad_expired_and_revoked_tokens_get_401(scene: Scene, client: httpx.AsyncClient) -> None:
    world = scene.world
    public = f"/api/v1/tenders/{scene.tenders['published'].id}"
    created = await client.post(
        "/api/v1/auth/tokens", json={"name": "short", "days": 1}, headers=world.auth("bidder")
    )
    assert created.status_code == 201, created.text
    expiring = created.json()["token"]
    created = await client.post("/api/v1/auth/tokens", json={"name": "spare"}, headers=world.auth("bidder"))
    spare, spare_id = created.json()["token"], created.json()["id"]
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {spare}"})
    ).status_code == 200

    # Somebody else cannot revoke it, and does not learn it exists.
    other = await client.delete(f"/api/v1/auth/tokens/{spare_id}", headers=world.auth("bidder_other"))
    await _problem(other, 404)
    admin = await client.delete(f"/api/v1/auth/tokens/{spare_id}", headers=world.auth("admin"))
    await _problem(admin, 404)
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {spare}"})
    ).status_code == 200
    # Its owner can; then it is dead.
    revoked = await client.delete(f"/api/v1/auth/tokens/{spare_id}", headers=world.auth("bidder"))
    assert revoked.status_code == 204
    listed = await client.get("/api/v1/auth/tokens", headers=world.auth("bidder"))
    assert {t["name"] for t in listed.json()} == {"tests", "short", "spare"}
    assert all(t["token"] is None for t in listed.json())
    assert [t["revoked_at"] is not None for t in listed.json() if t["name"] == "spare"] == [True]

    scene.clock.advance(timedelta(days=1, seconds=1))
    bad_headers = {
        "revoked": {"Authorization": f"Bearer {spare}"},
        "expired": {"Authorization": f"Bearer {expiring}"},
        "garbage": {"Authorization": "Bearer nonsense"},
        "guessed": {"Authorization": "Bearer tht_" + "A" * 43},
        "empty": {"Authorization": "Bearer "},
        "prefix only": {"Authorization": "Bearer tht_"},
    }
    for label, headers in bad_headers.items():
        before = await fingerprint(scene.services)
        for method, url in (
            ("GET", "/api/v1/auth/me"),
            ("GET", public),
            ("GET", "/api/v1/tenders"),
            ("POST", f"{public}/registrations"),
        ):
            response = await client.request(method, url, headers=headers)
            await _problem(response, 401)
        assert await fingerprint(scene.services) == before, label
    # Other schemes are not tokens: the request is simply anonymous.
    response = await client.get("/api/v1/auth/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    await _problem(response, 401)


async def test_cookie_sessions_need_the_csrf_header_and_logout_revokes(
    scene: Scene, client: httpx.AsyncClient
) -> None:
    world = scene.world
    login = await client.post("/api/v1/auth/login", json={"username": "bidder", "password": PASSWORD})
    assert login.status_code == 201, login.text
    session = client.cookies.get("th_session")
    assert session
    assert "httponly" in login.headers["set-cookie"].lower()
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "bidder"
    csrf = client.cookies.get("th_csrf")
    assert csrf

    register = f"/api/v1/tenders/{scene.tenders['published_other'].id}/registrations"
    before = await fingerprint(scene.services)
    for method, url, body in (
        ("POST", "/api/v1/auth/tokens", {"name": "via cookie"}),
        ("POST", register, None),
        ("POST", "/api/v1/auth/logout", None),
        (
            "PATCH",
            f"/api/v1/companies/{world.companies[0].id}",
            {"name": "x", "uscc": "x", "city": "x", "legal_representative": "x"},
        ),
        ("DELETE", f"/api/v1/auth/tokens/{uuid.uuid4()}", None),
    ):
        refused = await client.request(method, url, json=body)
        body_out = await _problem(refused, 403)
        assert body_out["code"] == "error.csrf"
        wrong = await client.request(method, url, json=body, headers={"x-csrf-token": "forged"})
        await _problem(wrong, 403)
    assert await fingerprint(scene.services) == before
    # The session still works for reading, and with the header for writing.
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    made = await client.post(
        "/api/v1/auth/tokens", json={"name": "via cookie"}, headers={"x-csrf-token": csrf}
    )
    assert made.status_code == 201, made.text

    # Bearer tokens carry no ambient authority: no CSRF header needed (and no cookie sent).
    client.cookies.clear()
    made = await client.post("/api/v1/auth/tokens", json={"name": "via token"}, headers=world.auth("bidder"))
    assert made.status_code == 201, made.text
    client.cookies.set("th_session", session)
    client.cookies.set("th_csrf", csrf)

    out = await client.post("/api/v1/auth/logout", headers={"x-csrf-token": csrf})
    assert out.status_code == 200, out.text
    # The server revoked the session: replaying the old cookie is anonymous.
    client.cookies.clear()
    client.cookies.set("th_session", session)
    await _problem(await client.get("/api/v1/auth/me"), 401)
    async with scene.services.sessionmaker() as db:
        rows = (await db.execute(select(UserSession.revoked_at))).scalars().all()
    assert rows
    assert all(r is not None for r in rows)
    client.cookies.clear()


async def test_login_throttle_slows_the_attacker_and_never_locks_the_owner_out(
    scene: Scene, client: httpx.AsyncClient, app: Litestar
) -> None:
    """Five wrong passwords used to lock the account for its owner too.  Now the attacker's
    address waits, doubling each time; the owner signs in from anywhere else at once."""
    async with scene.services.sessionmaker() as db:
        ledger_before = int(await db.scalar(select(func.count()).select_from(LedgerEntry)) or 0)
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/login", json={"username": "bidder", "password": "wrong-password"}
        )
        assert (await _problem(response, 401))["code"] == "auth.bad_credentials"
    # Failures leave nothing in the public ledger (its size would tell which usernames exist).
    async with scene.services.sessionmaker() as db:
        assert int(await db.scalar(select(func.count()).select_from(LedgerEntry)) or 0) == ledger_before
    # From the attacker's address, the sixth failure makes even the right password wait, on both
    # password endpoints, in Beijing time and with Retry-After.
    await _problem(
        await client.post("/api/v1/auth/login", json={"username": "bidder", "password": "wrong-password"}),
        401,
    )
    for url, body in (
        ("/api/v1/auth/login", {"username": "bidder", "password": PASSWORD}),
        ("/api/v1/auth/token", {"username": "BIDDER", "password": PASSWORD, "name": "cli"}),
    ):
        waiting = await client.post(url, json=body, headers={"accept-language": "zh-CN"})
        problem = await _problem(waiting, 429)
        assert problem["code"] == "auth.throttled"
        assert waiting.headers["retry-after"] == "1"
        until = (scene.clock.now() + timedelta(seconds=1)).astimezone(ZoneInfo("Asia/Shanghai"))
        assert f"北京时间 {until:%Y-%m-%d %H:%M:%S}" in problem["detail"]
    # The owner, from their own address, is not held back at all, on either endpoint.
    async with from_address(app, "198.51.100.7") as owner:
        signed_in = await owner.post("/api/v1/auth/login", json={"username": "bidder", "password": PASSWORD})
        assert signed_in.status_code == 201, signed_in.text
        owner.cookies.clear()  # a command-line client has no session (no CSRF token needed)
        token = await owner.post(
            "/api/v1/auth/token", json={"username": "bidder", "password": PASSWORD, "name": "cli"}
        )
        assert token.status_code == 201, token.text
    # Another account is not held back from the attacker's address either.
    other = await client.post("/api/v1/auth/login", json={"username": "bidder.other", "password": PASSWORD})
    assert other.status_code == 201, other.text
    client.cookies.clear()
    # Each further failure doubles the wait: 1 s, then 2 s.
    scene.clock.advance(timedelta(seconds=1))
    await _problem(
        await client.post("/api/v1/auth/login", json={"username": "bidder", "password": "wrong-password"}),
        401,
    )
    waiting = await client.post("/api/v1/auth/login", json={"username": "bidder", "password": PASSWORD})
    await _problem(waiting, 429)
    assert waiting.headers["retry-after"] == "2"
    # After the wait, the right password works from the attacker's address too.
    scene.clock.advance(timedelta(seconds=2))
    response = await client.post("/api/v1/auth/login", json={"username": "bidder", "password": PASSWORD})
    assert response.status_code == 201, response.text
    client.cookies.clear()
