"""The "my work" page on the seeded demo platform: each role lands on it after signing in and
finds its work there; nothing of another centre, company or committee ever shows; anonymous
visitors are sent to sign in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from bidding.models import TenderRemedy
from evaluation.models import CommitteeSeat, SeatStatus
from tenderhall.app import create_app
from tenderhall.auth.models import User
from tenderhall.auth.roles import Role
from tenderhall.auth.service import subject_of
from tenderhall.clock import SystemClock
from tenderhall.compose import work_items
from tenderhall.demo import DEMO_PASSWORD
from tenderhall.orgs.models import Centre
from tenderhall.services import Services
from tenderhall.tenders.models import Registration, Tender
from tenderhall.work.items import Urgency
from tests.tenderhall.web.conftest import Demo, sign_in

pytestmark = pytest.mark.slow  # the demo takes tens of seconds to seed, once per backend


@pytest.fixture
async def demo_app(demo: Demo) -> AsyncIterator[Litestar]:
    app = create_app(demo.settings(), SystemClock(), sweeper=False)
    yield app
    await app.state.services.engine.dispose()


@pytest.fixture
async def demo_client(demo_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=demo_app, base_url="http://testserver.local") as client:
        yield client


async def _first_user(services: Services, query: Any) -> str:
    async with services.sessionmaker() as db:
        name = await db.scalar(query.order_by(User.username).limit(1))
    assert name is not None, "the demo data no longer has such an account"
    return str(name)


def _notified_expert() -> Any:
    seat = select(CommitteeSeat.user_id).where(CommitteeSeat.status == SeatStatus.NOTIFIED.value)
    return select(User.username).where(User.id.in_(seat))


def _declaring_expert() -> Any:
    seat = select(CommitteeSeat.user_id).where(CommitteeSeat.status == SeatStatus.ACCEPTED.value)
    return select(User.username).where(User.id.in_(seat))


def _bidder_in_bidding() -> Any:
    open_tenders = select(Tender.id).where(Tender.state == "published")
    companies = select(Registration.company_id).where(Registration.tender_id.in_(open_tenders))
    return select(User.username).where(User.role == Role.BIDDER.value, User.company_id.in_(companies))


# role's account (a username, or a query finding one in the demo data) -> kinds its page must list
EXPECTED: list[tuple[str, Any, set[str]]] = [
    ("staff", "staff.sh", {"centre.closed", "centre.opening", "centre.draft", "alert.assigned"}),
    ("supervisor", "supervisor", {"draw.approve", "alert.escalated"}),
    ("expert invited", _notified_expert, {"seat.respond"}),
    ("expert declaring", _declaring_expert, {"seat.declare"}),
    ("tenderer representative", "tenderer1.rep", {"evaluation.commit"}),
    ("tenderer", "tenderer1", {"owner.publish", "owner.bidding"}),
    ("agent", "agent2", {"owner.publish"}),
    ("bidder", _bidder_in_bidding, {"bid.to_submit"}),
    ("custodian", "custodian2", {"hall.release_share"}),
    ("admin", "admin", {"admin.accounts", "admin.centres"}),
]


async def _page(client: Any, username: str) -> tuple[str, set[str]]:
    answer = await sign_in(client, username, DEMO_PASSWORD)
    assert answer.status_code in (302, 303), answer.text
    assert answer.headers["location"] == "/work"
    page = await client.get("/work")
    assert page.status_code == 200
    return page.text, set(re.findall(r'data-kind="([^"]+)"', page.text))


async def test_each_role_lands_on_its_work(demo_client, demo_app) -> None:
    services = demo_app.state.services
    for role, account, kinds in EXPECTED:
        username = account if isinstance(account, str) else await _first_user(services, account())
        demo_client.cookies.clear()
        html, shown = await _page(demo_client, username)
        assert kinds <= shown, (role, username, shown)
        assert "北京时间" in html
        # Every label came from a catalogue: no key shows through.
        labels = re.findall(r'<a class="what" href="[^"]+">([^<]+)</a>', html)
        assert labels, role
        assert not [label for label in labels if label.startswith("work.")], role
    # The same page in English, the zone still named.
    demo_client.cookies.clear()
    demo_client.cookies.set("th_lang", "en")
    html, _ = await _page(demo_client, "staff.sh")
    assert "<h1>My work</h1>" in html
    assert "Beijing time" in html
    assert "Deadline passed: open the opening hall" in html


async def test_anonymous_visitors_are_sent_to_sign_in(demo_client) -> None:
    answer = await demo_client.get("/work", follow_redirects=False)
    assert answer.status_code in (302, 303)
    assert answer.headers["location"] == "/login"
    # A forged session cookie is nobody either.
    demo_client.cookies.set("th_session", "forged")
    forged = await demo_client.get("/work", follow_redirects=False)
    assert forged.status_code in (302, 303)
    assert forged.headers["location"] == "/login"


async def test_nothing_of_another_centre_company_or_committee_shows(demo_app) -> None:
    """Every demo account's items, each checked against what the account is entitled to."""
    services: Services = demo_app.state.services
    waiting: dict[str, int] = {}
    async with services.sessionmaker() as db:
        users = list(await db.scalars(select(User).order_by(User.username)))
        centres = {c.id: c for c in await db.scalars(select(Centre))}
        for user in users:
            who = subject_of(user)
            items = await work_items(db, services, who)
            waiting[user.role] = waiting.get(user.role, 0) + sum(i.urgency < Urgency.INFO for i in items)
            for item in items:
                if item.tender_id is None:
                    continue
                tender = await db.get(Tender, item.tender_id)
                assert tender is not None
                assert await _entitled(db, user, tender, item.kind, centres), (user.username, item)
    # Where the demo allows, every role has work waiting somewhere.
    assert {r.value for r in Role} <= {role for role, n in waiting.items() if n}, waiting


async def _entitled(db: Any, user: User, tender: Tender, kind: str, centres: dict[Any, Centre]) -> bool:
    role = Role(user.role)
    if role is Role.STAFF:
        return tender.centre_id == user.centre_id
    if role is Role.SUPERVISOR:
        return centres[tender.centre_id].region_id == user.region_id
    if role is Role.BIDDER:
        registered = await db.scalar(
            select(Registration.id).where(
                Registration.tender_id == tender.id, Registration.company_id == user.company_id
            )
        )
        return registered is not None
    seated = await db.scalar(
        select(CommitteeSeat.id).where(CommitteeSeat.tender_id == tender.id, CommitteeSeat.user_id == user.id)
    )
    if role is Role.EXPERT:
        return seated is not None
    if role in (Role.TENDERER, Role.AGENT):
        owner = user.organisation_id in (tender.tenderer_id, tender.agency_id)
        return owner or (seated is not None and kind.startswith(("evaluation.", "seat.")))
    if role is Role.CUSTODIAN:
        remedy = await db.scalar(select(TenderRemedy).where(TenderRemedy.tender_id == tender.id))
        return remedy is not None and any(c["user_id"] == str(user.id) for c in remedy.custodians)
    return False  # admins never get a tender's item
