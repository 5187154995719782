"""`tenderhall ledger verify` and `tenderhall ledger checkpoint`, run as a bidder or auditor would:
a separate process pointed at the test's database and at the secrets the test's services use."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import rfc8785
from sqlalchemy import text

from tenderhall.ledger.checkpoint import open_checkpoint
from tenderhall.services import Services
from tests.tenderhall.ledger.tamper import rewrite

EXE = Path(sys.executable).with_name("tenderhall")


def tenderhall(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    settings = services.settings
    env = {
        **os.environ,
        "TENDERHALL_DATABASE_URL": settings.database_url,
        "TENDERHALL_DATA_DIR": str(settings.data_dir),
        "TENDERHALL_SECRETS_DIR": str(settings.secrets_dir),
        "TENDERHALL_LEDGER_ORIGIN": settings.ledger_origin,
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [str(EXE), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def run(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    # Off the event loop, so the loop stays free while the child holds the database.
    return await asyncio.to_thread(tenderhall, services, *args)


async def append_many(services: Services, n: int) -> None:
    for start in range(0, n, 25):
        async with services.transaction() as db:
            for i in range(start, min(start + 25, n)):
                await services.ledger.append(db, "cli.test", {"i": i})


async def tree_head(services: Services) -> tuple[int, bytes]:
    async with services.sessionmaker() as db:
        return await services.ledger.tree_head(db)


async def test_checkpoint_saved_then_verified(services: Services, tmp_path: Path) -> None:
    await append_many(services, 60)
    async with services.transaction() as db:
        await services.ledger.checkpoint(db, "milestone")
    result = await run(services, "ledger", "checkpoint")
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "checkpoint.txt"
    saved.write_text(result.stdout, encoding="utf-8")
    cp = open_checkpoint(result.stdout, services.ledger.verifier, services.ledger.origin)
    assert (cp.size, cp.root) == await tree_head(services)

    await append_many(services, 17)  # the log grows; the saved checkpoint must still match its prefix
    result = await run(services, "ledger", "verify", "--checkpoint", str(saved))
    assert result.returncode == 0, result.stderr
    size, _ = await tree_head(services)
    assert f"ledger OK: {size} entries" in result.stdout
    assert "2 checkpoints matched" in result.stdout  # the stored one and the saved one


async def test_verify_names_the_first_bad_index(services: Services) -> None:
    await append_many(services, 60)
    async with services.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            await conn.execute(text("DROP TRIGGER ledger_entries_no_update"))
        else:
            await conn.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER USER"))
        for index in (41, 23):  # two damaged entries: the first one must be named
            body = (
                await conn.execute(text("SELECT body FROM ledger_entries WHERE id = :i"), {"i": index})
            ).scalar_one()
            value = json.loads(body)
            value["data"]["i"] = -1
            await conn.execute(
                text("UPDATE ledger_entries SET body = :b WHERE id = :i"),
                {"b": rfc8785.dumps(value), "i": index},
            )
    result = await run(services, "ledger", "verify")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "first bad index 23" in lines[0]
    assert "Traceback" not in result.stderr


async def test_verify_catches_a_rewrite_with_a_saved_checkpoint(services: Services, tmp_path: Path) -> None:
    await append_many(services, 40)
    saved = tmp_path / "checkpoint.txt"
    saved.write_text((await run(services, "ledger", "checkpoint")).stdout, encoding="utf-8")
    # A full, consistent rewrite: every hash, node and the head recomputed after editing entry 5.
    await rewrite(services, lambda index: index == 5)
    # (On its own the rewritten log is self-consistent: test_ledger_tamper shows that in-process.)
    result = await run(services, "ledger", "verify", "--checkpoint", str(saved))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "does not match the saved checkpoint" in result.stderr


async def test_verify_with_a_foreign_checkpoint_is_one_line(services: Services, tmp_path: Path) -> None:
    await append_many(services, 3)
    path = tmp_path / "forged.txt"  # signed with another key under the log's own name
    path.write_text(forged_note(services), encoding="utf-8")
    result = await run(services, "ledger", "verify", "--checkpoint", str(path))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "saved checkpoint #1 does not verify" in result.stderr


def forged_note(services: Services) -> str:
    from tenderhall.ledger.checkpoint import Checkpoint, sign_checkpoint
    from tenderhall.ledger.note import Signer

    other = Signer.generate(services.ledger.origin)  # same name, different key
    return sign_checkpoint(Checkpoint(services.ledger.origin, 3, bytes(32)), other)
