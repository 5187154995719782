"""Blob storage: every behaviour on both backends, the local folder and an S3-compatible server
(moto in its own process, over HTTP); then what only S3 has (multipart uploads, resumed reads) and
the settings that choose the backend."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import tracemalloc
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenderhall.services import make_storage
from tenderhall.settings import Settings, SettingsError
from tenderhall.storage import LocalStorage, Storage, StorageError, Stored, TooLarge, parse_s3_url
from tenderhall.storage.s3 import MIN_PART_SIZE, S3Storage, connect
from tests.s3server import S3Server, s3_server_fixture  # noqa: F401  (the fixture s3_server)

PART = MIN_PART_SIZE  # the S3 backend under test uses the smallest parts S3 allows
MIB = 1 << 20


@dataclass
class Backend:
    storage: Storage
    # Everything the backend holds: blobs, temporary uploads and (S3) unfinished multipart uploads.
    contents: Callable[[], list[str]]
    blob_name: Callable[[str], str]


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        root = tmp_path / "storage"
        return Backend(
            LocalStorage(root),
            lambda: sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()),
            lambda key: f"{key[:2]}/{key[2:4]}/{key}",
        )
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    storage = S3Storage(server.client(), bucket, "th/blobs-test/", part_size=PART)
    return Backend(
        storage,
        lambda: sorted(server.objects(bucket) + [f"multipart:{k}" for k in server.multipart_uploads(bucket)]),
        lambda key: f"th/blobs-test/blobs/{key}",
    )


async def stream(data: bytes, chunk: int = 70_001) -> AsyncIterator[bytes]:
    for i in range(0, len(data), chunk):
        yield data[i : i + chunk]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_put_stores_under_the_sha256_and_reads_back(backend: Backend) -> None:
    data = b"tender document\n" * 1000
    stored = await backend.storage.put(stream(data), len(data))
    assert stored == Stored(key=sha(data), sha256=sha(data), size=len(data))
    assert backend.contents() == [backend.blob_name(stored.key)]
    assert backend.storage.exists(stored.key)
    assert b"".join([c async for c in backend.storage.read(stored.key)]) == data
    with backend.storage.open(stored.key) as handle:
        assert handle.read() == data


async def test_blobs_lists_every_stored_blob_in_key_order_and_nothing_else(backend: Backend) -> None:
    assert list(backend.storage.blobs()) == []
    contents = [b"a" * 10, b"b" * 20_000, b""]
    for data in contents:
        await backend.storage.put(stream(data), len(data))
    with contextlib.suppress(TooLarge):  # a refused upload leaves no blob to list
        await backend.storage.put(stream(b"c" * 100), 50)
    assert list(backend.storage.blobs()) == sorted((sha(d), len(d)) for d in contents)


async def test_empty_blob(backend: Backend) -> None:
    stored = await backend.storage.put(stream(b""), 10)
    assert (stored.key, stored.size) == (sha(b""), 0)
    with backend.storage.open(stored.key) as handle:
        assert handle.read() == b""


async def test_same_content_is_stored_once(backend: Backend, tmp_path: Path) -> None:
    small, big = b"same" * 100, os.urandom(PART + 3)
    source = tmp_path / "big.bin"
    source.write_bytes(big)
    first = [
        await backend.storage.put(stream(small), len(small)),
        await backend.storage.put_file(source, len(big)),
    ]
    again = [
        await backend.storage.put(stream(small), len(small)),
        await backend.storage.put(stream(big), len(big)),
    ]
    assert first == again
    assert backend.contents() == sorted(backend.blob_name(s.key) for s in first)


async def test_blob_bigger_than_a_part_streams_through(backend: Backend) -> None:
    """On S3 this is the multipart path: two full parts, a short last one, then a copy into place."""
    data = os.urandom(2 * PART + 12_345)
    stored = await backend.storage.put(stream(data, chunk=1 * MIB + 7), len(data))
    assert (stored.key, stored.size) == (sha(data), len(data))
    assert backend.contents() == [backend.blob_name(stored.key)]
    with backend.storage.open(stored.key) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == stored.key


async def test_exactly_one_part(backend: Backend) -> None:
    data = os.urandom(PART)
    stored = await backend.storage.put(stream(data, chunk=PART), PART)
    assert backend.contents() == [backend.blob_name(stored.key)]
    with backend.storage.open(stored.key) as handle:
        assert handle.read() == data


@pytest.mark.parametrize("size", [1000, 2 * PART + 5])
async def test_put_file(backend: Backend, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    source = tmp_path / "envelope.age"
    source.write_bytes(data)
    stored = await backend.storage.put_file(source, size)
    assert (stored.key, stored.size) == (sha(data), size)
    assert source.read_bytes() == data  # left for its owner
    assert backend.contents() == [backend.blob_name(stored.key)]
    with backend.storage.open(stored.key) as handle:
        assert handle.read() == data


@pytest.mark.parametrize("size", [1000, 2 * PART + 5])
async def test_put_file_over_the_limit_stores_nothing(backend: Backend, tmp_path: Path, size: int) -> None:
    source = tmp_path / "envelope.age"
    source.write_bytes(os.urandom(size))
    with pytest.raises(TooLarge):
        await backend.storage.put_file(source, size - 1)
    assert backend.contents() == []


@pytest.mark.parametrize("size", [1000, 2 * PART + 5])
async def test_limit_exceeded_mid_stream_leaves_nothing(backend: Backend, size: int) -> None:
    """The bigger size passes the limit after a part went up: the multipart upload is aborted."""
    data = os.urandom(size)
    with pytest.raises(TooLarge) as caught:
        await backend.storage.put(stream(data), size - 1)
    assert caught.value.limit == size - 1
    assert backend.contents() == []


async def test_a_failing_source_leaves_nothing(backend: Backend) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(PART + 1)
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await backend.storage.put(broken(), 10 * PART)
    assert backend.contents() == []


async def test_a_cancelled_upload_leaves_nothing(backend: Backend) -> None:
    sent = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield os.urandom(PART + 1)
        sent.set()
        await asyncio.Event().wait()  # the client stops sending
        yield b""

    task = asyncio.create_task(backend.storage.put(stalls(), 10 * PART))
    await sent.wait()  # the first part is on the server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert backend.contents() == []


async def test_missing_and_invalid_keys(backend: Backend) -> None:
    missing = sha(b"never stored")
    assert not backend.storage.exists(missing)
    with pytest.raises(StorageError, match="not found"):
        backend.storage.open(missing)
    with pytest.raises(StorageError, match="not found"):
        [c async for c in backend.storage.read(missing)]
    for bad in ("../etc/passwd", missing.upper(), missing[:-1]):
        with pytest.raises(StorageError, match="invalid"):
            backend.storage.exists(bad)
        with pytest.raises(StorageError, match="invalid"):
            backend.storage.open(bad)


async def test_open_reads_like_a_file(backend: Backend) -> None:
    """What the opening hall's decryption uses: readline for the header, readinto and read after."""
    data = b"age-encryption.org/v1\n-> X25519 abc\n--- mac\n" + os.urandom(3 * MIB + 17)
    stored = await backend.storage.put(stream(data), len(data))
    with backend.storage.open(stored.key) as handle:
        assert handle.readline() == b"age-encryption.org/v1\n"
        assert handle.readline(4) == b"-> X"
        assert handle.read(14) == b"25519 abc\n--- "
        got = bytearray(handle.read(4))
        buffer = bytearray(65_552)  # one STREAM chunk with its tag
        while n := handle.readinto(memoryview(buffer)):
            got += buffer[:n]
        assert handle.read(10) == b""
    assert bytes(got) == data[22 + 4 + 14 :]


