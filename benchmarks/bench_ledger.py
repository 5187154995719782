"""Ledger throughput and proof latency on SQLite and PostgreSQL, against their peers.

Timed: `Ledger.append` in the caller's transaction (head row lock, canonical JSON, leaf and node
hashes; the rows buffered and written at commit as one INSERT per table and one head update), one
per transaction and 100 per transaction; and `Ledger.inclusion_proof` at 1,000,000 entries (one
session checkout, one query for the nodes and the head's size, then assembly).  Peers measured in
the same run: plain INSERTs of exactly the rows the appends write (entries and nodes, computed
beforehand), batched the same way; the same node fetch as one plain statement on a pooled
connection; and `openssl speed` SHA-256 for the same hashes.  Each throughput pair runs in
alternating rounds and the best round counts, as the machine may be shared.

The 1M-entry log is bulk-loaded, bypassing the per-append ORM path: rows are computed with the
same `event_body`, `merkle.leaf_hash` and `Frontier.append` (hence the same node layout) as
`Ledger.append`, then inserted with executemany (SQLite) or COPY (PostgreSQL); a real append on
top and the proofs' verification against the recomputed root check the layout.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Table, bindparam, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tenderhall.clock import SystemClock
from tenderhall.db.engine import make_engine
from tenderhall.ledger import merkle
from tenderhall.ledger.models import LedgerEntry, LedgerNode
from tenderhall.ledger.note import Signer
from tenderhall.ledger.service import Ledger, event_body, node_key

ORIGIN = "bench.local/tenderhall/ledger"
PG_URL = os.environ.get(
    "TENDERHALL_BENCH_POSTGRES_URL",
    os.environ.get("TENDERHALL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
ENTRIES: Table = LedgerEntry.__table__  # type: ignore[assignment]  # declarative tables are Tables
NODES: Table = LedgerNode.__table__  # type: ignore[assignment]
AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
KIND = "bid.submitted"


def payload(i: int) -> tuple[str, dict[str, Any]]:
    """A typical event: a tender, a blinded bidder and a sealed-bid digest (bodies of ~340 bytes)."""
    tender = uuid.UUID(int=i % 977 + 1)
    data = {
        "tender": str(tender),
        "company": hashlib.sha256(b"c%d" % i).hexdigest(),
        "digest": hashlib.sha256(b"d%d" % i).hexdigest(),
        "size": 1_000_000 + i,
    }
    return f"tender:{tender}", data


@dataclass
class Backend:
    name: str
    url: str
    note: str = ""
    drop: str | None = None  # PostgreSQL database to drop afterwards
    results: dict[str, Any] = field(default_factory=dict)


def _pg_admin() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


def _pg_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    parts = urlsplit(_pg_admin())
    return urlunsplit((driver, parts.netloc, "/" + name, "", ""))


async def _pg_admin_exec(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _migrate(url: str, data_dir: Path) -> None:
    """The schema made by `tenderhall db upgrade` itself (triggers and head row included)."""
    env = {**os.environ, "TENDERHALL_DATABASE_URL": url, "TENDERHALL_DATA_DIR": str(data_dir)}
    exe = Path(sys.executable).with_name("tenderhall")
    subprocess.run([str(exe), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=300)


def _ledger() -> Ledger:
    return Ledger(Signer.generate(ORIGIN), ORIGIN, SystemClock(), bytes(32))


# -- appends -------------------------------------------------------------------------------------


async def _appends(
    ledger: Ledger, maker: async_sessionmaker[AsyncSession], n: int, per_tx: int, budget: float = 1e9
) -> float:
    """Appends per second over up to `n` appends, stopping early after `budget` seconds."""
    started = time.perf_counter()
    done = 0
    while done < n and time.perf_counter() - started < budget:
        async with maker() as session, session.begin():
            for i in range(done, done + per_tx):
                subject, data = payload(i)
                await ledger.append(session, KIND, data, subject=subject)
        done += per_tx
    return done / (time.perf_counter() - started)


RAW_DDL = (
    "CREATE TABLE bench_entries (id BIGINT PRIMARY KEY, kind VARCHAR(64), subject VARCHAR(80), "
    "body {blob} NOT NULL, leaf_hash {blob} NOT NULL)",
    "CREATE INDEX ix_bench_entries_kind ON bench_entries (kind)",
    "CREATE INDEX ix_bench_entries_subject ON bench_entries (subject)",
    "CREATE TABLE bench_nodes (id BIGINT PRIMARY KEY, hash {blob} NOT NULL)",
)
INSERT_ENTRY = text(
    "INSERT INTO bench_entries (id, kind, subject, body, leaf_hash) "
    "VALUES (:id, :kind, :subject, :body, :leaf_hash)"
)
INSERT_NODE = text("INSERT INTO bench_nodes (id, hash) VALUES (:id, :hash)")

Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _peer_rows(n: int, per_tx: int) -> list[Rows]:
    """Per transaction, the entries and nodes `n` appends write (the same bodies, hashes, keys)."""
    frontier = merkle.Frontier()
    batches = []
    for start in range(0, n, per_tx):
        entries, nodes = _bulk_rows(start, min(per_tx, n - start), frontier)
        batches.append(
            (
                [dict(zip(("id", "kind", "subject", "body", "leaf_hash"), e, strict=True)) for e in entries],
                [{"id": k, "hash": h} for k, h in nodes],
            )
        )
    return batches


async def _raw_inserts(engine: AsyncEngine, batches: list[Rows], budget: float) -> float:
    """The appends' own rows as plain INSERTs: no JSON, hashing, head lock or head update."""
    blob = "BLOB" if engine.dialect.name == "sqlite" else "BYTEA"
    async with engine.begin() as conn:
        for ddl in RAW_DDL:
            await conn.execute(text(ddl.format(blob=blob)))
    started = time.perf_counter()
    done = 0
    try:
        for entries, nodes in batches:
            if time.perf_counter() - started > budget:
                break
            async with engine.begin() as conn:
                await conn.execute(INSERT_ENTRY, entries)
                await conn.execute(INSERT_NODE, nodes)
            done += len(entries)
        return done / (time.perf_counter() - started)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE bench_entries"))
            await conn.execute(text("DROP TABLE bench_nodes"))


