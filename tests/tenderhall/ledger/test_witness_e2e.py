"""Two deployments as separate `tenderhall serve` processes, B witnessing A's ledger (C2SP
tlog-witness): A's checkpoints get B's cosignature; a rewrite of A's newest entries, made directly in
A's database with nothing saved anywhere, is refused by B and caught by `tenderhall ledger verify`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenderhall.compose import build_services
from tenderhall.ledger.checkpoint import Checkpoint, sign_checkpoint
from tenderhall.ledger.cosignature import CosignatureVerifier, open_cosigned_checkpoint
from tenderhall.ledger.note import Signer, Verifier
from tenderhall.ledger.tlog_witness import SIZE_MEDIA_TYPE, encode_add_checkpoint, origin_hash
from tenderhall.services import Services
from tenderhall.settings import Settings
from tests.conftest import migrated_database
from tests.tenderhall.ledger.tamper import rewrite
from tests.tenderhall.test_serve import free_port, wait_healthy

pytestmark = pytest.mark.slow

ORIGIN_A = "a.test/tenderhall/ledger"
WITNESS_B = "b.test/tenderhall/witness"


@pytest.fixture
def second_database_url(database_url: str, templates: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """Deployment B's own database, on the same backend as ``database_url`` (deployment A's)."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with migrated_database(backend, templates, tmp_path / "b.db") as url:
        yield url


def deployment_env(data_dir: Path, port: int, origin: str, **extra: str) -> dict[str, str]:
    return {
        "TENDERHALL_DATA_DIR": str(data_dir),
        "TENDERHALL_BASE_URL": f"http://127.0.0.1:{port}",
        "TENDERHALL_LEDGER_ORIGIN": origin,
        "TENDERHALL_ARGON2_TIME_COST": "1",
        "TENDERHALL_ARGON2_MEMORY_KIB": "1024",
        **{f"TENDERHALL_{k}": v for k, v in extra.items()},
    }


def keys_of(run_cli: Any, database_url: str, env: dict[str, str]) -> dict[str, str]:
    result = run_cli(database_url, "ledger", "keys", extra_env=env)
    assert result.returncode == 0, result.stderr
    return dict(line.split(" ", 1) for line in result.stdout.splitlines())


def services_of(database_url: str, data_dir: Path) -> Services:
    return build_services(
        Settings(
            data_dir=data_dir,
            database_url=database_url,
            secrets_dir=data_dir / "secrets",
            storage_dir=data_dir / "storage",
            base_url="http://127.0.0.1",
            ledger_origin=ORIGIN_A,
            null_pool=True,
        )
    )


async def grow(services: Services, n: int, reason: str) -> int:
    async with services.transaction() as db:
        for i in range(n):
            await services.ledger.append(db, "witness.test", {"i": i, "reason": reason})
        return (await services.ledger.checkpoint(db, reason)).size


