"""Shared set-up for the bidding benchmarks: a migrated database (SQLite, or a PostgreSQL database
made and dropped here), a published tender with registered bidder companies and their keys,
sealed envelopes made with the real codec, and process measurements (peak RSS, CPU, load).

Everything here runs before the timed part of a benchmark.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import multiprocessing
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import envelope, signing
from bidding.client.keys import BidderKeys
from bidding.package import pack
from bidding.service import Bidding
from tenderhall.auth.roles import Role
from tenderhall.auth.service import subject_of
from tenderhall.clock import Clock
from tenderhall.compose import build_services
from tenderhall.orgs import uscc
from tenderhall.orgs.models import Centre, Company, Organisation, OrganisationKind, Region
from tenderhall.services import Services
from tenderhall.settings import Settings
from tests.support.tenders import draft_tender

ORIGIN = "bench.local/tenderhall/ledger"
PASSWORD = "bench-password-123"
PG_URL = os.environ.get(
    "TENDERHALL_BENCH_POSTGRES_URL",
    os.environ.get("TENDERHALL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
RUBRIC = {
    "price_method": "lowest_price",
    "items": [
        {"code": "T1", "name": "技术", "kind": "technical", "max_points": "60"},
        {"code": "P", "name": "价格", "kind": "price", "max_points": "40"},
    ],
}
MiB = 1 << 20


# -- databases ------------------------------------------------------------------------------------


@dataclass
class Database:
    name: str  # "SQLite" or "PostgreSQL"
    url: str  # sqlalchemy URL (sqlite+aiosqlite / postgresql+asyncpg)
    drop: str | None = None  # PostgreSQL database to drop afterwards


def _pg_admin() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_exec(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_database() -> tuple[Database | None, str]:
    """A fresh PostgreSQL database if the server answers, else None and the reason."""
    name = f"th_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means "skip PostgreSQL"
        return None, f"{_pg_admin().split('@')[-1]} unreachable ({type(exc).__name__})"
    parts = urlsplit(_pg_admin())
    return Database(
        "PostgreSQL", urlunsplit(("postgresql+asyncpg", parts.netloc, "/" + name, "", "")), name
    ), ""


def drop_database(db: Database) -> None:
    if db.drop:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{db.drop}" WITH (FORCE)'))


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url,
        secrets_dir=data_dir / "secrets",
        storage_dir=data_dir / "storage",
        base_url="http://bench.local",
        ledger_origin=ORIGIN,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )


def server_env(settings: Settings, clock_offset: timedelta = timedelta(0)) -> dict[str, str]:
    """Environment for the ``tenderhall`` command on the same database, data and keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENDERHALL_")}
    env.update(
        TENDERHALL_DATABASE_URL=settings.database_url,
        TENDERHALL_DATA_DIR=str(settings.data_dir),
        TENDERHALL_BASE_URL=settings.base_url,
        TENDERHALL_LEDGER_ORIGIN=settings.ledger_origin,
        TENDERHALL_ARGON2_TIME_COST="1",
        TENDERHALL_ARGON2_MEMORY_KIB="1024",
        TENDERHALL_LOG_LEVEL="WARNING",
        TENDERHALL_CLOCK_OFFSET=f"{clock_offset.total_seconds():.3f}",
    )
    return env


def migrate(settings: Settings) -> None:
    """The schema made by ``tenderhall db upgrade`` itself."""
    exe = Path(sys.executable).with_name("tenderhall")
    subprocess.run(
        [str(exe), "db", "upgrade"], env=server_env(settings), check=True, capture_output=True, timeout=300
    )


# -- the tender and its bidders -------------------------------------------------------------------


@dataclass
class Account:
    username: str
    user_id: uuid.UUID
    company_id: uuid.UUID
    uscc: str
    token: str
    keys: BidderKeys


@dataclass
class Scene:
    tender_id: uuid.UUID
    deadline: datetime
    staff: str  # username of the centre's staff member
    bidders: list[Account]


def services_for(settings: Settings, clock: Clock | None = None) -> Services:
    return build_services(settings, clock)


def new_keys(count: int) -> list[BidderKeys]:
    """Bidder-side key pairs: one opening (X25519) and one signing (Ed25519) key per company."""
    return [
        BidderKeys(envelope.X25519Identity.generate(), Ed25519PrivateKey.generate()) for _ in range(count)
    ]


