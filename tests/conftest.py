"""Shared fixtures: a fresh database per test on every requested backend, built from a template
that Alembic made once per session (so tests also prove the migrations work).

Backends come from ``TENDERHALL_TEST_BACKENDS`` (default ``sqlite``; ``.ci/run`` asks for
``sqlite,postgresql``).  PostgreSQL is reached at ``TENDERHALL_TEST_POSTGRES_URL``; if it was asked
for and cannot be reached, the run stops with an error instead of silently skipping.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenderhall.app import create_app
from tenderhall.auth.policy import Subject
from tenderhall.auth.roles import Role
from tenderhall.auth.service import subject_of
from tenderhall.clock import FixedClock
from tenderhall.orgs import uscc
from tenderhall.orgs.models import Centre, Company, Organisation, OrganisationKind, Region
from tenderhall.services import Services
from tenderhall.settings import Settings

BACKENDS = [b.strip() for b in os.environ.get("TENDERHALL_TEST_BACKENDS", "sqlite").split(",") if b.strip()]
PG_URL = os.environ.get("TENDERHALL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


def _pg_admin_url() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


def _pg_db_url(name: str) -> str:
    parts = urlsplit(_pg_admin_url())
    return urlunsplit(
        (parts.scheme.replace("postgresql", "postgresql+asyncpg"), parts.netloc, "/" + name, "", "")
    )


async def _pg_exec(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url(), timeout=10)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def pytest_configure(config: pytest.Config) -> None:
    unknown = set(BACKENDS) - {"sqlite", "postgresql"}
    if unknown:
        pytest.exit(f"unknown TENDERHALL_TEST_BACKENDS entries: {sorted(unknown)}", returncode=4)
    if "postgresql" in BACKENDS:
        try:
            asyncio.run(_pg_exec("SELECT 1"))
        except Exception as exc:
            pytest.exit(
                f"PostgreSQL was asked for (TENDERHALL_TEST_BACKENDS) but {PG_URL} is unreachable: {exc}",
                returncode=3,
            )


def _upgrade(url: str, data_dir: Path) -> None:
    from advanced_alchemy.alembic.commands import AlembicCommands

    from tenderhall.compose import import_models
    from tenderhall.db.engine import sqlalchemy_config

    import_models()
    config = sqlalchemy_config(url)
    AlembicCommands(sqlalchemy_config=config).upgrade("head")
    asyncio.run(config.get_engine().dispose())


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated template database per backend (a file for SQLite, a database for PostgreSQL)."""
    made: dict[str, str] = {}
    root = tmp_path_factory.mktemp("templates")
    pg_template = f"th_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        for backend in BACKENDS:
            if backend == "sqlite":
                path = root / "template.db"
                _upgrade(f"sqlite+aiosqlite:///{path}", root)
                made["sqlite"] = str(path)
            else:
                asyncio.run(_pg_exec(f'CREATE DATABASE "{pg_template}"'))
                made["postgresql"] = pg_template
                _upgrade(_pg_db_url(pg_template), root)
        yield made
    finally:
        if "postgresql" in made:
            asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{pg_template}" WITH (FORCE)'))