async def test_open_seeks(backend: Backend) -> None:
    """What the opening's document scan uses: jumps forward and back, from the end too (on S3 each
    jump continues with a ranged GET)."""
    data = os.urandom(2 * MIB + 5)
    stored = await backend.storage.put(stream(data), len(data))
    with backend.storage.open(stored.key) as handle:
        assert handle.seekable()
        assert handle.read(7) == data[:7]
        assert handle.seek(MIB + 3) == MIB + 3
        assert handle.read(100) == data[MIB + 3 : MIB + 103]
        assert handle.seek(-10, os.SEEK_END) == len(data) - 10
        assert handle.read() == data[-10:]
        handle.seek(5)
        assert handle.read(3) == data[5:8]
        assert handle.seek(1000, os.SEEK_CUR) == 1008
        assert handle.read(4) == data[1008:1012]
        with pytest.raises((ValueError, OSError)):
            handle.seek(-1)


async def test_open_streams_instead_of_loading_the_blob(backend: Backend) -> None:
    data = os.urandom(4 * PART)
    stored = await backend.storage.put(stream(data, chunk=PART), len(data))
    with backend.storage.open(stored.key) as handle:  # warm up: clients, connection pools
        handle.read(10)
    tracemalloc.start()
    try:
        with backend.storage.open(stored.key) as handle:
            head = handle.read(65_536)
            rest = memoryview(bytearray(65_536))
            assert handle.readinto(rest) == 65_536
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert head + bytes(rest) == data[:131_072]
    assert peak < 4 * MIB, f"reading 128 KiB of a {len(data) >> 20} MiB blob took {peak} bytes"


async def test_s3_errors_are_storage_errors(s3_server: S3Server) -> None:
    storage = S3Storage(s3_server.client(), "th-no-such-bucket", "", part_size=PART)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        await storage.put(stream(b"x"), 10)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        await storage.put(stream(os.urandom(PART + 1)), 2 * PART)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        storage.open(sha(b"x"))


