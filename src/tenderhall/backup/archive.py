"""Backup and restore: every table as JSON Lines plus every blob (and optionally the platform keys)
in one tar file.

The tables are read in one read-only snapshot transaction, so the dump is consistent without
stopping the platform (SQLite: a deferred transaction over WAL, which never takes the write lock;
PostgreSQL: REPEATABLE READ). Blobs are listed after the snapshot: they are content-addressed and
written before the rows that name them commit, so every blob the snapshot refers to is there.
The format is the same for both backends, so a backup of SQLite restores into PostgreSQL too.

A restore checks the whole file before it changes anything, stores the blobs (each checked
against its key), then loads every row in one transaction: it lands whole or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import anyio
from sqlalchemy import Integer, MetaData, Table, delete, event, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tenderhall.backup.rows import RowError, decode_row, encode_row
from tenderhall.files import write_bytes
from tenderhall.storage import CHUNK, Storage, StorageError, check_key

FORMAT = "tenderhall-backup/1"
MANIFEST = "manifest.json"
BATCH = 1000
# A manifest is a few kilobytes; anything bigger is not ours.
MANIFEST_LIMIT = 1 << 20
# Rows the migrations themselves put in (the empty ledger's head): a new database has them, and a
# restore replaces them.
SEEDED_BY_MIGRATIONS = frozenset({"ledger_head"})


class BackupError(Exception):
    """A backup could not be made or a file cannot be restored; nothing was changed."""


@dataclass
class Summary:
    revision: str
    tables: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    blob_bytes: int = 0
    secrets: bool = False


@contextlib.asynccontextmanager
async def _snapshot(url: str) -> AsyncIterator[AsyncConnection]:
    """A read-only connection that sees one consistent state of every table."""
    sqlite = url.startswith("sqlite")
    engine = create_async_engine(url)
    if sqlite:

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves

    try:
        async with engine.connect() as conn:
            if sqlite:
                await conn.exec_driver_sql("BEGIN DEFERRED")
                yield conn
                await conn.exec_driver_sql("COMMIT")
            else:
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
                async with conn.begin():
                    await conn.execute(text("SET TRANSACTION READ ONLY"))
                    yield conn
    finally:
        await engine.dispose()


def _tables(metadata: MetaData) -> list[Table]:
    return list(metadata.sorted_tables)


async def _dump_table(conn: AsyncConnection, table: Table, out: IO[bytes]) -> int:
    count = 0
    result = await conn.stream(select(table).order_by(*table.primary_key.columns))
    async for partition in result.partitions(BATCH):
        for row in partition:
            out.write(encode_row(dict(row._mapping)))
            count += 1
    return count


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Checked(io.RawIOBase):
    """Reads a blob into the tar while hashing it: a damaged blob stops the backup."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    tar.addfile(info, io.BytesIO(data))


# A secret is a key or a key with its certificates (the archive signer's PEM is about 6 KB).
MAX_SECRET_BYTES = 64 * 1024


def _secret_files(secrets_dir: Path) -> list[Path]:
    return sorted(p for p in secrets_dir.iterdir() if p.is_file()) if secrets_dir.is_dir() else []


async def _dump_tables(database_url: str, metadata: MetaData, head: str, workdir: Path) -> Summary:
    """Every table into ``workdir/<table>.jsonl`` from one snapshot."""
    summary = Summary(revision=head)
    async with _snapshot(database_url) as conn:
        revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        if revision != head:
            raise BackupError(
                f"the database is at schema revision {revision}, not {head}: run `tenderhall db upgrade`"
            )
        for table in _tables(metadata):
            with (workdir / f"{table.name}.jsonl").open("wb") as handle:
                summary.tables[table.name] = await _dump_table(conn, table, handle)
    return summary


def _assemble(
    summary: Summary, storage: Storage, workdir: Path, out: Path, now: datetime, secrets_dir: Path | None
) -> None:
    """The tar file: manifest, tables, keys, then every blob re-hashed on its way in."""
    blobs = list(storage.blobs())
    summary.blobs = len(blobs)
    summary.blob_bytes = sum(size for _, size in blobs)
    secrets = _secret_files(secrets_dir) if secrets_dir is not None else []
    summary.secrets = bool(secrets)
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "revision": summary.revision,
        "tables": [
            {"name": n, "rows": rows, "sha256": _sha256_file(workdir / f"{n}.jsonl")}
            for n, rows in summary.tables.items()
        ],
        "blobs": {"count": summary.blobs, "bytes": summary.blob_bytes},
        "secrets": [p.name for p in secrets],
    }
    partial = workdir / "backup.tar"
    stamp = now.timestamp()
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode(), stamp)
        for name in summary.tables:
            tar.add(workdir / f"{name}.jsonl", arcname=f"tables/{name}.jsonl", recursive=False)
        for path in secrets:
            _add_bytes(tar, f"secrets/{path.name}", path.read_bytes(), stamp)
        for key, size in blobs:
            info = tarfile.TarInfo(f"blobs/{key}")
            info.size = size
            info.mtime = int(stamp)
            try:
                with storage.open(key) as source:
                    checked = _Checked(source)
                    tar.addfile(info, io.BufferedReader(checked, CHUNK))
            except (StorageError, OSError) as exc:
                raise BackupError(f"blob {key} could not be read: {exc}") from None
            if checked.digest.hexdigest() != key:
                raise BackupError(f"blob {key} is damaged in storage (its content hashes otherwise)")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, out)


