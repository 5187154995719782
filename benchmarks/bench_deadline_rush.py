"""Deadline rush: many bidders upload sealed envelopes to one real server just before the deadline.

A real ``tenderhall serve`` (uvicorn, one worker) on 127.0.0.1 with its own data directory and
database (SQLite; PostgreSQL too when it answers at 127.0.0.1:5432, in a database made and dropped
here).  The tender, the companies, their bidder accounts, API tokens and keys are set up through the
services before the server starts; every company has its own X25519 + Ed25519 key pair.
Envelopes are sealed once with the real codec into a temporary folder, so no client CPU is spent
sealing during the rush; manifests are signed beforehand too.

Timed: all clients released at once, each driving the resumable upload protocol exactly as the
CLI client does (``POST /tenders/{id}/uploads`` with the signed manifest and idempotency key,
``PATCH`` of 8 MiB pieces at ``Upload-Offset``, ``POST .../complete`` with a device fingerprint),
the piece bodies sent with ``sendfile`` from the envelope files.  The server's clock is offset so
the deadline passes a fixed time after the rush starts; its own sweeper then takes the deadline
checkpoint.  Checked afterwards: every receipt verifies offline (platform signature over the
body, entry commits to it, inclusion proof against the signed checkpoint, with the ledger key
fetched as ``tenderhall bid login`` does), the bid count, the deadline checkpoint's hash set, the
stored blobs, and that no partial upload is left.

Floors measured in the same run: ``sha256sum`` over the same envelope files (warm page cache),
and writing the same number of bytes to a new file on the data directory's file system with one
fsync (the server must persist every envelope).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks import _bidding_setup as setup
from benchmarks._servers import free_port, stop_server
from bidding.client.api import CHUNK, TOOL, idempotency_key
from bidding.models import Bid, BidState, DeadlineCheckpoint
from bidding.receipt import ReceiptError, verify_receipt
from bidding.signing import sign
from tenderhall.ledger import merkle
from tenderhall.ledger.checkpoint import open_checkpoint
from tenderhall.ledger.note import Verifier

RETRIES = 3  # per request: bounded, as a real client would
HTTP_TIMEOUT = 300.0  # seconds for any one request


@dataclass
class Envelope:
    path: Path
    size: int
    sha256: str


@dataclass
class Outcome:
    receipt: dict[str, Any] | None = None
    error: str | None = None
    retries: int = 0
    finished: float = 0.0  # perf_counter at the completion response


@dataclass
class Result:
    backend: str
    note: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# -- a minimal HTTP/1.1 client over asyncio streams (bodies by sendfile) ----------------------------


class HttpError(Exception):
    pass


async def _http(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    file: tuple[Path, int, int] | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request on its own connection; returns the status and the JSON body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        length = file[2] if file else len(body)
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {length}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        if file:
            # If the server answers early (an error) the send fails: read its answer below.
            with file[0].open("rb") as handle, contextlib.suppress(ConnectionError, OSError):
                await asyncio.get_running_loop().sendfile(writer.transport, handle, file[1], file[2])
        status_line = await reader.readline()
        parts = status_line.split()
        if len(parts) < 2:
            raise HttpError(f"no HTTP status from the server ({status_line!r})")
        status = int(parts[1])
        size = -1
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                size = int(value)
        data = await (reader.readexactly(size) if size >= 0 else reader.read())
        return status, json.loads(data) if data else {}
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


async def _call(
    port: int, method: str, path: str, headers: dict[str, str], outcome: Outcome, **kw: Any
) -> tuple[int, dict[str, Any]]:
    """Retry transport failures and 5xx a bounded number of times."""
    for attempt in range(RETRIES + 1):
        try:
            status, data = await asyncio.wait_for(_http(port, method, path, headers, **kw), HTTP_TIMEOUT)
        except (OSError, HttpError, asyncio.IncompleteReadError, TimeoutError) as exc:
            if attempt == RETRIES:
                raise HttpError(f"{method} {path}: {type(exc).__name__} {exc}") from None
        else:
            if status < 500 or attempt == RETRIES:
                return status, data
        outcome.retries += 1
        await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


async def _bidder(
    port: int,
    tender: str,
    account: setup.Account,
    env: Envelope,
    manifest: dict[str, Any],
    signature: str,
    go: asyncio.Event,
) -> Outcome:
    """One bidder, driving the protocol of ``bidding.client.api.submit``."""
    out = Outcome()
    auth = {"Authorization": f"Bearer {account.token}", "User-Agent": TOOL}
    json_headers = {**auth, "Content-Type": "application/json"}
    body = json.dumps(
        {
            "manifest": manifest,
            "signature": signature,
            "idempotency_key": idempotency_key(tender, manifest["bid"], env.sha256),
        }
    ).encode()
    await go.wait()
    try:
        status, up = await _call(
            port, "POST", f"/api/v1/tenders/{tender}/uploads", json_headers, out, body=body
        )
        if status != 201:
            raise HttpError(f"start: {status} {up.get('code')} {up.get('detail')}")
        offset = int(up["offset"])
        for _ in range(env.size // CHUNK + 2 * RETRIES + 2):  # bounded: the pieces plus resumes
            if offset >= env.size:
                break
            piece = min(CHUNK, env.size - offset)
            headers = {**auth, "Upload-Offset": str(offset), "Content-Type": "application/octet-stream"}
            status, data = await _call(
                port, "PATCH", f"/api/v1/uploads/{up['id']}", headers, out, file=(env.path, offset, piece)
            )
            if status == 200:
                offset = int(data["offset"])
            elif status == 409 and data.get("code") in ("bid.upload_offset", "bid.upload_busy"):
                out.retries += 1
                status, data = await _call(port, "GET", f"/api/v1/uploads/{up['id']}", auth, out)
                offset = int(data["offset"])
            else:
                raise HttpError(f"patch: {status} {data.get('code')} {data.get('detail')}")
        if offset != env.size:
            raise HttpError(f"upload stuck at {offset} of {env.size}")
        status, done = await _call(
            port,
            "POST",
            f"/api/v1/uploads/{up['id']}/complete",
            {**auth, "X-Device-Fingerprint": f"bench-device-{account.username}"},
            out,
        )
        if status != 201:
            raise HttpError(f"complete: {status} {done.get('code')} {done.get('detail')}")
        out.receipt = done["receipt"]
    except HttpError as exc:
        out.error = str(exc)
    out.finished = time.perf_counter()
    return out


async def _rush(
    port: int, scene: setup.Scene, envelopes: list[Envelope], signed: list[tuple[dict[str, Any], str]]
) -> tuple[list[Outcome], float, float]:
    go = asyncio.Event()
    tasks = [
        asyncio.create_task(_bidder(port, str(scene.tender_id), a, e, m, s, go))
        for a, e, (m, s) in zip(scene.bidders, envelopes, signed, strict=True)
    ]
    await asyncio.sleep(0.2)  # every task is parked on the event
    started = time.perf_counter()
    go.set()
    outcomes = await asyncio.gather(*tasks)
    return outcomes, started, time.perf_counter()


# -- the server ------------------------------------------------------------------------------------


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tenderhall", "serve", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError("server did not become healthy in 120 s")


def _get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return bytes(r.read())


# -- floors ------------------------------------------------------------------------------------------


def _sha256sum(envelopes: list[Envelope]) -> tuple[float, bool]:
    """Seconds for ``sha256sum`` over the envelope files (one process), and whether it agrees."""
    paths = [str(e.path) for e in envelopes]
    subprocess.run(["cat", *paths], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    began = time.perf_counter()
    out = subprocess.run(["sha256sum", *paths], capture_output=True, text=True, check=True).stdout
    seconds = time.perf_counter() - began
    got = [line.split()[0] for line in out.splitlines()]
    return seconds, got == [e.sha256 for e in envelopes]


def _write_fsync(source: Path, directory: Path, total: int) -> float:
    """Seconds to write ``total`` bytes (copies of one envelope) to a new file, then one fsync."""
    data = source.read_bytes()
    target = directory / "floor.bin"
    began = time.perf_counter()
    with target.open("wb") as out:
        left = total
        while left:
            n = min(left, len(data))
            out.write(data[:n])
            left -= n
        out.flush()
        os.fsync(out.fileno())
    seconds = time.perf_counter() - began
    target.unlink()
    return seconds


# -- one backend -----------------------------------------------------------------------------------


async def _scene(settings: Any, keys: list[Any], deadline: datetime) -> setup.Scene:
    services = setup.services_for(settings)
    try:
        return await setup.make_scene(services, keys, deadline)
    finally:
        await services.engine.dispose()


async def _after(settings: Any, scene: setup.Scene, wait_until: float) -> dict[str, Any]:
    """Wait (bounded) for the server's sweeper to take the deadline checkpoint; read the outcome."""
    services = setup.services_for(settings)
    try:
        checkpoint = None
        while checkpoint is None and time.monotonic() < wait_until:
            async with services.sessionmaker() as db:
                checkpoint = await db.scalar(
                    select(DeadlineCheckpoint).where(DeadlineCheckpoint.tender_id == scene.tender_id)
                )
            if checkpoint is None:
                await asyncio.sleep(1.0)
        async with services.sessionmaker() as db:
            counts = dict(
                (
                    await db.execute(
                        select(Bid.state, func.count())
                        .where(Bid.tender_id == scene.tender_id)
                        .group_by(Bid.state)
                    )
                )
                .tuples()
                .all()
            )
            keys = list(
                (await db.execute(select(Bid.storage_key).where(Bid.tender_id == scene.tender_id))).scalars()
            )
        return {
            "checkpoint": checkpoint,
            "counts": counts,
            "stored": [services.storage.exists(k) for k in keys],
            "verifier": services.ledger.verifier,
        }
    finally:
        await services.engine.dispose()