# -- the 1M-entry log ------------------------------------------------------------------------------


def _bulk_rows(
    start: int, count: int, frontier: merkle.Frontier
) -> tuple[list[tuple[Any, ...]], list[tuple[int, bytes]]]:
    """Entries and nodes exactly as `Ledger.append` would store them for leaves [start, start+count)."""
    entries: list[tuple[Any, ...]] = []
    nodes: list[tuple[int, bytes]] = []
    for index in range(start, start + count):
        subject, data = payload(index)
        body = event_body(index, KIND, AT, None, subject, data)
        leaf = merkle.leaf_hash(body)
        entries.append((index, KIND, subject, body, leaf))
        nodes.extend((node_key(ref), h) for ref, h in frontier.append(leaf))
    return entries, nodes


async def _bulk_load(backends: list[Backend], size: int, chunk: int) -> tuple[bytes, float, float]:
    """Loads the same `size` entries into every backend; returns the root, compute and insert seconds."""
    import asyncpg

    frontier = merkle.Frontier()
    compute = load = 0.0
    engines = {b.name: make_engine(b.url) for b in backends if b.name == "SQLite"}
    pg = [b for b in backends if b.name == "PostgreSQL"]
    pg_conn = await asyncpg.connect(_pg_url(pg[0].drop or "", "postgresql")) if pg else None
    try:
        for start in range(0, size, chunk):
            began = time.perf_counter()
            entries, nodes = _bulk_rows(start, min(chunk, size - start), frontier)
            compute += time.perf_counter() - began
            began = time.perf_counter()
            for engine in engines.values():
                async with engine.begin() as conn:
                    await conn.execute(
                        insert(ENTRIES),
                        [
                            dict(zip(("id", "kind", "subject", "body", "leaf_hash"), e, strict=True))
                            for e in entries
                        ],
                    )
                    await conn.execute(insert(NODES), [{"id": k, "hash": h} for k, h in nodes])
            if pg_conn is not None:
                async with pg_conn.transaction():
                    await pg_conn.copy_records_to_table(
                        "ledger_entries",
                        records=entries,
                        columns=["id", "kind", "subject", "body", "leaf_hash"],
                    )
                    await pg_conn.copy_records_to_table("ledger_nodes", records=nodes, columns=["id", "hash"])
            load += time.perf_counter() - began
        head = {"s": frontier.size, "f": frontier.to_bytes()}
        for engine in engines.values():
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE ledger_head SET size = :s, frontier = :f WHERE id = 1"), head)
        if pg_conn is not None:
            await pg_conn.execute(
                "UPDATE ledger_head SET size = $1, frontier = $2 WHERE id = 1", head["s"], head["f"]
            )
            await pg_conn.execute("ANALYZE ledger_entries; ANALYZE ledger_nodes")
    finally:
        for engine in engines.values():
            await engine.dispose()
        if pg_conn is not None:
            await pg_conn.close()
    return frontier.root(), compute, load


