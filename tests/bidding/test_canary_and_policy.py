"""No plaintext of a sealed bid anywhere the platform keeps data before opening (database rows,
storage, partial uploads); and the bidding rows of the policy table."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tenderhall.auth.policy import Resource, Subject, permits
from tenderhall.auth.roles import Role
from tenderhall.db.base import metadata
from tests.bidding.helpers import make_scene, seal_and_submit, start_upload

CANARY = "CANARY-7f3a9c1e-围标暗号"


async def _database_holds(services, needle: bytes) -> list[str]:
    found = []
    async with services.sessionmaker() as db:
        for table in metadata.sorted_tables:
            for row in (await db.execute(select(table))).all():
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    if needle in raw:
                        found.append(table.name)
    return found


def _files_hold(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_no_plaintext_before_opening(services, world, client, settings) -> None:
    scene = await make_scene(services, world, client, bidders=2, custodians=2, k=2)
    blob = await seal_and_submit(client, scene, scene.bidders[0], "c1", canary=CANARY)
    # A second one left half-uploaded in a partial file.
    r = await start_upload(client, scene, scene.bidders[1], blob, "c2")
    assert r.status_code == 201
    await client.patch(
        f"/api/v1/uploads/{r.json()['id']}",
        content=blob[: len(blob) // 2],
        headers={**scene.bidders[1].headers, "Upload-Offset": "0"},
    )
    needle = CANARY.encode()
    # The scan itself can find the canary: plant it in plain sight once, in a scratch file.
    scratch = settings.data_dir / "scratch.txt"
    scratch.write_bytes(needle)
    assert _files_hold(settings.data_dir, needle) == [str(scratch)]
    scratch.unlink()
    assert _files_hold(settings.data_dir, needle) == []
    assert await _database_holds(services, needle) == []
    if settings.database_url.startswith("sqlite"):
        db_file = Path(settings.database_url.split("///", 1)[1])
        for path in db_file.parent.glob(db_file.name + "*"):
            assert needle not in path.read_bytes()


@pytest.mark.parametrize(
    ("role", "action", "state", "own", "allowed"),
    [
        (Role.BIDDER, "bid.submit", "published", True, True),
        (Role.BIDDER, "bid.submit", "closed", True, False),
        (Role.BIDDER, "bid.submit", "published", False, False),
        (Role.BIDDER, "bid.withdraw", "published", True, True),
        (Role.BIDDER, "bid.withdraw", "closed", True, False),
        (Role.BIDDER, "bid.decrypt", "opening", True, True),
        (Role.BIDDER, "bid.decrypt", "closed", True, False),
        (Role.BIDDER, "bid.decrypt", "opening", False, False),
        (Role.BIDDER, "bid.content.view", "opened", True, True),
        (Role.BIDDER, "bid.content.view", "opening", True, False),
        (Role.STAFF, "bid.content.view", "opened", True, False),
        # The evaluation committee of the tender ("own": an active seat on it), while it evaluates.
        (Role.EXPERT, "bid.content.view", "evaluating", True, True),
        (Role.EXPERT, "bid.content.view", "recommended", True, True),
        (Role.EXPERT, "bid.content.view", "evaluating", False, False),
        (Role.EXPERT, "bid.content.view", "opened", True, False),
        (Role.EXPERT, "bid.content.view", "awarded", True, False),
        (Role.EXPERT, "bid.view", "evaluating", True, False),
        # A tenderer's staff read bids only from a seat on the committee (招标人代表).
        (Role.TENDERER, "bid.content.view", "evaluating", True, True),
        (Role.TENDERER, "bid.content.view", "evaluating", False, False),
        (Role.TENDERER, "bid.content.view", "opened", True, False),
        # The access log of bid content: the tender's centre and the supervisors, after opening.
        (Role.STAFF, "bid.reads.view", "evaluating", True, True),
        (Role.STAFF, "bid.reads.view", "evaluating", False, False),
        (Role.STAFF, "bid.reads.view", "opening", True, False),
        (Role.EXPERT, "bid.reads.view", "evaluating", True, False),
        (Role.BIDDER, "bid.reads.view", "evaluating", True, False),
        (Role.TENDERER, "bid.reads.view", "evaluating", True, False),
        (Role.STAFF, "hall.run", "opening", True, True),
        (Role.STAFF, "hall.run", "opened", True, False),
        (Role.CUSTODIAN, "share.release", "opening", True, True),
        (Role.CUSTODIAN, "share.release", "opening", False, False),
        (Role.ADMIN, "bid.decrypt", "opening", True, False),
        (Role.ADMIN, "share.release", "opening", True, False),
    ],
)
def test_bidding_policy_rows(role, action, state, own, allowed) -> None:
    import uuid

    me, company, centre = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    who = Subject(
        role=role,
        user_id=me,
        company_id=company if role is Role.BIDDER else None,
        centre_id=centre if role is Role.STAFF else None,
    )
    obj = Resource(
        kind="bid",
        state=state,
        company_id=company if own else uuid.uuid4(),
        centre_id=centre if own else uuid.uuid4(),
        user_id=me if own else uuid.uuid4(),
        registered_companies=frozenset({company}) if own else frozenset(),
    )
    assert permits(who, action, obj) is allowed
