"""A real ``tenderhall serve`` process for fault tests: seeded in-process, started, killed with
SIGKILL and started again on the same database and data folder, with the platform clock set where
the scene needs it (``TENDERHALL_CLOCK_OFFSET``).  Every wait is bounded and polls for a state."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bidding.client import api as client_api
from bidding.models import Bid, BidState, UploadSession, UploadState
from tenderhall.ledger.models import LedgerEntry
from tests.bidding.helpers import Scene
from tests.support.tenders import TENDER_DOCUMENT  # what helpers.make_scene records
from tests.tenderhall.test_serve import free_port, wait_healthy

CHEAP = {"TENDERHALL_ARGON2_TIME_COST": "1", "TENDERHALL_ARGON2_MEMORY_KIB": "1024"}


def wait_for(what: str, condition: Callable[[], bool], seconds: float = 30, every: float = 0.005) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(every)


async def store_tender_document(services: Any) -> None:
    """make_scene records the tender's document without storing it; ``tenderhall check`` re-hashes
    every stored file, so the fault tests store it."""

    async def one() -> AsyncIterator[bytes]:
        yield TENDER_DOCUMENT

    await services.storage.put(one(), 1 << 20)


def clock_offset(at: datetime) -> str:
    """``TENDERHALL_CLOCK_OFFSET`` that puts the server's clock at ``at`` now."""
    return f"{(at - datetime.now(UTC)).total_seconds():.3f}"


@dataclass
class LiveServer:
    spawn_cli: Any
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    base: str = ""
    # The server's last lines of output, read as they come: an unread pipe fills up and then
    # blocks the server's logging (and with it every request).
    output: deque[str] = field(default_factory=lambda: deque(maxlen=300))

    def start(self, **env: str) -> str:
        self.env.update(env)
        port = free_port()
        self.proc = self.spawn_cli(
            self.database_url, "serve", "--port", str(port), "--no-migrate", extra_env={**CHEAP, **self.env}
        )
        self.base = f"http://127.0.0.1:{port}"
        wait_healthy(self.base, self.proc, seconds=60)
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        return self.base

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)

    def pids(self) -> list[int]:
        """The server and every process it started (its process group)."""
        assert self.proc is not None
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.proc.pid:
                        found.append(int(entry.name))
                except ProcessLookupError:
                    continue
        return found

    def has_open(self, path: Path) -> bool:
        """Whether a server process holds ``path`` open (reading a blob: decrypting it)."""
        target = str(path)
        for pid in self.pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except (FileNotFoundError, PermissionError):
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == target:
                        return True
                except OSError:
                    continue
        return False

    def kill(self) -> None:
        """``kill -9`` of the server and its children: no shutdown code runs."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)
        wait_for("the server's processes to die", lambda: not self.pids(), seconds=20)


async def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.request(method, url, **kwargs)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_path(storage_dir: Path, key: str) -> Path:
    return storage_dir / key[:2] / key[2:4] / key


async def ledger_size(services: Any) -> int:
    async with services.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


async def assert_nothing_half_written(services: Any) -> None:
    """Every bid has its stored envelope, receipt and ledger entry (``tenderhall check`` proves
    the hashes); no upload is complete without its bid, and no bid is decrypted in part."""
    async with services.sessionmaker() as db:
        bids = (await db.scalars(select(Bid))).all()
        for bid in bids:
            assert bid.ledger_index >= 0, bid.bid_ref
            assert bid.receipt, bid.bid_ref
            assert services.storage.exists(bid.storage_key), bid.bid_ref
            assert await db.get(LedgerEntry, bid.ledger_index) is not None
            if bid.state == BidState.DECRYPTED.value:
                assert bid.decrypted_at, bid.bid_ref
                assert bid.decrypted_via, bid.bid_ref
                assert bid.wrapped_file_key, bid.bid_ref
                assert bid.bid_form, bid.bid_ref
            else:
                assert bid.decrypted_at is None, bid.bid_ref
                assert bid.wrapped_file_key is None, bid.bid_ref
                assert bid.bid_form is None, bid.bid_ref
        for upload in (await db.scalars(select(UploadSession))).all():
            if upload.state == UploadState.COMPLETE.value:
                assert upload.bid_id in {b.id for b in bids}


async def integrity_problems(services: Any) -> list[str]:
    """What ``tenderhall check`` reports, run in-process (the command costs a process start)."""
    from tenderhall.compose import domain_plugins
    from tenderhall.integrity import check_integrity

    checks = [c for p in domain_plugins() if (c := getattr(p, "check_integrity", None)) is not None]
    async with services.sessionmaker() as db:
        return await check_integrity(services, db, checks)


def token(scene_bidder: Any) -> str:
    return str(scene_bidder.headers["Authorization"].split()[1])


def check(run_cli: Any, database_url: str) -> None:
    result = run_cli(database_url, "check")
    assert result.returncode == 0, result.stderr
    assert "integrity OK" in result.stdout


def write_envelope(tmp_path: Path, name: str, blob: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(blob)
    return path


def client_submit(base: str, scene: Scene, who: int, path: Path, bid: str) -> dict[str, Any]:
    """The bidder client's own submit: start (or resume by idempotency key), upload, complete."""
    bidder = scene.bidders[who]
    api = client_api.Api(base, token(bidder))
    try:
        return client_api.submit(
            api, bidder.keys, path, str(scene.tender_id), bid, bidder.uscc, f"dev-{bidder.name}"
        )
    finally:
        api.close()
