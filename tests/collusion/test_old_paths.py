"""The pre-v1 paths ``/api/collusion/...`` answer 308 to the same path under ``/api/v1/`` for one
release: method, body and query string survive the redirect."""

from __future__ import annotations

from tests.collusion.helpers import import_history


async def test_old_paths_redirect_with_method_body_and_query(client, world, services) -> None:
    await import_history(services, world)
    staff = world.auth("staff")
    old = await client.get("/api/collusion/alerts?level=high&limit=2", headers=staff, follow_redirects=False)
    assert old.status_code == 308
    assert old.headers["location"] == "/api/v1/collusion/alerts?level=high&limit=2"
    new = await client.get("/api/v1/collusion/alerts?level=high&limit=2", headers=staff)
    followed = await client.get(
        "/api/collusion/alerts?level=high&limit=2", headers=staff, follow_redirects=True
    )
    assert followed.status_code == 200
    assert followed.json() == new.json()
    assert len(new.json()["items"]) == 2

    alert = new.json()["items"][0]["id"]
    url = f"/api/collusion/alerts/{alert}/comments"
    moved = await client.post(url, json={"body": "先看保证金"}, headers=staff, follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/api/v1/collusion/alerts/{alert}/comments"
    posted = await client.post(url, json={"body": "先看保证金"}, headers=staff, follow_redirects=True)
    assert posted.status_code == 201
    assert posted.json()["body"] == "先看保证金"
    detail = (await client.get(f"/api/v1/collusion/alerts/{alert}", headers=staff)).json()
    assert [c["body"] for c in detail["comments"]] == ["先看保证金"]  # the redirect itself wrote nothing


async def test_old_paths_redirect_everyone_alike_and_the_new_path_decides(client, world, services) -> None:
    await import_history(services, world)
    for headers in ({}, world.auth("bidder")):
        old = await client.get("/api/collusion/graph?min_weight=0", headers=headers, follow_redirects=False)
        assert old.status_code == 308
        assert old.headers["location"] == "/api/v1/collusion/graph?min_weight=0"
        followed = await client.get(
            "/api/collusion/graph?min_weight=0", headers=headers, follow_redirects=True
        )
        direct = await client.get("/api/v1/collusion/graph?min_weight=0", headers=headers)
        assert followed.status_code == direct.status_code
        assert followed.status_code in (401, 403)
