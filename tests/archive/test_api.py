"""``GET /api/v1/tenders/{id}/archive``: staff of the tender's centre and supervisors see the
versions; staff of another centre, bidders and anonymous callers are refused; bad ids answer
problem details."""

from __future__ import annotations

import uuid

import pytest

from tests.archive.helpers import FlakyBuilder, archives, ended_tender


async def test_staff_see_the_versions_attempts_and_last_error(client, services, world) -> None:
    archives(services, FlakyBuilder(failures=1))
    tender = await ended_tender(services, world)
    try:
        await services.jobs.work(until_idle=True)  # the first attempt fails
    finally:
        await services.jobs.close()
    for name in ("staff", "supervisor"):
        answer = await client.get(f"/api/v1/tenders/{tender.id}/archive", headers=world.auth(name))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["tender_id"] == str(tender.id)
        assert body["tender_state"] == "terminated"
        [version] = body["versions"]
        assert version["version"] == 1
        assert version["status"] == "pending"
        assert version["attempts"] == 1
        assert version["reason"] == "terminate"
        assert version["last_error"] == "ConnectionError: signing service unreachable (call 1)"
        assert "sha256" not in version  # not built yet


@pytest.mark.parametrize("name", ["staff_other", "staff_far", "bidder", "tenderer", None])
async def test_others_are_refused(client, services, world, name) -> None:
    archives(services, FlakyBuilder(failures=0))
    tender = await ended_tender(services, world)
    headers = world.auth(name) if name else {}
    answer = await client.get(f"/api/v1/tenders/{tender.id}/archive", headers=headers)
    assert answer.status_code == (401 if name is None else 404 if name != "tenderer" else 403)
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "versions" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tenders/not-a-uuid/archive",
        f"/api/v1/tenders/{uuid.UUID(int=0)}/archive",
        f"/api/v1/tenders/{uuid.uuid4()}/archive",
        "/api/v1/tenders/" + "9" * 5000 + "/archive",
        "/api/v1/tenders/%00/archive",
    ],
)
async def test_bad_tender_ids_answer_problem_details(client, world, path) -> None:
    answer = await client.get(path, headers=world.auth("staff"))
    assert answer.status_code in (400, 404, 414), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