async def test_a_dropped_read_resumes_with_a_ranged_get(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    storage = S3Storage(s3_server.client(), bucket, "", part_size=PART)
    data = os.urandom(3 * MIB)
    stored = await storage.put(stream(data), len(data))
    with storage.open(stored.key) as handle:
        first = handle.read(100_000)
        handle.raw._body.close()  # type: ignore[attr-defined]  # the connection drops mid-blob
        rest = handle.read()
    assert first + rest == data


async def test_connect_builds_a_working_store_from_settings(s3_server: S3Server, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    settings = Settings(
        data_dir=tmp_path,
        database_url="sqlite+aiosqlite:///x.db",
        secrets_dir=tmp_path,
        storage_dir=tmp_path / "storage",
        base_url="http://testserver.local",
        **s3_server.settings(bucket, "tenderhall/prod"),
    )
    storage = make_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.part_size) == (bucket, "tenderhall/prod/", 8 * MIB)
    data = os.urandom(8 * MIB + 1)  # the default 8 MiB parts
    stored = await storage.put(stream(data, chunk=MIB), len(data))
    assert s3_server.objects(bucket) == [f"tenderhall/prod/blobs/{stored.key}"]
    assert s3_server.multipart_uploads(bucket) == []
    assert not (tmp_path / "storage").exists()
    assert isinstance(make_storage(dataclasses.replace(settings, storage_url="")), LocalStorage)


def test_part_size_grows_for_huge_limits() -> None:
    storage = connect("s3://th-bucket")
    assert storage._part_size(4 * 1024**3) == 8 * MIB
    assert storage._part_size(200 * 1024**3) * 10_000 >= 200 * 1024**3
    with pytest.raises(ValueError, match="at least"):
        S3Storage(storage.client, "th-bucket", part_size=MIB)


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("s3://bucket", ("bucket", "")),
        ("s3://my.bucket-1/tenderhall", ("my.bucket-1", "tenderhall/")),
        ("s3://bucket/a/b/", ("bucket", "a/b/")),
    ],
)
def test_s3_urls(url: str, parsed: tuple[str, str]) -> None:
    assert parse_s3_url(url) == parsed


@pytest.mark.parametrize(
    "url", ["bucket", "https://bucket", "s3://", "s3://Upper", "s3://b", "s3://bucket/a//b"]
)
def test_bad_s3_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"s3://|bucket name|prefix"):
        parse_s3_url(url)


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TENDERHALL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TENDERHALL_DATA_DIR", str(tmp_path))


def test_storage_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean_env(monkeypatch, tmp_path)
    local = Settings.from_env()
    assert (local.storage_url, local.s3_addressing_style) == ("", "auto")
    assert isinstance(make_storage(local), LocalStorage)
    monkeypatch.setenv("TENDERHALL_STORAGE_URL", "s3://tenders/prod")
    monkeypatch.setenv("TENDERHALL_S3_ENDPOINT_URL", "https://minio.internal:9000")
    monkeypatch.setenv("TENDERHALL_S3_REGION", "cn-east-1")
    monkeypatch.setenv("TENDERHALL_S3_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("TENDERHALL_S3_SECRET_ACCESS_KEY", "very-secret")
    monkeypatch.setenv("TENDERHALL_S3_ADDRESSING_STYLE", "PATH")
    settings = Settings.from_env()
    assert (settings.storage_url, settings.s3_endpoint_url, settings.s3_region) == (
        "s3://tenders/prod",
        "https://minio.internal:9000",
        "cn-east-1",
    )
    assert (settings.s3_access_key_id, settings.s3_secret_access_key) == ("AKID", "very-secret")
    assert settings.s3_addressing_style == "path"
    assert "very-secret" not in repr(settings)
    storage = make_storage(settings)
    assert isinstance(storage, S3Storage)
    assert storage.client.meta.endpoint_url == "https://minio.internal:9000"
    assert storage.client.meta.region_name == "cn-east-1"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STORAGE_URL", "/srv/blobs", "STORAGE_URL"),
        ("STORAGE_URL", "s3://No_Such", "STORAGE_URL"),
        ("S3_ENDPOINT_URL", "minio:9000", "S3_ENDPOINT_URL"),
        ("S3_ADDRESSING_STYLE", "dns", "S3_ADDRESSING_STYLE"),
        ("S3_ACCESS_KEY_ID", "AKID", "S3_SECRET_ACCESS_KEY"),
        ("S3_SECRET_ACCESS_KEY", "secret", "S3_ACCESS_KEY_ID"),
    ],
)
def test_bad_storage_settings_are_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, message: str
) -> None:
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv(f"TENDERHALL_{name}", value)
    with pytest.raises(SettingsError, match=f"TENDERHALL_{message}"):
        Settings.from_env()
