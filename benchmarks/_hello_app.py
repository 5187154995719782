"""The load benchmark's peer: a minimal Litestar app, one handler returning a small JSON list.

Served by the same uvicorn as the platform (``python -m uvicorn benchmarks._hello_app:app``), with
the same worker count, so the ratio between the two is what the platform's own work costs.
"""

from __future__ import annotations

from litestar import Litestar, get

ITEMS = [{"id": i, "title": f"item {i}", "state": "published"} for i in range(3)]


@get("/")
async def items() -> list[dict[str, object]]:
    return ITEMS


app = Litestar([items])