async def make_scene(services: Services, keys: list[BidderKeys], deadline: datetime) -> Scene:
    """A region, centre and tenderer; a published open tender with ``deadline``; one company per
    entry of ``keys``, each with a bidder account and API token, registered for the tender, and
    its own keys registered through the bidding service (with the proof-of-possession signature)."""
    bidding: Bidding = services.get(Bidding)
    async with services.transaction() as db:
        region = Region(code="BEN", name="基准区")
        db.add(region)
        await db.flush()
        centre = Centre(region_id=region.id, code="BC", name="基准中心", city="上海")
        tenderer = Organisation(
            region_id=region.id,
            kind=OrganisationKind.TENDERER.value,
            name="基准招标人",
            uscc=uscc.make(f"91310000{900:09d}"),
            city="上海",
        )
        db.add_all([centre, tenderer])
        await db.flush()
        owner = await services.accounts.create_user(
            db,
            username="bench.tenderer",
            password=PASSWORD,
            role=Role.TENDERER,
            display_name="tenderer",
            region_id=region.id,
            organisation_id=tenderer.id,
        )
        await services.accounts.create_user(
            db,
            username="bench.staff",
            password=PASSWORD,
            role=Role.STAFF,
            display_name="staff",
            region_id=region.id,
            centre_id=centre.id,
        )
        who = subject_of(owner)
        tender = await draft_tender(
            services,
            db,
            who,
            title="基准工程（投标截止压力）",
            estimate_fen=100_000_000,
            tenderer_id=tenderer.id,
            centre_id=centre.id,
            rubric=RUBRIC,
        )
        await services.tenders.publish(db, who, tender.id, deadline)
        tender_id = tender.id
        companies = [
            Company(
                region_id=region.id,
                name=f"投标公司{i:03d}",
                uscc=uscc.make(f"91310000{i + 1:09d}"),
                city="上海",
                legal_representative=f"法人{i}",
            )
            for i in range(len(keys))
        ]
        db.add_all(companies)
        await db.flush()
        accounts: list[Account] = []
        for i, (company, pair) in enumerate(zip(companies, keys, strict=True)):
            user = await services.accounts.create_user(
                db,
                username=f"bench.bidder{i:03d}",
                password=PASSWORD,
                role=Role.BIDDER,
                display_name=f"bidder {i}",
                region_id=region.id,
                company_id=company.id,
            )
            _, token = await services.accounts.create_token(db, user, "bench", None)
            bidder = subject_of(user)
            await services.tenders.register(db, bidder, tender_id)
            statement = signing.registration_statement(str(company.id), pair.recipient, pair.signing_public)
            await bidding.register_key(
                db, bidder, pair.recipient, pair.signing_public, signing.sign(pair.signing, statement)
            )
            accounts.append(Account(user.username, user.id, company.id, company.uscc, token, pair))
    return Scene(tender_id=tender_id, deadline=deadline, staff="bench.staff", bidders=accounts)


# -- envelopes --------------------------------------------------------------------------------------


def make_package(path: Path, envelope_size: int, seed: bytes = b"tenderhall-bench") -> int:
    """A real bid package (stored zip, ``bid-form.json`` first, then one incompressible document)
    sized so that its sealed envelope is about ``envelope_size`` bytes. Returns its length."""
    # Envelope overhead: header (~200 bytes), payload nonce (16) and a 16-byte tag per 64 KiB chunk.
    target = envelope_size - 16 * (envelope_size // 65536 + 1) - 256
    doc = path.with_suffix(".pdf")
    block = hashlib.shake_256(seed).digest(MiB)  # incompressible, deterministic
    form_overhead = 600  # zip local headers, central directory and the form itself
    remaining = max(0, target - form_overhead)
    with doc.open("wb") as out:
        while remaining:
            n = min(remaining, len(block))
            out.write(block[:n])
            remaining -= n
    form = {"price": "98765432.10", "duration_days": 365, "quality": "合格", "project_manager": "张工"}
    with path.open("wb") as out:
        pack(form, [doc], out)
    doc.unlink()
    return path.stat().st_size


class _HashingWriter:
    def __init__(self, out: io.BufferedWriter) -> None:
        self.out = out
        self.digest = hashlib.sha256()

    def write(self, data: memoryview | bytes, /) -> int:
        self.digest.update(data)
        return self.out.write(data)


def seal_file(package: Path, out: Path, recipient: envelope.X25519Recipient) -> tuple[int, str]:
    """Seal ``package`` to ``recipient`` with the real codec (streamed); returns size and SHA-256."""
    with package.open("rb") as src, out.open("wb") as dst:
        sink = _HashingWriter(dst)
        size = envelope.seal(src, sink, recipient)
    return size, sink.digest.hexdigest()


def sealing_pool(workers: int = 2) -> ProcessPoolExecutor:
    """Worker processes for sealing (spawned: safe next to a running event loop and its threads)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def seal_many(jobs: list[tuple[Path, Path, str]], pool: ProcessPoolExecutor) -> list[tuple[int, str]]:
    """Seal (package, out, recipient text) jobs in ``pool``; returns (size, SHA-256) per job."""
    return list(pool.map(_seal_job, jobs))


def _seal_job(job: tuple[Path, Path, str]) -> tuple[int, str]:
    package, out, recipient = job
    return seal_file(package, out, envelope.X25519Recipient.parse(recipient))


def manifest_for(scene: Scene, account: Account, bid: str, sha256: str, size: int) -> dict[str, Any]:
    return signing.manifest(
        tender=str(scene.tender_id),
        bidder=account.uscc,
        bid=bid,
        envelope_sha256=sha256,
        size=size,
        client={"tool": "tenderhall-bench"},
    )


# -- process measurements ------------------------------------------------------------------------------


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak_rss(pid: int | str = "self") -> bool:
    """Reset VmHWM to the current RSS (Linux: ``echo 5 > /proc/PID/clear_refs``)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def proc_cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


@contextmanager
def load_window() -> Iterator[list[str]]:
    """Load averages (1/5/15 min) at the start and end of a block."""
    seen = [loadavg()]
    try:
        yield seen
    finally:
        seen.append(loadavg())


def mib(n: float) -> str:
    return f"{n / MiB:,.0f} MiB"
