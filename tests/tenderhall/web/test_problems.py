"""Failures of the blob store leave as 503 problem details with a retry hint, never a bare 500."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import TestClient

from tenderhall.storage import StorageError
from tenderhall.web import problems


@get("/blob")
async def blob() -> str:
    raise StorageError("bucket unreachable")


@get("/boom")
async def boom() -> str:
    raise RuntimeError("bug")


def test_storage_error_is_a_503_problem() -> None:
    app = Litestar([blob, boom], exception_handlers={Exception: problems.handle})
    with TestClient(app) as client:
        r = client.get("/blob", headers={"Accept-Language": "en"})
        assert r.status_code == 503
        assert r.headers["retry-after"] == "30"
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["code"] == "error.storage"
        assert "bucket" not in body["detail"]  # the cause stays in the log
        assert "temporarily unavailable" in body["detail"]
        assert client.get("/boom").status_code == 500