async def _proofs(backend: Backend, size: int, root: bytes, count: int) -> None:
    engine = make_engine(backend.url)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    ledger = _ledger()
    rnd = random.Random(9162)
    try:
        async with maker() as session:
            assert await ledger.root_at(session, size) == root, "bulk-loaded nodes disagree with the root"
        # Peer: the same nodes fetched by one plain statement on a pooled connection (no session,
        # no size check, no assembly), its IN list bound like the ledger's.  Each proof and its
        # peer run back to back, so a busy moment on a shared machine hits both alike.
        fetch = text("SELECT id, hash FROM ledger_nodes WHERE id IN :keys").bindparams(
            bindparam("keys", expanding=True)
        )
        times: list[float] = []
        raw: list[float] = []
        checks: list[tuple[int, list[bytes]]] = []
        for _ in range(count + 50):  # the first 50 warm the pool and caches; not counted
            index = rnd.randrange(size)
            began = time.perf_counter()
            async with maker() as session:
                proof = await ledger.inclusion_proof(session, index, size)
            times.append(time.perf_counter() - began)
            checks.append((index, proof))
            keys = [node_key(r) for r in merkle.inclusion_plan(index, size)]
            began = time.perf_counter()
            async with engine.connect() as conn:
                (await conn.execute(fetch, {"keys": keys})).all()
            raw.append(time.perf_counter() - began)
        times = sorted(times[50:])
        raw = sorted(raw[50:])
        backend.results["raw_fetch_median_ms"] = statistics.median(raw) * 1e3
        backend.results["raw_fetch_p99_ms"] = raw[int(len(raw) * 0.99) - 1] * 1e3
        for index, proof in checks:  # every proof must verify, or the timing means nothing
            subject, data = payload(index)
            leaf = merkle.leaf_hash(event_body(index, KIND, AT, None, subject, data))
            assert merkle.verify_inclusion(leaf, index, size, proof, root), f"proof for {index} fails"
        backend.results["proof_median_ms"] = statistics.median(times) * 1e3
        backend.results["proof_p99_ms"] = times[int(len(times) * 0.99) - 1] * 1e3
        backend.results["proof_count"] = len(times)
        backend.results["proof_len"] = len(checks[-1][1])
        # Appending on top of the bulk-loaded log: the real path must find the same layout.
        appended = await _appends(ledger, maker, 200, 1)
        async with maker() as session:
            now, _ = await ledger.tree_head(session)
            assert now == size + 200, now
            proof = await ledger.consistency_proof(session, size, now)
            assert merkle.verify_consistency(size, now, proof, root, await ledger.root_at(session, now))
        backend.results["append_at_size"] = appended
    finally:
        await engine.dispose()


# -- floors ---------------------------------------------------------------------------------------


