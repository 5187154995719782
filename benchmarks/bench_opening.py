"""Opening: decrypting sealed envelopes through the platform's real opening path.

Set-up (not timed): a SQLite database made by ``tenderhall db upgrade``, a published tender with
one company per envelope (own accounts and key pairs), every envelope sealed with the real codec
and submitted in-process through ``Bidding.start_upload`` / ``append`` / ``complete`` (the code
behind the upload API), the deadline passed and its checkpoint taken by ``Tenders.sweep``, and the
clock moved to the opening time.  The services run on a fixed clock, in-process: driving the hall
over HTTP would add one small JSON request per bid, nothing per byte.

Timed: for every bid in turn, ``Opening.send_file_key`` (the hall's ``POST .../key``): the checks
under the tender's row lock (the hall opening on first use), the lock released, the file key
verified against the header MAC and the stored ciphertext decrypted (the hall's ``Blobs.open``: the
decrypt pool's worker processes each authenticate one range of the stored file's 64 KiB STREAM
chunks, mapped a slot at a time; the calling thread opens the bid form), then the lock taken again
to re-check and record: the key wrapped under the data key, the ledger entry, the commit.  Every
bid must end decrypted with its form read.  The pool's workers are started before the timed part
(once per server process).  Then the same with a second tender, two bidders at a time.

Floor, in the same run: ``openssl speed -evp chacha20-poly1305 -bytes 65536`` both with
``-elapsed`` (wall clock, compared with our wall-clock rate) and without (openssl's default: user
CPU time, compared with our process's user + system CPU time), run before and after the timed part.

CPU: the process's own (``getrusage``) plus the decrypt workers' (``/proc/<pid>/stat``).

Peak memory: the same path in separate subprocesses, one envelope each of different sizes; peak RSS
(VmHWM) of the process and of each decrypt worker reset just before ``send_file_key`` and read after.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import _bidding_setup as setup
from bidding import envelope
from bidding.decrypt_pool import shared_pool
from bidding.models import Bid, BidState
from bidding.service import Bidding, Evidence, file_chunks
from bidding.signing import sign
from tenderhall.auth.models import User
from tenderhall.auth.service import subject_of
from tenderhall.clock import FixedClock

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PRICE = "98765432.10"  # in the package's bid form
OPENSSL = "openssl speed -evp chacha20-poly1305 -bytes 65536"


@dataclass
class Sealed:
    path: Path
    size: int
    sha256: str


# -- set-up ---------------------------------------------------------------------------------------------


async def _submit(
    services: Any, scene: setup.Scene, account: setup.Account, sealed: Sealed, bid: str
) -> tuple[str, str]:
    """Submit one envelope through the bidding service; returns (bid ref, base64 file key)."""
    bidding: Bidding = services.get(Bidding)
    manifest = setup.manifest_for(scene, account, bid, sealed.sha256, sealed.size)
    async with services.sessionmaker() as db:
        who = subject_of(await db.get(User, account.user_id))
        upload = await bidding.start_upload(
            db, who, scene.tender_id, manifest, sign(account.keys.signing, manifest), f"bench-{bid}", None
        )
        upload_id = upload.id
        await db.commit()
        with sealed.path.open("rb") as handle:
            await bidding.append(db, who, upload_id, 0, file_chunks(handle))
        await bidding.complete(db, who, upload_id, Evidence("127.0.0.1", "tenderhall-bench", "bench"))
        await db.commit()
    bidding.partials.remove(upload_id)
    with sealed.path.open("rb") as handle:
        header, _ = envelope.parse_header(handle)
    key = envelope.unwrap_file_key(header, [account.keys.opening])
    return bid, base64.b64encode(key).decode()


async def _prepare(
    root: Path, count: int, size: int
) -> tuple[Any, FixedClock, setup.Scene, list[tuple[str, str]], int]:
    """A tender at its opening time with ``count`` sealed bids of ``size`` bytes each."""
    settings = setup.settings_for(f"sqlite+aiosqlite:///{root / 'tenderhall.db'}", root / "data")
    await asyncio.to_thread(setup.migrate, settings)
    clock = FixedClock(T0)
    services = setup.services_for(settings, clock)
    keys = setup.new_keys(count)
    scene = await setup.make_scene(services, keys, T0 + timedelta(days=21))
    package = root / "package.zip"
    setup.make_package(package, size)
    clock.set(scene.deadline - timedelta(hours=1))
    bids: list[tuple[str, str]] = []
    total = 0
    batch = 4  # seal a few at a time (two processes), submit, delete: bounded disk use
    with setup.sealing_pool() as pool:
        for start in range(0, count, batch):
            accounts = scene.bidders[start : start + batch]
            jobs = [
                (package, root / f"{start + i:03d}.age", a.keys.recipient) for i, a in enumerate(accounts)
            ]
            sealed = await asyncio.to_thread(setup.seal_many, jobs, pool)
            for (_, path, _), account, (n, sha) in zip(jobs, accounts, sealed, strict=True):
                ref = f"open-{len(bids):03d}"
                bids.append(await _submit(services, scene, account, Sealed(path, n, sha), ref))
                total += n
                path.unlink()
    package.unlink()
    clock.set(scene.deadline + timedelta(seconds=1))
    async with services.transaction() as db:
        await services.tenders.sweep(db)  # closes the tender: the deadline checkpoint
    clock.set(scene.deadline + timedelta(seconds=2))  # opening time = deadline (第三十四条)
    return services, clock, scene, bids, total


async def _open_one(services: Any, scene: setup.Scene, account: setup.Account, bid: str, key: str) -> str:
    bidding: Bidding = services.get(Bidding)
    async with services.sessionmaker() as db:
        who = subject_of(await db.get(User, account.user_id))
        opened = await bidding.hall.send_file_key(db, who, scene.tender_id, bid, key)
        state = opened.state
        await db.commit()
    return state


async def _check(services: Any, scene: setup.Scene) -> list[str]:
    """Every bid decrypted, with the price read from its bid form."""
    from sqlalchemy import select

    problems = []
    async with services.sessionmaker() as db:
        rows = (await db.execute(select(Bid).where(Bid.tender_id == scene.tender_id))).scalars()
        for bid in rows:
            if bid.state != BidState.DECRYPTED.value or (bid.bid_form or {}).get("price") != PRICE:
                problems.append(f"{bid.bid_ref}: {bid.state}, form error {bid.form_error}")
    return problems


# -- floors ---------------------------------------------------------------------------------------------


def _openssl(elapsed: bool, seconds: int) -> float | None:
    """Bytes/s of ``openssl speed -evp chacha20-poly1305 -bytes 65536`` (wall or user CPU)."""
    cmd = ["openssl", "speed", *(["-elapsed"] if elapsed else []), "-evp", "chacha20-poly1305"]
    cmd += ["-bytes", "65536", "-seconds", str(seconds)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if line.lower().startswith("chacha20-poly1305"):
            return float(line.split()[-1].rstrip("k")) * 1000
    return None


# -- peak memory, in a fresh process per size ----------------------------------------------------------


def child(size: int) -> None:
    """Entry point of the memory subprocess: prints a JSON line with RSS figures."""
    root = Path(tempfile.mkdtemp(prefix="th_open_mem_"))
    try:
        figures = asyncio.run(_child(root, size))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(figures))


def _workers() -> list[int]:
    pool = shared_pool()
    return pool.pids() if pool is not None and pool.start() else []


async def _child(root: Path, size: int) -> dict[str, Any]:
    services, _clock, scene, bids, total = await _prepare(root, 1, size)
    try:
        workers = _workers()
        before = setup.proc_status()
        resettable = all([setup.reset_peak_rss(), *(setup.reset_peak_rss(p) for p in workers)])
        state = await _open_one(services, scene, scene.bidders[0], *bids[0])
        after = setup.proc_status()
        worker_peaks = [setup.proc_status(p)["VmHWM"] for p in workers]
        problems = await _check(services, scene)
    finally:
        await services.engine.dispose()
    return {
        "size": total,
        "rss_before": before["VmRSS"],
        "peak_opening": after["VmHWM"] if resettable else None,
        "peak_process": before["VmHWM"] if not resettable else None,
        "peak_workers": max(worker_peaks, default=None) if resettable else None,
        "workers": len(workers),
        "state": state,
        "problems": problems,
    }


def _memory(size: int) -> dict[str, Any]:
    code = f"from benchmarks.bench_opening import child; child({size})"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- the benchmark -----------------------------------------------------------------------------------------


async def _throughput(root: Path, count: int, size: int, at_once: int = 1) -> dict[str, Any]:
    """Open every bid, ``at_once`` bidders sending their keys at the same time."""
    services, _clock, scene, bids, total = await _prepare(root, count, size)
    try:
        accounts = {f"open-{i:03d}": a for i, a in enumerate(scene.bidders)}
        times: list[float] = []
        states: list[str] = []
        core: list[float] = []  # seconds inside the hall's Blobs.open (MAC check + decryption)
        opening = services.get(Bidding).hall
        real = opening.blobs.open

        def timed(*args: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*args)
            finally:
                core.append(time.perf_counter() - t)

        opening.blobs.open = timed
        workers = _workers()
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        wcpu0 = [setup.proc_cpu_seconds(p) for p in workers]
        gate = asyncio.Semaphore(at_once)

        async def one(bid: str, key: str) -> None:
            async with gate:
                t = time.perf_counter()
                states.append(await _open_one(services, scene, accounts[bid], bid, key))
                times.append(time.perf_counter() - t)

        began = time.perf_counter()
        await asyncio.gather(*(one(bid, key) for bid, key in bids))
        wall = time.perf_counter() - began
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        worker_cpu = [
            (u1 - u0, s1 - s0)
            for (u0, s0), (u1, s1) in zip(wcpu0, (setup.proc_cpu_seconds(p) for p in workers), strict=True)
        ]
        del opening.blobs.open
        problems = await _check(services, scene)
    finally:
        await services.engine.dispose()
    return {
        "total": total,
        "wall": wall,
        "cpu_user": cpu1.ru_utime - cpu0.ru_utime + sum(u for u, _ in worker_cpu),
        "cpu_sys": cpu1.ru_stime - cpu0.ru_stime + sum(s for _, s in worker_cpu),
        "workers": len(workers),
        "times": sorted(times),
        "core": sum(core),
        "decrypted": states.count(BidState.DECRYPTED.value),
        "problems": problems,
    }


def run(quick: bool) -> str:
    count, size = (5, 10 * setup.MiB) if quick else (50, 100 * setup.MiB)
    memory_sizes = [10 * setup.MiB, 100 * setup.MiB] + ([] if quick else [1024 * setup.MiB])
    seconds = 2 if quick else 3
    loads = [setup.loadavg()]
    ssl_before = (_openssl(True, seconds), _openssl(False, seconds))
    root = Path(tempfile.mkdtemp(prefix="th_open_"))
    try:
        result = asyncio.run(_throughput(root / "one", count, size))
        result["two"] = asyncio.run(_throughput(root / "two", count, size, at_once=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ssl_after = (_openssl(True, seconds), _openssl(False, seconds))
    loads.append(setup.loadavg())
    memory = [_memory(s) for s in memory_sizes]
    return _report(count, size, result, ssl_before, ssl_after, memory, loads)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v]
    return sum(present) / len(present) if present else None


def _report(
    count: int,
    size: int,
    r: dict[str, Any],
    before: tuple[float | None, float | None],
    after: tuple[float | None, float | None],
    memory: list[dict[str, Any]],
    loads: list[str],
) -> str:
    rate = r["total"] / r["wall"]
    cpu = r["cpu_user"] + r["cpu_sys"]
    cpu_rate = r["total"] / cpu if cpu else 0.0
    ssl_wall = _mean([before[0], after[0]])
    ssl_cpu = _mean([before[1], after[1]])
    times = r["times"]
    lines = [
        "## Opening (`bidding.opening`: verify the file key, decrypt the stored ciphertext)",
        "",
        f"{count} sealed bids of {setup.mib(size)} each, every one opened by "
        f"`Opening.send_file_key` in-process (the handler of `POST /tenders/{{id}}/hall/bids/{{bid}}/key`; "
        f"over HTTP only that small JSON request would be added per bid), one after the other: the "
        f"checks under the tender's row lock, the lock released, the key verified against the header "
        f"MAC and the stored ciphertext authenticated by {r['workers']} decrypt worker processes (each "
        f"maps its range of the stored file; the request's thread opens the bid form; then the "
        f"document scan reads the package's zip directory by random access and skips the one large, "
        f"non-PDF document: no chunk of it is decrypted twice), then the lock "
        f"taken again to re-check and record: the key wrapped, the ledger entry, the commit. SQLite; "
        f"the blobs were written minutes before (page cache warm, as right after a deadline). Then the "
        f"same with a second tender's {count} bids, two bidders sending their keys at a time (in a hall "
        f"they all send within minutes): one bid's database work overlaps another's decryption.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| bids decrypted, bid form read | {r['decrypted']} / {count} |",
        f"| ciphertext decrypted | {setup.mib(r['total'])} |",
        f"| wall time (s) | {r['wall']:.1f} |",
        f"| per bid: median / slowest (ms) | {times[len(times) // 2] * 1e3:,.0f} / {times[-1] * 1e3:,.0f} |",
        f"| opening throughput, wall clock (MB/s) | {rate / 1e6:,.0f} |",
    ]
    if ssl_wall:
        lines += [
            f"| `{OPENSSL} -elapsed` (MB/s) | {ssl_wall / 1e6:,.0f} |",
            f"| **wall-clock ratio (aim >= 0.7)**, one bid at a time | **{rate / ssl_wall:.2f}** |",
        ]
    two = r["two"]
    two_rate = two["total"] / two["wall"]
    lines += [
        f"| two bidders at a time: bids decrypted / wall time (s) | {two['decrypted']} / {two['wall']:.1f} |",
        f"| two bidders at a time: opening throughput, wall clock (MB/s) | {two_rate / 1e6:,.0f} |",
    ]
    if ssl_wall:
        lines.append(f"| **wall-clock ratio, two bidders at a time** | **{two_rate / ssl_wall:.2f}** |")
    core = r["total"] / r["core"]
    lines.append(f"| of which inside `Opening._open_blob`: MAC check + decryption (s) | {r['core']:.1f} |")
    lines.append(f"| decryption alone, `_open_blob` (MB/s) | {core / 1e6:,.0f} |")
    if ssl_wall:
        lines.append(f"| decryption alone / openssl, wall clock | {core / ssl_wall:.2f} |")
    lines.append(
        f"| CPU during opening, process + decrypt workers, user + sys (s) "
        f"| {r['cpu_user']:.1f} + {r['cpu_sys']:.1f} |"
    )
    lines.append(f"| opening throughput per CPU second (MB/s) | {cpu_rate / 1e6:,.0f} |")
    if ssl_cpu:
        lines += [
            f"| `{OPENSSL}`, user CPU (MB/s) | {ssl_cpu / 1e6:,.0f} |",
            f"| **CPU-time ratio** (ours: user + sys) | **{cpu_rate / ssl_cpu:.2f}** |",
        ]
    lines.append(f"| load average 1/5/15 min, start → end | {loads[0]} → {loads[1]} |")
    lines.append("")
    lines.append(
        "openssl was run for a few seconds before and after the timed part; the figures are the means "
        "(before / after, MB/s: wall "
        + " / ".join(f"{v / 1e6:,.0f}" if v else "—" for v in (before[0], after[0]))
        + ", user CPU "
        + " / ".join(f"{v / 1e6:,.0f}" if v else "—" for v in (before[1], after[1]))
        + "). openssl's default divides by user CPU time only, so on a shared machine the wall-clock "
        "ratio compares like with like; the CPU-time ratio charges our side with system time too "
        "(reading the blobs)."
    )
    lines += [
        "",
        "Peak memory of the same path, one envelope per fresh process (peak RSS of the process and of "
        "each decrypt worker reset just before `send_file_key`, read after it; the shared slots count "
        "in both):",
        "",
        "| envelope | RSS before opening | peak RSS during opening | peak RSS of a decrypt worker | state |",
        "|---:|---:|---:|---:|---|",
    ]
    for m in memory:
        peak = m["peak_opening"] if m["peak_opening"] is not None else m["peak_process"]
        label = "" if m["peak_opening"] is not None else " (whole process)"
        worker = setup.mib(m["peak_workers"]) if m.get("peak_workers") else "—"
        sizes = [setup.mib(m["size"]), setup.mib(m["rss_before"]), setup.mib(peak) + label]
        cells = [*sizes, worker, m["state"]]
        lines.append("| " + " | ".join(cells) + " |")
    peaks = [m["peak_opening"] for m in memory if m["peak_opening"] is not None]
    if len(peaks) == len(memory) and len(peaks) > 1:
        lines.append("")
        lines.append(
            f"Peak RSS while opening varies by {(max(peaks) - min(peaks)) / setup.MiB:,.1f} MiB across "
            f"envelopes from {setup.mib(memory[0]['size'])} to {setup.mib(memory[-1]['size'])}: memory "
            f"does not depend on the envelope's size (a fixed ring of 1 MiB shared-memory slots)."
        )
    for problem in [*r["problems"], *two["problems"], *(p for m in memory for p in m["problems"])][:20]:
        lines.append(f"- **problem**: {problem}")
    lines.append(f"The machine has {os.cpu_count()} cores shared with other workloads.")
    return "\n".join(lines) + "\n"
