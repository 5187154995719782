"""Read load: the public tender list, a tender page, the home page and a bidder's tender list, served
by a real ``tenderhall serve`` with the demo data, against a minimal Litestar app in the same run.

Servers: ``tenderhall serve`` (uvicorn) on a free port of 127.0.0.1 in its own process group, on
the demo data seeded by ``tenderhall demo``: SQLite with 1 worker, PostgreSQL (a database made and
dropped here; skipped if 127.0.0.1:5432 does not answer) with 1 and with 2 workers.  The peer is
``benchmarks/_hello_app.py`` (one handler returning a small JSON list) under the same uvicorn, with
the same worker count; it is measured before and after the platform's runs at that worker count,
so the machine's drift shows.  A server counts as ready when it answers, all its workers exist,
and none of its processes used CPU for half a second (start-up done).

Load: ``wrk`` (Debian package ``wrk``: ``apt-get install wrk``), a separate process, 50 keep-alive
connections, one thread; per request a warm-up run that is discarded, then the measured run.  wrk
keeps one request outstanding per connection, so "50 concurrent clients" are 50 connections.  Its
request timeout is set far above any latency seen, so slow answers count in the percentiles
instead of vanishing as timeouts.  Server CPU is the user + system time of the server's process
group during the measured run (PostgreSQL's own processes not included).

Settings: ``TENDERHALL_BENCH_LOAD_SECONDS`` (measured run, default 10; 2 with ``--quick``),
``TENDERHALL_BENCH_LOAD_MAX_SECONDS`` (a slow server's run is lengthened up to this, default 60; 2
with ``--quick``), ``TENDERHALL_BENCH_LOAD_WARMUP`` (default 2; 1 with ``--quick``),
``TENDERHALL_BENCH_LOAD_CLIENTS`` (default 50), ``TENDERHALL_BENCH_LOAD_THREADS`` (wrk threads,
default 1).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import _bidding_setup as setup
from benchmarks._servers import free_port, stop_server

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "wrk not found: install it with `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)"
DEMO_BIDDER = "bidder01"
DEMO_PASSWORD = "Demo-2026-tenderhall"  # tenderhall.demo.DEMO_PASSWORD, not imported: no app import here
AIM_RATIO = 0.2  # × the peer's requests/s, on one worker (issue 14)
AIM_P99_MS = 100.0
AIM_GAIN = 1.8  # 1 → 2 workers: "near-linear"
WRK_TIMEOUT = "60s"
# wrk's text output is for people; this prints one line the benchmark parses.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status": %d, "timeout": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.timeout, e.connect, e.read, e.write,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""
PEER = "Litestar hello"
PLATFORM = "TenderHall"


@dataclass(frozen=True)
class Config:
    seconds: int
    longest: int  # a measured run is lengthened up to this where answers are slow
    warmup: int
    clients: int
    threads: int

    @classmethod
    def from_env(cls, quick: bool) -> Config:
        def num(name: str, default: int) -> int:
            return int(os.environ.get(f"TENDERHALL_BENCH_LOAD_{name}", default))

        return cls(
            seconds=num("SECONDS", 2 if quick else 10),
            longest=num("MAX_SECONDS", 2 if quick else 60),
            warmup=num("WARMUP", 1 if quick else 2),
            clients=num("CLIENTS", 50),
            threads=num("THREADS", 1),
        )


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    bidder: bool = False


ENDPOINTS = [
    Endpoint("list", "tender list, anonymous: GET /api/v1/tenders"),
    Endpoint("page", "tender page, anonymous: GET /tenders/<id>"),
    Endpoint("home", "home page, anonymous: GET /"),
    Endpoint("list_bidder", "tender list, bidder (bearer token)", bidder=True),
]
AIMED = ("list", "page")  # the aims name these two


@dataclass(frozen=True)
class Measure:
    requests: int
    seconds: float
    failed: int  # non-2xx/3xx answers, timeouts and socket errors
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_s: float  # server process group, user + system

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_s / self.requests if self.requests else float("nan")

    @property
    def busy(self) -> float:
        """Cores the server kept busy: near 1 per worker means it is bound by its own CPU, far
        below means it waits (the database, a lock, its connection pool, or a core of a loaded
        machine)."""
        return self.cpu_s / self.seconds if self.seconds else 0.0

    @property
    def censored(self) -> bool:
        """wrk counts only answers that arrive within the run: when answers take a good part of
        the run, the slowest are missing and the percentiles are lower bounds."""
        return self.requests == 0 or self.max_ms >= 500 * self.seconds

    def ms(self, value: float) -> str:
        if self.requests == 0:
            return "none in the run"
        return ("≥ " if self.censored else "") + f"{value:,.1f}"


@dataclass(frozen=True)
class Row:
    server: str
    backend: str
    workers: int
    endpoint: str  # an Endpoint key, or "peer (before)" / "peer (after)"
    label: str
    measure: Measure


# -- processes -------------------------------------------------------------------------------------


def _group(pgid: int) -> list[int]:
    """Processes of a process group (the server and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    found.append(int(entry.name))
            except ProcessLookupError:
                continue
    return found


def _cpu_by_pid(pgid: int) -> dict[int, float]:
    out = {}
    for pid in _group(pgid):
        try:
            user, system = setup.proc_cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[pid] = user + system
    return out


def _cpu(pgid: int) -> float:
    return sum(_cpu_by_pid(pgid).values())


def _answer(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """Status, content type and body of one GET (any status)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), bytes(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read()
    except OSError:
        return 0, "", b""


@contextmanager
def _server(
    name: str, argv: list[str], env: dict[str, str], port: int, workers: int, log: Path
) -> Iterator[int]:
    """Run a server until the block ends; yields its process group id once it is ready."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        # uvicorn with one worker serves in its own process; with more, a supervisor and N workers.
        processes = workers + 1 if workers > 1 else 1
        deadline = time.monotonic() + 180
        while not (_answer(port, "/")[0] == 200 and len(_group(proc.pid)) >= processes):
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited early: {log.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become ready in 180 s")
            time.sleep(0.3)
        _wait_idle(proc.pid)
        yield proc.pid
    finally:
        stop_server(proc)


def _wait_idle(pgid: int, seconds: float = 60) -> None:
    """Until no process of the group used 50 ms of CPU in half a second (workers done starting)."""
    deadline = time.monotonic() + seconds
    before = _cpu_by_pid(pgid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _cpu_by_pid(pgid)
        if all(now[pid] - before.get(pid, 0.0) < 0.05 for pid in now):
            return
        before = now


def _platform_argv(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tenderhall",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-migrate",
    ]


def _peer_argv(port: int, workers: int) -> list[str]:
    # The options `tenderhall serve` gives uvicorn.run: log level from TENDERHALL_LOG_LEVEL
    # (WARNING here), proxy headers off; uvloop and httptools alike (both installed).
    return [
        sys.executable, "-m", "uvicorn", "benchmarks._hello_app:app", "--app-dir", str(ROOT),
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-proxy-headers",
    ]  # fmt: skip


# -- load ------------------------------------------------------------------------------------------


def _wrk(url: str, seconds: int, cfg: Config, script: Path, headers: dict[str, str]) -> dict[str, int]:
    argv = ["wrk", "-t", str(cfg.threads), "-c", str(cfg.clients), "-d", f"{seconds}s"]
    argv += ["--timeout", WRK_TIMEOUT, "-s", str(script)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 120, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line.removeprefix("BENCH ")))
    raise RuntimeError(f"wrk gave no report (exit {done.returncode}): {done.stderr.strip()[-500:]}")


def _run_seconds(warm: dict[str, int], cfg: Config) -> int:
    """The measured run's length: at least four times the mean latency the warm-up implies
    (connections ÷ answers per second, Little's law), so slow answers are not all cut off."""
    answered = warm["requests"] / (warm["duration_us"] / 1e6) if warm["duration_us"] else 0.0
    latency = cfg.clients / answered if answered else float("inf")
    return int(min(cfg.longest, max(cfg.seconds, 4 * latency)))


def _measure(port: int, pgid: int, path: str, headers: dict[str, str], cfg: Config, script: Path) -> Measure:
    url = f"http://127.0.0.1:{port}{path}"
    warm = _wrk(url, cfg.warmup, cfg, script, headers)
    # wrk leaves unanswered requests behind; the server finishes them before the measured run.
    _wait_idle(pgid)
    cpu_before = _cpu(pgid)
    raw = _wrk(url, _run_seconds(warm, cfg), cfg, script, headers)
    cpu = _cpu(pgid) - cpu_before
    return Measure(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        failed=sum(raw[k] for k in ("status", "timeout", "connect", "read", "write")),
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        cpu_s=cpu,
    )


# -- the platform's data ---------------------------------------------------------------------------


@dataclass
class Platform:
    backend: str
    env: dict[str, str]
    log_dir: Path
    tender_path: str = ""
    token: str = ""
    list_total: int = 0
    list_shown: int = 0


def _seed(db: setup.Database, root: Path) -> Platform:
    data_dir = root / db.name.lower()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = setup.server_env(setup.settings_for(db.url, data_dir))
    done = subprocess.run(
        [sys.executable, "-m", "tenderhall", "demo"], env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"tenderhall demo failed on {db.name}: {done.stderr.strip()[-2000:]}")
    return Platform(db.name, env, data_dir)


def _discover(platform: Platform, port: int) -> None:
    """Once per database: a published tender to load the page of, and a bidder's API token
    (``POST /api/v1/auth/token``, as ``tenderhall bid login`` does). Every address is checked."""
    if not platform.token:
        body = json.dumps({"username": DEMO_BIDDER, "password": DEMO_PASSWORD, "name": "bench"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            platform.token = json.loads(r.read())["token"]
        _, _, data = _answer(port, "/api/v1/tenders?limit=100")
        items = json.loads(data)["items"]
        published = [t for t in items if t["state"] == "published"] or items
        platform.tender_path = f"/tenders/{published[0]['id']}"
        page = json.loads(_answer(port, "/api/v1/tenders")[2])
        platform.list_total, platform.list_shown = page["total"], len(page["items"])
    for endpoint in ENDPOINTS:
        path, headers = _request(platform, endpoint)
        status, kind, _ = _answer(port, path, headers)
        expected = "text/html" if endpoint.key in ("page", "home") else "application/json"
        if status != 200 or not kind.startswith(expected):
            raise RuntimeError(f"{platform.backend}: {path} answered {status} {kind}")


def _request(platform: Platform, endpoint: Endpoint) -> tuple[str, dict[str, str]]:
    path = {"list": "/api/v1/tenders", "page": platform.tender_path, "home": "/"}.get(
        endpoint.key, "/api/v1/tenders"
    )
    return path, ({"Authorization": f"Bearer {platform.token}"} if endpoint.bidder else {})


# -- the run ---------------------------------------------------------------------------------------


def _say(row: Row) -> None:
    m = row.measure
    where = f"{row.server} {row.backend} ×{row.workers}".replace("  ", " ")
    print(
        f"  {where}, {row.label}: {m.seconds:.0f} s, {m.rps:,.0f} req/s, p50 {m.p50_ms:,.1f} ms,"
        f" p99 {m.p99_ms:,.1f} ms, {m.cpu_ms_per_request:.2f} ms CPU/req, {m.failed} failed",
        flush=True,
    )


def _measure_at(workers: int, platforms: list[Platform], cfg: Config, script: Path, root: Path) -> list[Row]:
    """The peer, every platform at this worker count, then the peer again."""
    rows: list[Row] = []
    peer_port = free_port()
    peer_env = {k: v for k, v in os.environ.items() if not k.startswith("TENDERHALL_")}
    argv, log = _peer_argv(peer_port, workers), root / f"peer{workers}.log"
    with _server(PEER, argv, peer_env, peer_port, workers, log) as peer:

        def peer_row(when: str) -> None:
            m = _measure(peer_port, peer, "/", {}, cfg, script)
            rows.append(Row(PEER, "", workers, f"peer ({when})", f"GET / ({when})", m))
            _say(rows[-1])

        peer_row("before")
        for platform in platforms:
            port = free_port()
            log = platform.log_dir / f"serve{workers}.log"
            with _server(PLATFORM, _platform_argv(port, workers), platform.env, port, workers, log) as pgid:
                _discover(platform, port)
                for endpoint in ENDPOINTS:
                    path, headers = _request(platform, endpoint)
                    m = _measure(port, pgid, path, headers, cfg, script)
                    rows.append(Row(PLATFORM, platform.backend, workers, endpoint.key, endpoint.label, m))
                    _say(rows[-1])
        peer_row("after")
    return rows


def _code_commit() -> str:
    """The last commit that changed the served code, and whether the work tree differs from it."""
    paths = ["src", "bidding", "evaluation", "collusion", "migrations", "pyproject.toml", "uv.lock"]
    git = ["git", "-C", str(ROOT)]
    try:
        last = subprocess.run(
            [*git, "log", "-1", "--format=%h (%cs)", "--", *paths], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", *paths], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return last + (" plus uncommitted changes" if dirty else "")


def run(quick: bool) -> str:
    if shutil.which("wrk") is None:
        raise SystemExit(INSTALL)
    cfg = Config.from_env(quick)
    root = Path(tempfile.mkdtemp(prefix="th_load_"))
    script = root / "report.lua"
    script.write_text(WRK_REPORT)
    databases = [setup.Database("SQLite", f"sqlite+aiosqlite:///{root / 'sqlite' / 'tenderhall.db'}")]
    pg, pg_note = setup.postgres_database()
    if pg is not None:
        databases.append(pg)
    try:
        began = time.perf_counter()
        platforms = [_seed(db, root) for db in databases]
        seed_seconds = time.perf_counter() - began
        with setup.load_window() as load:
            rows = _measure_at(1, platforms, cfg, script, root)
            rows += _measure_at(2, [p for p in platforms if p.backend == "PostgreSQL"], cfg, script, root)
    finally:
        for db in databases:
            setup.drop_database(db)
        shutil.rmtree(root, ignore_errors=True)
    report = Report(rows, cfg)
    report.print()
    return report.markdown(platforms, pg_note, seed_seconds, load)


# -- the report ------------------------------------------------------------------------------------


class Report:
    def __init__(self, rows: list[Row], cfg: Config) -> None:
        self.rows = rows
        self.cfg = cfg

    def peer_rps(self, workers: int) -> float:
        """The peer's mean of its before and after runs at this worker count."""
        runs = [r.measure.rps for r in self.rows if r.server == PEER and r.workers == workers]
        return sum(runs) / len(runs) if runs else float("nan")

    def find(self, backend: str, workers: int, key: str) -> Measure | None:
        for r in self.rows:
            if (r.server, r.backend, r.workers, r.endpoint) == (PLATFORM, backend, workers, key):
                return r.measure
        return None

    def table(self) -> tuple[list[str], list[list[str]]]:
        head = [
            "server",
            "database",
            "workers",
            "request",
            "run s",
            "req/s",
            "× peer req/s",
            "p50 ms",
            "p99 ms",
        ]
        head += ["max ms", "server CPU ms/req", "server cores busy", "failed"]
        body = []
        for r in self.rows:
            m = r.measure
            body.append(
                [
                    r.server,
                    r.backend or "—",
                    str(r.workers),
                    r.label,
                    f"{m.seconds:.0f}",
                    f"{m.rps:,.0f}",
                    f"{m.rps / self.peer_rps(r.workers):.3f}",
                    m.ms(m.p50_ms),
                    m.ms(m.p99_ms),
                    m.ms(m.max_ms),
                    f"{m.cpu_ms_per_request:.2f}",
                    f"{m.busy:.2f}",
                    str(m.failed),
                ]
            )
        return head, body

    def aims(self) -> list[list[str]]:
        """(aim, measured, met) rows for the issue's aims."""
        out = []
        for backend in ("SQLite", "PostgreSQL"):
            for key in AIMED:
                m = self.find(backend, 1, key)
                if m is None:
                    continue
                label = next(e.label for e in ENDPOINTS if e.key == key).split(":")[0]
                ratio = m.rps / self.peer_rps(1)
                ok = m.failed == 0 and m.requests > 0
                out.append(
                    [
                        f"{backend}, 1 worker, {label}: req/s ≥ {AIM_RATIO}× peer",
                        f"{ratio:.3f}×",
                        _yes(ok and ratio >= AIM_RATIO),
                    ]
                )
                out.append(
                    [
                        f"{backend}, 1 worker, {label}: p99 ≤ {AIM_P99_MS:.0f} ms",
                        m.ms(m.p99_ms) + (" ms" if m.requests else ""),
                        _yes(ok and not m.censored and m.p99_ms <= AIM_P99_MS),
                    ]
                )
        peer_gain = self.peer_rps(2) / self.peer_rps(1)
        for e in ENDPOINTS:
            one, two = self.find("PostgreSQL", 1, e.key), self.find("PostgreSQL", 2, e.key)
            if one is None or two is None or not one.requests:
                continue
            gain = two.rps / one.rps
            out.append(
                [
                    f"PostgreSQL, 1 → 2 workers, {e.label.split(':')[0]}: req/s gain ≥ {AIM_GAIN}×",
                    f"{gain:.2f}× (peer {peer_gain:.2f}×)" if two.requests else "none in the run",
                    _yes(two.failed == 0 and gain >= AIM_GAIN),
                ]
            )
        return out

    def print(self) -> None:
        console = Console(width=200)
        head, body = self.table()
        table = Table(*head, title=f"Load, {self.cfg.clients} connections")
        for cells in body:
            table.add_row(*cells)
        console.print(table)
        aims = Table("aim", "measured", "met", title="Aims (issue 14)")
        for cells in self.aims():
            aims.add_row(*(c.replace("**", "") for c in cells))
        console.print(aims)

    def markdown(self, platforms: list[Platform], pg_note: str, seed_seconds: float, load: list[str]) -> str:
        cfg = self.cfg
        shown = platforms[0]
        lines = [
            "## Load: tender list, tender page, home page (real server, wrk)",
            "",
            f"Code at commit {_code_commit()}. `tenderhall serve` (uvicorn) on 127.0.0.1 with the demo "
            f"data (`tenderhall demo`, {seed_seconds:.0f} s to seed both databases, not timed), against "
            f"a minimal Litestar app (`benchmarks/_hello_app.py`: one handler returning a 3-item JSON "
            f"list) under the same uvicorn with the same worker count, measured in the same run before "
            f"and after the platform (its two rows; × peer divides by their mean). Load from `wrk` in "
            f"its own process: {cfg.clients} keep-alive connections (one request outstanding each), "
            f"{cfg.threads} thread, {cfg.warmup} s warm-up, then a measured run of {cfg.seconds} s, "
            f"lengthened up to {cfg.longest} s to four times the mean latency the warm-up implies "
            f"(column run s). "
            f"Tender list: the first page, {shown.list_shown} of {shown.list_total} tenders for an "
            f"anonymous visitor; the bidder is the demo's {DEMO_BIDDER}; tender page: a published "
            f"tender; home page: up to 50 tenders. Server CPU: user + system time of the server's "
            f"processes per request, "
            f"and per second of the run (cores busy: near 1 per worker, the server is bound by its own "
            f"CPU; far below, it waits, for the database, a lock, or on a loaded machine for a core); "
            f"PostgreSQL's own processes not counted. wrk counts only answers that arrive within the "
            f"run, so where answers take a good part of it (the slowest at least half) the latencies "
            f"are lower bounds, marked ≥.",
            "",
        ]
        head, body = self.table()
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---|---|---:|---|" + "---:|" * (len(head) - 4))
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        lines += ["", "| aim (issue 14) | measured | met |", "|---|---:|---|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in self.aims()]
        lines += [
            "",
            f"Load average 1/5/15 min, start → end: {load[0]} → {load[1]}. The machine has "
            f"{os.cpu_count()} cores shared with other workloads (other agents' tests ran during the "
            f"run); server, `wrk` and PostgreSQL share them too, so absolute requests/s are noisy and "
            f"the ratios against the peer measured minutes apart in the same run are what to compare. "
            f"With 2 cores and the load generator on them, 2 workers cannot double anything: the "
            f"peer's own 1 → 2 worker gain is the most this machine shows.",
        ]
        if pg_note:
            lines.append(f"PostgreSQL skipped: {pg_note}.")
        return "\n".join(lines) + "\n"


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"