async def create_backup(
    database_url: str,
    metadata: MetaData,
    storage: Storage,
    out: Path,
    *,
    head: str,
    now: datetime,
    secrets_dir: Path | None = None,
) -> Summary:
    """Write the backup to ``out`` (whole or not at all: a temporary file renamed into place)."""
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=out.parent) as work:
        workdir = Path(work)
        summary = await _dump_tables(database_url, metadata, head, workdir)
        await anyio.to_thread.run_sync(_assemble, summary, storage, workdir, out, now, secrets_dir)
    return summary


# -- restore -----------------------------------------------------------------------------------------


@dataclass
class _Plan:
    manifest: dict[str, Any]
    tar: tarfile.TarFile
    tables: dict[str, tarfile.TarInfo]
    blobs: list[tarfile.TarInfo]
    secrets: dict[str, bytes]


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError("not a TenderHall backup (no manifest)") from None
    handle = tar.extractfile(member)
    if handle is None or member.size > MANIFEST_LIMIT:
        raise BackupError("not a TenderHall backup (bad manifest)")
    try:
        manifest = json.loads(handle.read())
    except ValueError:
        raise BackupError("not a TenderHall backup (the manifest is not JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"not a {FORMAT} file")
    return manifest


def _check(tar: tarfile.TarFile, metadata: MetaData, head: str) -> _Plan:
    """Everything about the file that can be checked before anything is written."""
    manifest = _read_manifest(tar)
    if manifest.get("revision") != head:
        raise BackupError(
            f"the backup is of schema revision {manifest.get('revision')}; this TenderHall is at {head}: "
            "restore it with the release that made it, then upgrade"
        )
    members = {m.name: m for m in tar.getmembers()}
    known = {t.name for t in _tables(metadata)}
    tables: dict[str, tarfile.TarInfo] = {}
    try:
        for entry in manifest["tables"]:
            name, digest = str(entry["name"]), str(entry["sha256"])
            if name not in known:
                raise BackupError(f"the backup has a table {name!r} this TenderHall does not know")
            member = members.get(f"tables/{name}.jsonl")
            if member is None or not member.isfile():
                raise BackupError(f"table {name} is missing from the file")
            handle = tar.extractfile(member)
            assert handle is not None
            hashed = hashlib.sha256()
            while chunk := handle.read(CHUNK):
                hashed.update(chunk)
            if hashed.hexdigest() != digest:
                raise BackupError(f"table {name} is damaged (its SHA-256 differs from the manifest)")
            tables[name] = member
        blobs = [m for n, m in members.items() if n.startswith("blobs/")]
        if len(blobs) != int(manifest["blobs"]["count"]):
            raise BackupError("blobs are missing from the file")
        for member in blobs:
            if not member.isfile():
                raise BackupError(f"{member.name} is not a file")
            check_key(member.name.removeprefix("blobs/"))
        secrets: dict[str, bytes] = {}
        for name in manifest["secrets"]:
            member = members.get(f"secrets/{name}")
            handle = tar.extractfile(member) if member is not None else None
            bad_name = "/" in name or name.startswith(".")
            if handle is None or bad_name or member is None or member.size > MAX_SECRET_BYTES:
                raise BackupError(f"secret {name!r} is missing or malformed")
            secrets[name] = handle.read()
    except (KeyError, TypeError, ValueError, StorageError) as exc:
        raise BackupError(f"the manifest is malformed: {exc}") from None
    return _Plan(manifest, tar, tables, blobs, secrets)


async def _ensure_empty(conn: AsyncConnection, metadata: MetaData) -> None:
    for table in _tables(metadata):
        if table.name in SEEDED_BY_MIGRATIONS:
            continue
        if (await conn.execute(select(1).select_from(table).limit(1))).first() is not None:
            raise BackupError(
                f"the database is not empty (table {table.name} has rows): restore needs a new one"
            )


def _rows(plan: _Plan, table: Table) -> Iterator[dict[str, Any]]:
    handle = plan.tar.extractfile(plan.tables[table.name])
    assert handle is not None
    columns = frozenset(c.key for c in table.columns)
    for number, line in enumerate(handle, start=1):
        try:
            yield decode_row(line, columns)
        except RowError as exc:
            raise BackupError(f"table {table.name}, row {number}: {exc}") from None


async def _load_table(conn: AsyncConnection, plan: _Plan, table: Table) -> int:
    """Insert in batches; a column that points into its own table (a bid superseded by a later
    one) is filled in afterwards, so row order never trips a foreign key."""
    own = [fk.parent for fk in table.foreign_keys if fk.column.table is table]
    pk = list(table.primary_key.columns)
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    count = 0
    for row in _rows(plan, table):
        links = {c.key: row[c.key] for c in own if row.get(c.key) is not None}
        if links:
            later.append({**{c.key: row[c.key] for c in pk}, **links})
            row.update(dict.fromkeys(links))
        batch.append(row)
        if len(batch) >= BATCH:
            await conn.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        await conn.execute(insert(table), batch)
        count += len(batch)
    for link in later:
        where = [c == link[c.key] for c in pk]
        await conn.execute(
            update(table).where(*where).values({k: link[k] for k in link if k not in {c.key for c in pk}})
        )
    return count


async def _reset_sequences(conn: AsyncConnection, metadata: MetaData) -> None:
    """PostgreSQL: a serial or identity key continues after the restored rows."""
    for table in _tables(metadata):
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        column = pk[0].name
        found = await conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column}
        )
        sequence = found.scalar()
        if sequence is not None:
            # Table and column names come from our own metadata, never from the file.
            last = f"SELECT COALESCE(max({column}), 0) + 1 FROM {table.name}"  # noqa: S608
            await conn.execute(text(f"SELECT setval(:s, ({last}), false)"), {"s": sequence})


