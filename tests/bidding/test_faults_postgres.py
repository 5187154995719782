"""PostgreSQL restarted under load (issue 14 point 6): a private cluster (never the shared server)
is stopped with ``-m immediate`` while bidders submit and visitors read; requests during the
outage get a clear 503 problem with a retry hint, the running server recovers by itself (pool
pre-ping), every acknowledged receipt survives and ``tenderhall check`` passes."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bidding.client import api as client_api
from bidding.models import Bid
from tests.bidding.helpers import bid_package, make_scene, seal_bytes, sealing
from tests.bidding.live_server import (
    LiveServer,
    assert_nothing_half_written,
    check,
    client_submit,
    clock_offset,
    integrity_problems,
    request,
    store_tender_document,
    wait_for,
    write_envelope,
)
from tests.conftest import _upgrade
from tests.tenderhall.test_serve import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


@dataclass
class Cluster:
    bin: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/tenderhall"

    def run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{args[0]}: {done.stdout}{done.stderr}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self.run("pg_ctl", "-D", str(self.root / "data"), "-o", options, "-l", str(self.root / "log"), "-w",
                 "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        """Immediate: no checkpoint, every connection cut (what a crash does)."""
        self.run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "-t", "60", "stop")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    found = [b for b in PG_BINS if (b / "initdb").exists() and (b / "pg_ctl").exists()]
    if not found:
        pytest.skip("the PostgreSQL server binaries (initdb, pg_ctl) are not under /usr/lib/postgresql")
    # Outside pytest's own temporary folders, which only root may enter.
    root = Path(tempfile.mkdtemp(prefix="th-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    made = Cluster(found[-1], root, free_port())
    made.run("initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    made.start()
    try:
        made.run("createdb", "-h", str(root), "-p", str(made.port), "-U", "postgres", "tenderhall")
        _upgrade(made.url, tmp_path)
        yield made
    finally:
        subprocess.run(
            [*(["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []),
             str(made.bin / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database_url(cluster: Cluster) -> str:
    """This module's database lives in the private cluster."""
    return cluster.url


class Load:
    """Bidders submitting and visitors reading in threads; every answer's status is kept."""

    def __init__(self, base: str, scene: Any, envelopes: dict[tuple[int, int], Path]) -> None:
        self.base, self.scene, self.envelopes = base, scene, envelopes
        self.statuses: list[int] = []
        self.bad: list[str] = []  # answers that are neither a success nor a clear 503
        self.acknowledged: dict[str, dict[str, Any]] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def seen(self, status: int, code: str, retry_after: str | None, text: str = "") -> None:
        with self.lock:
            self.statuses.append(status)
            clear = status == 503 and code == "error.database_unavailable" and "Traceback" not in text
            if status >= 400 and not (clear and retry_after):
                self.bad.append(f"{status} {code}: {text[:300]}")

    def after(self, mark: int, status: int) -> int:
        with self.lock:
            return self.statuses[mark:].count(status)

    def reader(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            while not self.stop.is_set():
                r = http.get("/api/v1/tenders")
                problem = r.status_code >= 400 and "json" in r.headers.get("content-type", "")
                code = str(r.json().get("code", "")) if problem else ""
                self.seen(r.status_code, code, r.headers.get("retry-after"), r.text)
                time.sleep(0.02)

    def bidder(self, who: int, rounds: int) -> None:
        n = 0
        while n < rounds and not self.stop.is_set():
            ref = f"pg-{who}-{n}"
            try:
                receipt = client_submit(self.base, self.scene, who, self.envelopes[who, n], ref)
            except client_api.ApiError as exc:
                # The bidder client keeps no headers: the probes in the test check Retry-After.
                self.seen(exc.status, exc.code, "(not kept by the client)", exc.detail)
                time.sleep(0.1)
                continue  # the same envelope again: the same upload, resumed
            with self.lock:
                self.acknowledged[ref] = receipt
                self.statuses.append(201)
            n += 1

    def start(self, bidders: int, rounds: int) -> None:
        self.threads = [threading.Thread(target=self.reader) for _ in range(2)]
        self.threads += [threading.Thread(target=self.bidder, args=(w, rounds)) for w in range(bidders)]
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
            assert not thread.is_alive()


async def test_postgres_restart_under_load(
    services, world, client, cluster, database_url, spawn_cli, run_cli, tmp_path
) -> None:
    bidders, rounds = 3, 4
    scene = await make_scene(services, world, client, bidders=bidders)
    await store_tender_document(services)
    info = await sealing(client, scene)
    envelopes = {}
    for who in range(bidders):
        for n in range(rounds):
            ref = f"pg-{who}-{n}"
            plain = bid_package(price=f"9{who}{n}000.00")
            blob = seal_bytes(
                plain, scene.bidders[who].keys.opening.recipient, str(scene.tender_id), ref, info
            )
            envelopes[who, n] = write_envelope(tmp_path, f"{ref}.age", blob)
    server = LiveServer(spawn_cli, database_url)
    base = server.start(TENDERHALL_CLOCK_OFFSET=clock_offset(scene.deadline - timedelta(days=1)))
    assert server.proc is not None
    pid = server.proc.pid

    load = Load(base, scene, envelopes)
    load.start(bidders, rounds)
    try:
        await asyncio.to_thread(wait_for, "the load to get going", lambda: load.after(0, 200) >= 5, 60)
        cluster.stop()
        # During the outage: a clear problem with a retry hint, for readers and bidders alike.
        down = await request("GET", f"{base}/api/v1/tenders", headers={"Accept-Language": "en"})
        assert down.status_code == 503, down.text
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.headers["retry-after"] == "5"
        assert down.json()["code"] == "error.database_unavailable"
        assert down.json()["detail"].startswith("The database is temporarily unavailable")
        mine = await request(
            "GET", f"{base}/api/v1/tenders/{scene.tender_id}/bids", headers=scene.bidders[0].headers
        )
        assert mine.status_code == 503, mine.text
        assert "数据库暂时不可用" in mine.json()["detail"]
        mark = len(load.statuses)
        await asyncio.to_thread(wait_for, "503s under load", lambda: load.after(mark, 503) >= 3, 30)
        cluster.start()
        # Recovered without a restart of its own: the same process answers again.
        mark = len(load.statuses)
        await asyncio.to_thread(wait_for, "recovery", lambda: load.after(mark, 200) >= 5, 60)
        assert server.proc.poll() is None
        assert server.proc.pid == pid
    finally:
        load.join()
    assert load.bad == []
    assert 500 not in load.statuses

    # Every bidder finishes; what was acknowledged before, during or after the outage is durable.
    for who in range(bidders):
        for n in range(rounds):
            ref = f"pg-{who}-{n}"
            receipt = await asyncio.to_thread(client_submit, base, scene, who, envelopes[who, n], ref)
            if ref in load.acknowledged:
                assert receipt == load.acknowledged[ref]
    async with services.sessionmaker() as db:
        stored = {b.bid_ref: b for b in (await db.scalars(select(Bid))).all()}
    assert set(stored) == {f"pg-{w}-{n}" for w in range(bidders) for n in range(rounds)}
    for ref, receipt in load.acknowledged.items():
        assert stored[ref].receipt == receipt
    await assert_nothing_half_written(services)
    assert await integrity_problems(services) == []
    check(run_cli, database_url)