def _one_backend(
    db: setup.Database,
    root: Path,
    keys: list[Any],
    envelopes: list[Envelope],
    lead: timedelta,
) -> Result:
    result = Result(db.name)
    data_dir = root / db.name.lower()
    settings = setup.settings_for(db.url, data_dir)
    setup.migrate(settings)
    # Published with the legal minimum period (20 days) plus a margin, on the real clock; the
    # server then runs with its clock offset so that the deadline is `lead` after the rush starts.
    deadline = datetime.now(UTC) + timedelta(days=21)
    scene = asyncio.run(_scene(settings, keys, deadline))
    signed = []
    for i, (account, env) in enumerate(zip(scene.bidders, envelopes, strict=True)):
        manifest = setup.manifest_for(scene, account, f"rush-{i:03d}", env.sha256, env.size)
        signed.append((manifest, sign(account.keys.signing, manifest)))
    port = free_port()
    boot = timedelta(seconds=10)  # server start-up, before the rush
    offset = deadline - datetime.now(UTC) - lead - boot
    proc = _start_server(setup.server_env(settings, offset), port, data_dir / "server.log")
    try:
        vkey = _get(port, "/api/v1/ledger/key").decode().strip()
        rss_idle = setup.proc_status(proc.pid)["VmRSS"]
        cpu_before = setup.proc_cpu_seconds(proc.pid)
        with setup.load_window() as load:
            outcomes, started, ended = asyncio.run(_rush(port, scene, envelopes, signed))
        ended_at = datetime.now(UTC)
        cpu_after = setup.proc_cpu_seconds(proc.pid)
        cpu = (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])
        peak = setup.proc_status(proc.pid)["VmHWM"]
        real_deadline = deadline - offset  # the deadline on this machine's (unshifted) clock
        before_deadline = (real_deadline - ended_at).total_seconds()
        # Bounded wait for the deadline to pass and the sweeper (every 5 s) to take the checkpoint.
        wait_until = time.monotonic() + max(0.0, (real_deadline - datetime.now(UTC)).total_seconds()) + 30
        after = asyncio.run(_after(settings, scene, wait_until))
        partials = list((data_dir / "storage" / ".partial").glob("*.part"))
    finally:
        stop_server(proc)
    total = sum(e.size for e in envelopes)
    wall = ended - started
    verifier = Verifier.from_key_string(vkey)
    valid = 0
    for outcome, env, (manifest, _) in zip(outcomes, envelopes, signed, strict=True):
        if outcome.receipt is None:
            result.problems.append(f"{manifest['bid']}: {outcome.error}")
            continue
        try:
            body = verify_receipt(outcome.receipt, verifier, verifier.name)
        except ReceiptError as exc:
            result.problems.append(f"{manifest['bid']}: receipt does not verify ({exc})")
            continue
        if (body["bid"], body["envelope_sha256"], body["size"]) != (manifest["bid"], env.sha256, env.size):
            result.problems.append(f"{manifest['bid']}: receipt is for another envelope")
            continue
        valid += 1
    if vkey != after["verifier"].key_string():
        result.problems.append("the ledger key served is not the platform's")
    checkpoint = after["checkpoint"]
    expected = sorted(e.sha256 for e in envelopes)
    checkpoint_ok = False
    if checkpoint is None:
        result.problems.append("no deadline checkpoint was taken")
    else:
        root_hex = merkle.root_of(merkle.leaf_hash(bytes.fromhex(h)) for h in expected).hex()
        note = open_checkpoint(checkpoint.checkpoint_note, verifier, verifier.name)
        checkpoint_ok = checkpoint.envelope_hashes == expected and checkpoint.set_root == root_hex
        if not checkpoint_ok:
            result.problems.append("the deadline checkpoint does not hold exactly the accepted hashes")
        if note.size <= checkpoint.ledger_index:
            result.problems.append("the signed checkpoint does not cover the deadline entry")
    submitted = after["counts"].get(BidState.SUBMITTED.value, 0)
    if submitted != len(envelopes):
        result.problems.append(f"{submitted} submitted bids in the database, expected {len(envelopes)}")
    if not all(after["stored"]) or len(after["stored"]) != len(envelopes):
        result.problems.append("a stored envelope is missing")
    if partials:
        result.problems.append(f"{len(partials)} partial upload files left behind")
    sha_seconds, sha_ok = _sha256sum(envelopes)
    if not sha_ok:
        result.problems.append("sha256sum disagrees with the sealing-time hashes")
    latencies = sorted(o.finished - started for o in outcomes)
    result.figures = {
        "clients": len(envelopes),
        "envelope": envelopes[0].size,
        "total": total,
        "wall": wall,
        "ingest": total / wall,
        "sha256sum": total / sha_seconds,
        "server_cpu": cpu,
        "rss_idle": rss_idle,
        "rss_peak": peak,
        "valid": valid,
        "submitted": submitted,
        "checkpoint_ok": checkpoint_ok,
        "retries": sum(o.retries for o in outcomes),
        "p50": statistics.median(latencies),
        "max": latencies[-1],
        "before_deadline": before_deadline,
        "load": load,
    }
    return result