def wait_for(what: str, check: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def test_witnessed_ledger_between_two_deployments(
    database_url: str, second_database_url: str, run_cli: Any, spawn_cli: Any, tmp_path: Path
) -> None:
    port_a, port_b = free_port(), free_port()
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    env_b = deployment_env(dir_b, port_b, "b.test/tenderhall/ledger", WITNESS_NAME=WITNESS_B)
    keys_a = await asyncio.to_thread(keys_of, run_cli, database_url, deployment_env(dir_a, port_a, ORIGIN_A))
    keys_b = await asyncio.to_thread(keys_of, run_cli, second_database_url, env_b)
    witness_url = f"http://127.0.0.1:{port_b}/api/v1/witness"
    env_a = deployment_env(
        dir_a, port_a, ORIGIN_A, WITNESSES=f"{witness_url} {keys_b['witness']}", WITNESS_TIMEOUT="3"
    )
    env_b["TENDERHALL_WITNESS_LOGS"] = keys_a["ledger"]
    log_key = Verifier.from_key_string(keys_a["ledger"])
    witness_key = CosignatureVerifier.from_key_string(keys_b["witness"])
    assert witness_key.name == WITNESS_B

    proc_b = spawn_cli(second_database_url, "serve", "--port", str(port_b), "--no-migrate", extra_env=env_b)
    proc_a = spawn_cli(database_url, "serve", "--port", str(port_a), "--no-migrate", extra_env=env_a)
    base_a, base_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    await asyncio.to_thread(wait_healthy, base_b, proc_b)
    await asyncio.to_thread(wait_healthy, base_a, proc_a)
    services = services_of(database_url, dir_a)
    http = httpx.AsyncClient(timeout=10)
    try:
        assert (await http.get(f"{witness_url}/key")).text.strip() == keys_b["witness"]

        def cosigned_size() -> int:
            answer = httpx.get(f"{base_a}/api/v1/ledger/checkpoint/cosigned", timeout=5)
            if answer.status_code != 200:
                return 0
            cp, cosigs = open_cosigned_checkpoint(answer.text, log_key, ORIGIN_A, [witness_key])
            assert [c.name for c in cosigs] == [WITNESS_B]
            return cp.size

        # A publishes checkpoints; its sweeper asks B, first from the empty tree, then with a proof.
        assert await grow(services, 20, "first") == 20
        assert await asyncio.to_thread(wait_for, "a cosignature of size 20", lambda: cosigned_size() == 20)
        assert await grow(services, 10, "second") == 30
        assert await asyncio.to_thread(wait_for, "a cosignature of size 30", lambda: cosigned_size() == 30)
        monitored = await http.get(f"{witness_url}/{origin_hash(ORIGIN_A)}/checkpoint")
        cp, cosigs = open_cosigned_checkpoint(monitored.text, log_key, ORIGIN_A, [witness_key])
        assert (cp.size, len(cosigs)) == (30, 1)

        verified = await asyncio.to_thread(run_cli, database_url, "ledger", "verify", extra_env=env_a)
        assert verified.returncode == 0, verified.stderr
        assert f"witnessed by {WITNESS_B} at 30" in verified.stdout

        # The witness keeps its state: a stale old size gets 409 with its size as text/x.tlog.size,
        # and another root for the size it cosigned (a fork shown to someone else) gets 422.
        signer = Signer.from_key_string((dir_a / "secrets" / "ledger-signing.key").read_text().strip())
        forked = sign_checkpoint(Checkpoint(ORIGIN_A, 30, bytes(32)), signer)
        stale = await http.post(
            f"{witness_url}/add-checkpoint", content=encode_add_checkpoint(20, [], forked)
        )
        assert stale.status_code == 409
        assert stale.headers["content-type"].startswith(SIZE_MEDIA_TYPE)
        assert stale.text == "30\n"
        fork = await http.post(f"{witness_url}/add-checkpoint", content=encode_add_checkpoint(30, [], forked))
        assert fork.status_code == 422
        assert fork.headers["content-type"] == "application/problem+json"
        assert fork.json()["code"] == "witness.inconsistent"
        unknown = sign_checkpoint(Checkpoint("c.test/log", 1, bytes(32)), Signer.generate("c.test/log"))
        stranger = await http.post(
            f"{witness_url}/add-checkpoint", content=encode_add_checkpoint(0, [], unknown)
        )
        assert stranger.status_code == 404

        # The rewrite: entries 25..29 changed, everything recomputed, covering checkpoints dropped.
        await rewrite(services, lambda index: index >= 25, drop_from=25)
        offline = await asyncio.to_thread(
            run_cli, database_url, "ledger", "verify", "--offline", extra_env=env_a
        )
        assert offline.returncode == 0, offline.stderr  # nothing left in A's database shows it
        caught = await asyncio.to_thread(run_cli, database_url, "ledger", "verify", extra_env=env_a)
        assert caught.returncode == 1
        [line] = caught.stderr.strip().splitlines()
        assert f"latest checkpoint witness {WITNESS_B} cosigned" in line
        assert "entries in [20, 30) were rewritten" in line

        # The rewritten log grows; B refuses to cosign it, and A records why (and retries later).
        assert await grow(services, 5, "after the rewrite") == 35

        def refusal() -> str:
            [state] = httpx.get(f"{base_a}/api/v1/ledger/witnesses", timeout=5).json()
            return str(state["last_error"] or "")

        error = await asyncio.to_thread(wait_for, "the witness's refusal", refusal)
        assert "refused with 422" in error
        assert "does not extend the one cosigned at size 30" in error
        monitored = await http.get(f"{witness_url}/{origin_hash(ORIGIN_A)}/checkpoint")
        assert open_cosigned_checkpoint(monitored.text, log_key, ORIGIN_A, [witness_key])[0].size == 30
        assert cosigned_size() == 20  # nothing newer was cosigned
    finally:
        await http.aclose()
        await services.engine.dispose()
