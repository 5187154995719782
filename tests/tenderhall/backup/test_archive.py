"""The backup drill: a whole demo platform is backed up while it runs, restored into a new database
and folder (on the same backend and from SQLite into PostgreSQL), and the restored platform's every
envelope hash matches the ledger. Damaged or unusable backups are refused before anything changes."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import BACKENDS

CHEAP = {"TENDERHALL_ARGON2_TIME_COST": "1", "TENDERHALL_ARGON2_MEMORY_KIB": "1024"}

pytestmark = pytest.mark.slow


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    async def go() -> list[tuple[Any, ...]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(row) for row in (await conn.execute(text(sql))).all()]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _rows(url: str, table: str) -> int:
    found = _query(url, f"SELECT count(*) FROM {table}")
    return int(found[0][0])


def _bids(url: str) -> list[tuple[Any, ...]]:
    return sorted(_query(url, "SELECT bid_ref, envelope_sha256, storage_key, ledger_index FROM bids"))


def _damage(source: Path, target: Path, member_prefix: str) -> str:
    """A copy of ``source`` with one byte flipped inside the first member named ``member_prefix*``."""
    shutil.copyfile(source, target)
    with tarfile.open(source) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith(member_prefix) and m.size > 0)
    with target.open("r+b") as handle:
        handle.seek(member.offset_data)
        byte = handle.read(1)
        handle.seek(member.offset_data)
        handle.write(bytes([byte[0] ^ 0x01]))
    return member.name


def _blob_path(data_dir: Path, key: str) -> Path:
    return data_dir / "storage" / key[:2] / key[2:4] / key


def test_backup_restore_drill(
    empty_database_url: str, make_empty_database: Any, run_cli: Any, tmp_path: Path
) -> None:
    source_dir = tmp_path / "source"
    seeded = run_cli(empty_database_url, "demo", data_dir=source_dir, extra_env=CHEAP)
    assert seeded.returncode == 0, seeded.stderr
    source_bids = _bids(empty_database_url)
    assert len(source_bids) >= 5

    full, bare = tmp_path / "full.tar", tmp_path / "bare.tar"
    made = run_cli(empty_database_url, "backup", str(full), "--with-secrets", data_dir=source_dir)
    assert made.returncode == 0, made.stderr
    assert "with the platform keys" in made.stdout
    assert run_cli(empty_database_url, "backup", str(bare), data_dir=source_dir).returncode == 0
    again = run_cli(empty_database_url, "backup", str(full), data_dir=source_dir)
    assert again.returncode == 1
    assert again.stderr.strip().endswith("exists: choose a new name")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".backup-")]  # no leftovers

    backend = "sqlite" if empty_database_url.startswith("sqlite") else "postgresql"
    target = make_empty_database(backend)
    target_dir = tmp_path / "target"

    # Refused before anything changes: no platform keys, a damaged table, a damaged blob.
    refused = run_cli(target, "restore", str(bare), data_dir=target_dir, extra_env=CHEAP)
    assert refused.returncode == 1
    assert "carries no platform keys" in refused.stderr
    for prefix, words in (("tables/bids", "table bids is damaged"), ("blobs/", "is damaged in the file")):
        damaged = tmp_path / f"damaged-{prefix.replace('/', '-')}.tar"
        _damage(full, damaged, prefix)
        result = run_cli(target, "restore", str(damaged), data_dir=target_dir, extra_env=CHEAP)
        assert result.returncode == 1
        assert words in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert _rows(target, "users") == 0
    assert _rows(target, "ledger_entries") == 0
    assert not (target_dir / "secrets").exists()

    restored = run_cli(target, "restore", str(full), data_dir=target_dir, extra_env=CHEAP)
    assert restored.returncode == 0, restored.stderr
    assert "integrity OK" in restored.stdout

    # The drill's proof, checked here independently of the restore's own check: the same bids, each
    # envelope in the new storage hashing to the recorded SHA-256, and the same ledger root.
    assert _bids(target) == source_bids
    for _ref, envelope_sha256, storage_key, _index in source_bids:
        blob = _blob_path(target_dir, storage_key).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == envelope_sha256
    source_ledger = run_cli(empty_database_url, "ledger", "verify", data_dir=source_dir)
    target_ledger = run_cli(target, "ledger", "verify", data_dir=target_dir)
    assert target_ledger.returncode == 0, target_ledger.stderr
    assert target_ledger.stdout.split("root ")[1] == source_ledger.stdout.split("root ")[1]
    assert (target_dir / "secrets" / "data.key").stat().st_mode & 0o077 == 0

    twice = run_cli(target, "restore", str(full), data_dir=target_dir, extra_env=CHEAP)
    assert twice.returncode == 1
    assert "not empty" in twice.stderr

    # A damaged envelope in the restored storage is caught by the integrity check, by bid.
    ref, _sha, storage_key, _index = source_bids[0]
    path = _blob_path(target_dir, storage_key)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    checked = run_cli(target, "check", data_dir=target_dir)
    assert checked.returncode == 1
    assert f"bid {ref}" in checked.stderr
    assert "integrity check FAILED" in checked.stderr


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL (TENDERHALL_TEST_BACKENDS)")
def test_a_sqlite_platform_restores_into_postgresql(
    make_empty_database: Any, run_cli: Any, tmp_path: Path
) -> None:
    source, target = make_empty_database("sqlite"), make_empty_database("postgresql")
    assert run_cli(source, "demo", data_dir=tmp_path / "a", extra_env=CHEAP).returncode == 0
    backup = tmp_path / "b.tar"
    assert run_cli(source, "backup", str(backup), "--with-secrets", data_dir=tmp_path / "a").returncode == 0
    restored = run_cli(target, "restore", str(backup), data_dir=tmp_path / "b", extra_env=CHEAP)
    assert restored.returncode == 0, restored.stderr
    assert "integrity OK" in restored.stdout
    assert _bids(target) == _bids(source)
    # A restored platform keeps working: its backup restores again.
    again = tmp_path / "c.tar"
    assert run_cli(target, "backup", str(again), data_dir=tmp_path / "b").returncode == 0
    with tarfile.open(again) as tar:
        names = tar.getnames()
    assert "manifest.json" in names
    assert not [n for n in names if n.startswith("secrets/")]


def test_a_file_that_is_not_a_backup_is_refused(database_url: str, run_cli: Any, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00" * 2048)
    result = run_cli(database_url, "restore", str(junk), extra_env=CHEAP)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "restore refused" in result.stderr