# -- the report --------------------------------------------------------------------------------------


def run(quick: bool) -> str:
    clients, size = (10, 2 * setup.MiB) if quick else (200, 20 * setup.MiB)
    # The deadline passes this long after the rush starts (then the sweeper's checkpoint, <= 5 s).
    lead = timedelta(seconds=30 if quick else 120)
    root = Path(tempfile.mkdtemp(prefix="th_rush_"))
    databases = [setup.Database("SQLite", f"sqlite+aiosqlite:///{root / 'sqlite' / 'tenderhall.db'}")]
    pg, pg_note = setup.postgres_database()
    if pg is not None:
        databases.append(pg)
    results: list[Result] = []
    try:
        (root / "sqlite").mkdir()
        began = time.perf_counter()
        keys = setup.new_keys(clients)
        package = root / "package.zip"
        setup.make_package(package, size)
        env_dir = root / "envelopes"
        env_dir.mkdir()
        jobs = [(package, env_dir / f"{i:03d}.age", k.recipient) for i, k in enumerate(keys)]
        with setup.sealing_pool() as pool:
            sealed = setup.seal_many(jobs, pool)
        envelopes = [Envelope(out, n, sha) for (_, out, _), (n, sha) in zip(jobs, sealed, strict=True)]
        seal_seconds = time.perf_counter() - began
        for db in databases:
            try:
                results.append(_one_backend(db, root, keys, envelopes, lead))
            finally:
                setup.drop_database(db)
        floor_bytes = min(sum(e.size for e in envelopes), 1 << 30)
        fsync_rate = floor_bytes / _write_fsync(envelopes[0].path, root, floor_bytes)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if pg is None:
        results.append(Result("PostgreSQL", note=f"skipped: {pg_note}"))
    return _report(results, clients, size, lead, seal_seconds, floor_bytes, fsync_rate)


