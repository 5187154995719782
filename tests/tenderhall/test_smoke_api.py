"""The app starts on a migrated database and answers with problem details."""

from __future__ import annotations


async def test_health_and_problem_details(client, world) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["ledger_size"] > 0
    response = await client.get("/api/v1/tenders/not-a-uuid")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404