def _openssl_rate(nbytes: int) -> float | None:
    """SHA-256 operations per second on `nbytes` inputs, from `openssl speed` (1 second)."""
    try:
        out = subprocess.run(
            ["openssl", "speed", "-evp", "sha256", "-bytes", str(nbytes), "-seconds", "1"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if line.lower().startswith("sha256"):
            return float(line.split()[-1].rstrip("k")) * 1000 / nbytes
    return None


def _sha256sum_rate(leaves: int, nbytes: int) -> float:
    """Bytes through `sha256sum` as one stream: an upper bound, as it hashes one long message."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(os.urandom(1 << 20) * max(1, leaves * nbytes >> 20))
        f.flush()
        total = f.tell()
        began = time.perf_counter()
        subprocess.run(["sha256sum", f.name], capture_output=True, check=True)
        return total / nbytes / (time.perf_counter() - began)


# -- the report -----------------------------------------------------------------------------------


def _setup(tmp: Path) -> list[Backend]:
    backends = [Backend("SQLite", f"sqlite+aiosqlite:///{tmp / 'bench.db'}")]
    name = f"th_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_admin_exec(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means "skip PostgreSQL"
        backends.append(Backend("PostgreSQL", "", note=f"skipped: {_pg_admin()} unreachable ({exc})"))
    else:
        backends.append(Backend("PostgreSQL", _pg_url(name), drop=name))
    for b in backends:
        if b.url:
            _migrate(b.url, tmp)
    return backends


ROUNDS = 3


async def _throughput(backend: Backend, single: int, batched: int, budget: float) -> None:
    """Appends and their peer INSERTs in alternating rounds; the best round of each counts."""
    engine = make_engine(backend.url)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    ledger = _ledger()
    peers = {1: _peer_rows(single, 1), 100: _peer_rows(batched, 100)}
    try:
        await _appends(ledger, maker, 50, 1)  # warm up connections and statement caches
        for _ in range(ROUNDS):
            for per_tx, key, n in ((1, "single", single), (100, "batched", batched)):
                rate = await _appends(ledger, maker, n, per_tx, budget)
                backend.results[key] = max(rate, backend.results.get(key, 0.0))
                rate = await _raw_inserts(engine, peers[per_tx], budget)
                backend.results[f"raw_{key}"] = max(rate, backend.results.get(f"raw_{key}", 0.0))
    finally:
        await engine.dispose()


async def _reset(backend: Backend) -> None:
    """Back to an empty ledger before the bulk load (the append runs left entries behind)."""
    engine = make_engine(backend.url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                for table in ("ledger_entries", "ledger_nodes"):
                    await conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
                    await conn.execute(text(f"DELETE FROM {table}"))
                    await conn.execute(
                        text(
                            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                        )
                    )
            else:
                # This scratch database is the benchmark's own: lift the append-only triggers
                # (TRUNCATE is refused too) for the reset, then put them back.
                await conn.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER USER"))
                await conn.execute(text("ALTER TABLE ledger_nodes DISABLE TRIGGER USER"))
                await conn.execute(text("TRUNCATE ledger_entries, ledger_nodes"))
                await conn.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER USER"))
                await conn.execute(text("ALTER TABLE ledger_nodes ENABLE TRIGGER USER"))
            await conn.execute(text("UPDATE ledger_head SET size = 0, frontier = :f"), {"f": bytes(8)})
    finally:
        await engine.dispose()


def run(quick: bool) -> str:
    # Each throughput measure stops at its count or its time budget, whichever comes first.
    single, batched, budget = (300, 2_000, 3.0) if quick else (1_500, 10_000, 10.0)
    size, chunk, proofs = (20_000, 10_000, 1_000) if quick else (1_000_000, 50_000, 2_000)
    tmp = Path(tempfile.mkdtemp(prefix="th_bench_"))
    backends = _setup(tmp)
    live = [b for b in backends if b.url]
    try:
        for b in live:
            asyncio.run(_throughput(b, single, batched, budget))
            asyncio.run(_reset(b))
        root, compute_s, load_s = asyncio.run(_bulk_load(live, size, chunk))
        for b in live:
            asyncio.run(_proofs(b, size, root, proofs))
        body_len = len(event_body(size - 1, KIND, AT, None, *payload(size - 1)))
        leaf_rate = _openssl_rate(body_len + 1)
        node_rate = _openssl_rate(65)
        stream_rate = _sha256sum_rate(size, body_len + 1)
        load = os.getloadavg()[2]
    finally:
        for b in backends:
            if b.drop:
                asyncio.run(_pg_admin_exec(f'DROP DATABASE IF EXISTS "{b.drop}" WITH (FORCE)'))
        shutil.rmtree(tmp, ignore_errors=True)
    return _report(
        backends,
        single,
        batched,
        budget,
        size,
        body_len,
        compute_s,
        load_s,
        leaf_rate,
        node_rate,
        stream_rate,
        load,
    )


def _report(
    backends: list[Backend],
    single: int,
    batched: int,
    budget: float,
    size: int,
    body_len: int,
    compute_s: float,
    load_s: float,
    leaf_rate: float | None,
    node_rate: float | None,
    stream_rate: float,
    load: float,
) -> str:
    # Each append hashes one leaf (1 + body bytes) and, on average, completes one interior node
    # (65 bytes): n leaves make n - 1 interior nodes.
    lines = [
        "## Ledger (`tenderhall.ledger`)",
        "",
        "`Ledger.append` in the caller's transaction (the head row locked and read once per "
        f"transaction, RFC 8785 body of {body_len} bytes, leaf and node hashes; the rows buffered and "
        "written at commit as one INSERT per table and one head update), one per transaction (up to "
        f"{single:,}) and 100 per transaction (up to {batched:,}), each stopped after {budget:.0f} s if "
        f"not done, best of {ROUNDS} alternating rounds. Peer: plain INSERTs of exactly the rows the "
        "appends write (entries and about two nodes each, computed beforehand) into tables of the same "
        "shape, batched the same way, with no JSON, hashing, lock or head update. Inclusion proofs: "
        f"random leaves of a {size:,}-entry log, each timed from session checkout through the one "
        "query (nodes and the head's size) to the assembled proof, every proof verified afterwards; "
        "peer: the same nodes fetched by one plain statement on a pooled connection. Aims (issue 14): "
        "appends >= 0.5x the peer batched and >= 0.8x one per transaction, >= 2,000 appends/s "
        "batched, proofs <= 2x the raw node fetch.",
        "",
        "| measure | " + " | ".join(b.name for b in backends) + " |",
        "|---|" + "---:|" * len(backends),
    ]

    def row(label: str, key: str, fmt: str) -> None:
        cells = [fmt.format(b.results[key]) if key in b.results else "—" for b in backends]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    def ratio(label: str, num: str, den: str, met: Callable[[float], bool]) -> None:
        cells = []
        for b in backends:
            if num in b.results and den in b.results:
                value = b.results[num] / b.results[den]
                cells.append(f"{value:.2f} ({'met' if met(value) else 'NOT met'})")
            else:
                cells.append("—")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("appends/s, 1 per transaction", "single", "{:,.0f}")
    row("plain INSERTs of the same rows, entries/s, 1 per transaction", "raw_single", "{:,.0f}")
    ratio("append / plain INSERT, 1 per transaction (aim >= 0.8)", "single", "raw_single", lambda r: r >= 0.8)
    lines.append(
        "| appends/s, 100 per transaction (aim >= 2,000) | "
        + " | ".join(
            f"{r:,.0f} ({'met' if r >= 2000 else 'NOT met'})" if (r := b.results.get("batched")) else "—"
            for b in backends
        )
        + " |"
    )
    row("plain INSERTs of the same rows, entries/s, 100 per transaction", "raw_batched", "{:,.0f}")
    ratio(
        "append / plain INSERT, 100 per transaction (aim >= 0.5)",
        "batched",
        "raw_batched",
        lambda r: r >= 0.5,
    )
    row(f"appends/s at {size:,} entries, 1 per transaction", "append_at_size", "{:,.0f}")
    row(f"inclusion proof at {size:,} entries, median (ms)", "proof_median_ms", "{:.2f}")
    row(f"inclusion proof at {size:,} entries, p99 (ms)", "proof_p99_ms", "{:.2f}")
    row("raw fetch of the same nodes, median (ms)", "raw_fetch_median_ms", "{:.2f}")
    row("raw fetch of the same nodes, p99 (ms)", "raw_fetch_p99_ms", "{:.2f}")
    ratio(
        "proof / raw fetch, median (aim <= 2)",
        "proof_median_ms",
        "raw_fetch_median_ms",
        lambda r: r <= 2,
    )
    row("proofs timed", "proof_count", "{:,}")
    row("hashes in the last proof", "proof_len", "{}")
    lines.append("")
    if leaf_rate and node_rate:
        hash_floor = 1 / (1 / leaf_rate + 1 / node_rate)
        lines.append(
            f"Hashing floor (`openssl speed -evp sha256`): {leaf_rate:,.0f} leaf hashes/s of "
            f"{body_len + 1} bytes, {node_rate:,.0f} node hashes/s of 65 bytes, so at most "
            f"{hash_floor:,.0f} appends/s from hashing alone; {size:,} leaf hashes take "
            f"{size / leaf_rate * 1e3:,.0f} ms. `sha256sum` over the same bytes as one stream: "
            f"{stream_rate:,.0f} leaf-sized blocks/s."
        )
        best = max((b.results.get("batched", 0) for b in backends), default=0)
        if best:
            lines.append(
                f"The hashing floor is {hash_floor / best:,.0f}x the best append rate measured: the cost "
                f"is the canonical JSON, the database writes and the commit, not SHA-256."
            )
    else:
        lines.append("`openssl speed` was not available: no hashing floor this run.")
    lines.append(
        f"Bulk load of the {size:,}-entry log (bypassing `Ledger.append`, same bodies and node layout): "
        f"{compute_s:.0f} s computing rows (`event_body`, leaf hashes, `Frontier.append`), {load_s:.0f} s "
        f"inserting them into {' and '.join(b.name for b in backends if b.url)} (executemany / COPY)."
    )
    for b in backends:
        if b.note:
            lines.append(f"{b.name}: {b.note}.")
    lines.append(
        f"Load average over the last 15 minutes of the run: {load:.1f} on {os.cpu_count()} cores "
        "(above the core count, other work shared the machine: rates are lower and noisier than on "
        "an idle one, ratios measured in alternating rounds less so)."
    )
    lines.append(
        "SQLite runs in WAL mode with `synchronous=NORMAL` (commits are not fsynced one by one); "
        "PostgreSQL with its defaults (`synchronous_commit=on`, an fsync per commit)."
    )
    return "\n".join(lines) + "\n"