def _report(
    results: list[Result],
    clients: int,
    size: int,
    lead: timedelta,
    seal_seconds: float,
    floor_bytes: int,
    fsync_rate: float,
) -> str:
    ran = [r for r in results if r.figures]
    lines = [
        "## Deadline rush (`bidding` submission, real server)",
        "",
        f"{clients} concurrent clients, each uploading its own {setup.mib(size)} envelope (sealed with "
        f"the real codec to its company's own X25519 key; {clients} companies, accounts, tokens and "
        f"key pairs) to one `tenderhall serve` (uvicorn, 1 worker) on 127.0.0.1, for one tender "
        f"whose deadline passes {lead.total_seconds():.0f} s after the clients are released. Each "
        f"client follows `bidding.client.api.submit`: start with the signed manifest and idempotency "
        f"key, PATCH pieces of {setup.mib(CHUNK)} at `Upload-Offset` (bodies by `sendfile`), "
        f"complete. The server streams each piece to its partial file, then on completion checks the "
        f"envelope's structure, hashes it and links it into storage (fsync), and decides the deadline "
        f"under the tender's lock (ledger entry, checkpoint, inclusion proof, signed receipt). "
        f"Sealing the envelopes beforehand took {seal_seconds:.0f} s (not timed).",
        "",
        "| measure | " + " | ".join(r.backend for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]

    def row(label: str, fn: Any) -> None:
        cells = [fn(r.figures) if r.figures else "—" for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("receipts valid (signature + inclusion proof)", lambda f: f"{f['valid']} / {f['clients']}")
    row("submitted bids in the database", lambda f: f"{f['submitted']}")
    row("deadline checkpoint = exactly those hashes", lambda f: "yes" if f["checkpoint_ok"] else "**no**")
    row("bytes uploaded", lambda f: setup.mib(f["total"]))
    row("wall time, release to last receipt (s)", lambda f: f"{f['wall']:.1f}")
    row("median / slowest client (s)", lambda f: f"{f['p50']:.1f} / {f['max']:.1f}")
    row("server ingest (MB/s)", lambda f: f"{f['ingest'] / 1e6:,.0f}")
    row("`sha256sum` on the same bytes (MB/s)", lambda f: f"{f['sha256sum'] / 1e6:,.0f}")
    row("**ingest / sha256sum**", lambda f: f"**{f['ingest'] / f['sha256sum']:.2f}**")
    row(
        f"ingest / write+fsync floor ({fsync_rate / 1e6:,.0f} MB/s)",
        lambda f: f"{f['ingest'] / fsync_rate:.2f}",
    )
    row("server CPU during the rush, user + sys (s)", lambda f: "{:.1f} + {:.1f}".format(*f["server_cpu"]))
    row(
        "server RSS idle → peak (VmHWM)", lambda f: f"{setup.mib(f['rss_idle'])} → {setup.mib(f['rss_peak'])}"
    )
    row("requests retried by clients", lambda f: f"{f['retries']}")
    row("last receipt before the deadline (s)", lambda f: f"{f['before_deadline']:.0f}")
    row("load average 1/5/15 min, start → end", lambda f: f"{f['load'][0]} → {f['load'][1]}")
    lines.append("")
    lines.append(
        f"Floors measured in this run: `sha256sum` over the envelope files (one process, warm page "
        f"cache, hashes checked against the sealing-time ones); write+fsync = {setup.mib(floor_bytes)} "
        f"written to a new file on the same file system with one fsync at the end. The server writes "
        f"each envelope once (its partial file, hard-linked as the content-addressed blob on "
        f"completion) and fsyncs it."
    )
    for r in results:
        if r.note:
            lines.append(f"{r.backend}: {r.note}.")
        for problem in r.problems[:20]:
            lines.append(f"- **{r.backend} problem**: {problem}")
        if len(r.problems) > 20:
            lines.append(f"- **{r.backend}**: {len(r.problems) - 20} more problems")
    if not ran:
        lines.append("No backend ran.")
    lines.append(
        f"The machine has {os.cpu_count()} cores shared with other workloads; client, server and "
        f"database share them."
    )
    return "\n".join(lines) + "\n"
