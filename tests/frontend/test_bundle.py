"""The browser bundle: one reproducible build of frontend/ (a fresh build equals the bundle the
app serves) served from the bidding package with the app's security headers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.frontend.conftest import BUNDLE, BUNDLE_URL

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_a_fresh_build_equals_the_served_bundle(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules").is_dir():
        pytest.fail("node and frontend/node_modules are needed: scripts/bootstrap.sh installs them")
    assert BUNDLE.exists(), "scripts/bootstrap.sh builds the bundle"
    subprocess.run([node, str(FRONTEND / "build.mjs"), str(tmp_path)], check=True, timeout=120)
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    served = {p.name: p.read_bytes() for p in BUNDLE.parent.iterdir()}
    assert fresh == served, (
        "the bundle is stale: run `npm run build` in frontend/ (scripts/bootstrap.sh does)"
    )


async def test_the_app_serves_the_bundle(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get(BUNDLE_URL)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert response.content == BUNDLE.read_bytes()
    assert response.headers["x-content-type-options"] == "nosniff"
