"""The seeded demo platform, made once per backend for the "my work" tests (seeding takes
tens of seconds), and copies of it for tests that change it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tenderhall.demo import seed
from tenderhall.settings import Settings
from tests.conftest import BACKENDS, _pg_db_url, _pg_exec, migrated_database


@dataclass(frozen=True)
class Demo:
    backend: str
    url: str
    data_dir: Path

    def settings(self, url: str | None = None) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            database_url=url or self.url,
            secrets_dir=self.data_dir / "secrets",
            storage_dir=self.data_dir / "storage",
            base_url="http://testserver.local",
            ledger_origin="testserver.local/tenderhall/ledger",
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            null_pool=True,
        )

    @contextlib.contextmanager
    def copy(self, where: Path) -> Iterator[str]:
        """A copy of the seeded database for a test that writes to it; dropped afterwards."""
        if self.backend == "sqlite":
            path = where / "demo-copy.db"
            shutil.copyfile(self.url.removeprefix("sqlite+aiosqlite:///"), path)
            yield f"sqlite+aiosqlite:///{path}"
            return
        name = f"th_democopy_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        source = self.url.rsplit("/", 1)[1]
        asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        try:
            yield _pg_db_url(name)
        finally:
            asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    with migrated_database(request.param, templates, root / "demo.db") as url:
        made = Demo(request.param, url, root / "data")
        assert asyncio.run(seed(made.settings())) is not None
        yield made


async def sign_in(client: Any, username: str, password: str) -> Any:
    """Sign in through the login form, as a browser does; returns the answer (not followed)."""
    form = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return await client.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": token.group(1)},
        follow_redirects=False,
    )