@contextlib.contextmanager
def migrated_database(backend: str, templates: dict[str, str], path: Path) -> Iterator[str]:
    """A fresh copy of the migrated template (the file ``path`` on SQLite); dropped afterwards."""
    if backend == "sqlite":
        shutil.copyfile(templates["sqlite"], path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"th_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{templates["postgresql"]}"'))
    try:
        yield _pg_db_url(name)
    finally:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, templates: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test; dropped afterwards."""
    with migrated_database(request.param, templates, tmp_path / "test.db") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"th_empty_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_db_url(name)
    finally:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def make_empty_database(tmp_path: Path) -> Iterator[Any]:
    """Make more schema-less databases in one test (``make("sqlite")`` or ``make("postgresql")``)."""
    made: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / f'extra-{uuid.uuid4().hex[:8]}.db'}"
        name = f"th_extra_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return _pg_db_url(name)

    yield make
    for name in made:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """Environment for running the ``tenderhall`` command against a test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENDERHALL_")}
    env.update(
        TENDERHALL_DATABASE_URL=database_url,
        TENDERHALL_DATA_DIR=str(data_dir),
        TENDERHALL_BASE_URL="http://testserver.local",
        TENDERHALL_LEDGER_ORIGIN="testserver.local/tenderhall/ledger",
    )
    return env


@pytest.fixture
def run_cli(tmp_path: Path) -> Any:
    """Run ``tenderhall ARGS`` as a real subprocess; returns the CompletedProcess."""
    import subprocess
    import sys

    def run(
        database_url: str,
        *args: str,
        data_dir: Path | None = None,
        stdin: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        env = cli_env(database_url, data_dir or tmp_path / "data")
        env.update(extra_env or {})
        return subprocess.run(
            [sys.executable, "-m", "tenderhall", *args],
            capture_output=True,
            text=True,
            env=env,
            input=stdin,
            timeout=300,
            check=False,
        )

    return run


@pytest.fixture
def spawn_cli(tmp_path: Path) -> Iterator[Any]:
    """Start ``tenderhall ARGS`` as a long-running process (e.g. ``serve``); stopped after the test."""
    import signal
    import subprocess
    import sys

    started: list[subprocess.Popen[str]] = []

    def spawn(
        database_url: str, *args: str, extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        env = cli_env(database_url, tmp_path / "data")
        env.update(extra_env or {})
        proc = subprocess.Popen(
            [sys.executable, "-m", "tenderhall", *args],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield spawn
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


def make_settings(database_url: str, root: Path) -> Settings:
    """Test settings: the database, data under ``root``, fast password hashing."""
    return Settings(
        data_dir=root / "data",
        database_url=database_url,
        secrets_dir=root / "data" / "secrets",
        storage_dir=root / "data" / "storage",
        base_url="http://testserver.local",
        ledger_origin="testserver.local/tenderhall/ledger",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        null_pool=True,
        # Tests read their own writes as anonymous visitors at once; the cache has its own tests.
        public_cache_seconds=0,
    )


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[Litestar]:
    application = create_app(settings, clock, sweeper=False)
    yield application
    await application.state.services.engine.dispose()


@pytest.fixture
def services(app: Litestar) -> Services:
    return app.state.services  # type: ignore[no-any-return]


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def from_address(app: Litestar, host: str, **headers: str) -> httpx.AsyncClient:
    """A client whose requests reach ``app`` from the peer address ``host`` (the test client's
    own peer is the non-address ``testclient``); ``app``'s lifespan must be running."""
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local", headers=headers)


def make_uscc(n: int, division: str = "310000") -> str:
    return uscc.make(f"91{division}{n:09d}")


@dataclass
class World:
    """A small region with one user per role (and a second one where ownership matters)."""

    services: Services
    region: Region
    centres: list[Centre]
    tenderers: list[Organisation]
    agency: Organisation
    companies: list[Company]
    users: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def who(self, name: str) -> Subject:
        return subject_of(self.users[name])

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
async def world(services: Services) -> World:
    async with services.transaction() as db:
        region = Region(code="YRD", name="长三角")
        other_region = Region(code="PRD", name="珠三角")
        db.add_all([region, other_region])
        await db.flush()
        centres = [
            Centre(region_id=region.id, code="SH", name="上海中心", city="上海"),
            Centre(region_id=region.id, code="HZ", name="杭州中心", city="杭州"),
            Centre(region_id=other_region.id, code="GZ", name="广州中心", city="广州"),
        ]
        tenderers = [
            Organisation(
                region_id=region.id,
                kind=OrganisationKind.TENDERER.value,
                name=f"招标人{i}",
                uscc=make_uscc(900 + i),
                city="上海",
            )
            for i in range(2)
        ]
        agency = Organisation(
            region_id=region.id,
            kind=OrganisationKind.AGENCY.value,
            name="代理机构",
            uscc=make_uscc(950),
            city="上海",
        )
        companies = [
            Company(
                region_id=region.id,
                name=f"投标公司{i}",
                uscc=make_uscc(i + 1),
                city="上海",
                legal_representative=f"法人{i}",
            )
            for i in range(3)
        ]
        db.add_all([*centres, *tenderers, agency, *companies])
        await db.flush()
        w = World(
            services=services,
            region=region,
            centres=centres,
            tenderers=tenderers,
            agency=agency,
            companies=companies,
        )
        specs: dict[str, tuple[Role, dict[str, Any]]] = {
            "admin": (Role.ADMIN, {}),
            "staff": (Role.STAFF, {"centre_id": centres[0].id}),
            "staff_other": (Role.STAFF, {"centre_id": centres[1].id}),
            "staff_far": (Role.STAFF, {"centre_id": centres[2].id, "region_id": other_region.id}),
            "supervisor": (Role.SUPERVISOR, {}),
            "tenderer": (Role.TENDERER, {"organisation_id": tenderers[0].id}),
            "tenderer_other": (Role.TENDERER, {"organisation_id": tenderers[1].id}),
            "agent": (Role.AGENT, {"organisation_id": agency.id}),
            "bidder": (Role.BIDDER, {"company_id": companies[0].id}),
            "bidder_other": (Role.BIDDER, {"company_id": companies[1].id}),
            "expert": (Role.EXPERT, {}),
            "custodian": (Role.CUSTODIAN, {}),
        }
        for name, (role, links) in specs.items():
            links.setdefault("region_id", region.id)
            user = await services.accounts.create_user(
                db, username=name.replace("_", "."), password=PASSWORD, role=role, display_name=name, **links
            )
            w.users[name] = user
            _, secret = await services.accounts.create_token(db, user, "tests", None)
            w.tokens[name] = secret
    return w