async def _store_blobs(plan: _Plan, storage: Storage) -> None:
    for member in plan.blobs:
        key = member.name.removeprefix("blobs/")
        if storage.exists(key):
            continue
        handle = plan.tar.extractfile(member)
        assert handle is not None

        async def chunks(source: IO[bytes] = handle) -> AsyncIterator[bytes]:
            while chunk := source.read(CHUNK):
                yield chunk

        stored = await storage.put(chunks(), limit=member.size)
        if stored.key != key:
            raise BackupError(f"blob {key} is damaged in the file (its content hashes otherwise)")


def _check_secrets(plan: _Plan, secrets_dir: Path, required: tuple[str, ...]) -> None:
    for name, data in plan.secrets.items():
        path = secrets_dir / name
        if path.exists() and path.read_bytes() != data:
            raise BackupError(f"{path} exists and differs from the backup's: move it away first")
    missing = [n for n in required if n not in plan.secrets and not (secrets_dir / n).exists()]
    if missing:
        raise BackupError(
            f"the backup carries no platform keys ({', '.join(missing)}): it was made without "
            f"--with-secrets, so put the original keys into {secrets_dir} first"
        )


def _write_secrets(plan: _Plan, secrets_dir: Path) -> None:
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, data in plan.secrets.items():
        with contextlib.suppress(FileExistsError):  # the same key is already in place (checked)
            write_bytes(secrets_dir / name, data, replace=False)


async def restore_backup(
    source: Path,
    engine: AsyncEngine,
    metadata: MetaData,
    storage: Storage,
    *,
    head: str,
    secrets_dir: Path,
    required_secrets: tuple[str, ...],
) -> Summary:
    """Restore ``source`` into an empty, migrated database and the configured storage."""
    try:
        tar = tarfile.open(source, "r:")  # noqa: SIM115 - closed below, after the plan is used
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {source}: {exc}") from None
    with tar:
        try:
            plan = _check(tar, metadata, head)
            _check_secrets(plan, secrets_dir, required_secrets)
            async with engine.connect() as conn:
                await _ensure_empty(conn, metadata)
            await _store_blobs(plan, storage)
            summary = Summary(revision=head, blobs=len(plan.blobs), secrets=bool(plan.secrets))
            summary.blob_bytes = sum(m.size for m in plan.blobs)
            async with engine.begin() as conn:
                await _ensure_empty(conn, metadata)
                for table in _tables(metadata):
                    if table.name in SEEDED_BY_MIGRATIONS:
                        await conn.execute(delete(table))
                    if table.name in plan.tables:
                        summary.tables[table.name] = await _load_table(conn, plan, table)
                if engine.dialect.name == "postgresql":
                    await _reset_sequences(conn, metadata)
        except tarfile.TarError as exc:
            raise BackupError(f"the file is damaged: {exc}") from None
        _write_secrets(plan, secrets_dir)
    return summary
