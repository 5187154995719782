"""Blob storage in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, and the S3 APIs of other clouds).

Layout under the configured prefix:

- ``blobs/<sha256>``: the blobs;
- ``incoming/<random>``: streamed uploads whose hash is not known until their end; each is copied
  to its real key, then deleted.

A single PUT and the completion of a multipart upload are both atomic, so a real key never names a
partial blob.  A crash can leave objects under ``incoming/`` and unfinished multipart uploads (both
invisible to readers); give the bucket a lifecycle rule that expires ``incoming/`` and aborts
incomplete multipart uploads after a day.  The credentials need s3:GetObject, s3:PutObject,
s3:DeleteObject, s3:AbortMultipartUpload and s3:ListBucket (without it S3 answers 403, not 404, for
a missing key).

boto3 is blocking: the async methods run it in worker threads and send one part (8 MiB) at a time,
so an upload holds at most a part and the copy being sent.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import anyio
import boto3
import urllib3.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tenderhall.storage.base import (
    CHUNK,
    ReadOnlyFile,
    StorageError,
    Stored,
    TooLarge,
    check_key,
    parse_s3_url,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, GetObjectOutputTypeDef

log = logging.getLogger(__name__)

MIB = 1 << 20
PART_SIZE = 8 * MIB
MIN_PART_SIZE = 5 * MIB  # S3's minimum for every part but the last
MAX_PARTS = 10_000  # S3's maximum parts per upload
SINGLE_COPY_LIMIT = 5 * 1024 * MIB  # the largest object one CopyObject may copy
READ_BUFFER = MIB
READ_RESUMES = 3  # ranged GETs after a dropped connection, per read call
OCTET = "application/octet-stream"
_MISSING = frozenset({"NoSuchKey", "NotFound", "404"})

AddressingStyle = Literal["auto", "path", "virtual"]


def connect(
    url: str,
    *,
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
    addressing_style: AddressingStyle = "auto",
) -> S3Storage:
    """Storage in the bucket named by ``s3://bucket[/prefix]``.  Empty arguments fall back on
    boto3's own configuration (``AWS_*`` variables, ``~/.aws``, instance or pod roles)."""
    bucket, prefix = parse_s3_url(url)
    config = Config(
        s3={"addressing_style": addressing_style},
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=32,
        # boto3 >= 1.36 sends CRC checksums by default, which several S3-compatible servers reject;
        # we send Content-MD5 ourselves, which every one of them checks.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # A session of our own: boto3's default session is not safe to share between threads.
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=config,
    )
    return S3Storage(client, bucket, prefix)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def _mapped(doing: str) -> Iterator[None]:
    """boto3's errors as StorageError: callers handle one kind of failure for every backend."""
    try:
        yield
    except ClientError as exc:
        code = _code(exc)
        if code in _MISSING:
            raise StorageError("blob not found") from exc
        raise StorageError(f"object storage refused {doing}: {code or exc}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"object storage failed {doing}: {exc}") from exc


def _md5(data: bytes) -> str:
    # Integrity of the transfer only (the server checks it), not a security use.
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class S3Storage:
    def __init__(self, client: S3Client, bucket: str, prefix: str = "", part_size: int = PART_SIZE) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 parts are at least {MIN_PART_SIZE} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size

    def _name(self, key: str) -> str:
        return f"{self.prefix}blobs/{check_key(key)}"

    def _part_size(self, limit: int) -> int:
        # Bigger parts where ``limit`` bytes would not fit in S3's 10,000 parts (e.g. > 78 GiB).
        needed = -(-limit // (MAX_PARTS * MIB)) * MIB
        return max(self.part_size, needed)

    # -- writing ----------------------------------------------------------------------------------
    async def put(self, chunks: AsyncIterable[bytes], limit: int) -> Stored:
        """Up to one part is buffered: a blob that fits in one is PUT straight to its real key;
        a bigger one goes to ``incoming/`` as a multipart upload, then is copied into place."""
        part_size = self._part_size(limit)
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        incoming = f"{self.prefix}incoming/{uuid.uuid4().hex}"
        upload: _Multipart | None = None
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(limit)
                digest.update(chunk)
                view = memoryview(chunk)
                while view:
                    room = part_size - len(buffer)
                    buffer += view[:room]
                    view = view[room:]
                    if len(buffer) == part_size:
                        if upload is None:
                            upload = await anyio.to_thread.run_sync(
                                _Multipart, self.client, self.bucket, incoming
                            )
                        await anyio.to_thread.run_sync(upload.send, bytes(buffer))
                        buffer = bytearray()
            key = digest.hexdigest()
            if upload is None:
                await anyio.to_thread.run_sync(self._put_object, self._name(key), bytes(buffer))
            else:
                if buffer:
                    await anyio.to_thread.run_sync(upload.send, bytes(buffer))
                await anyio.to_thread.run_sync(upload.complete)
                upload = None
                await anyio.to_thread.run_sync(self._promote, incoming, key)
        except BaseException:
            if upload is not None:
                # Also when cancelled (a client that went away): nothing may stay behind.
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(upload.abort)
            raise
        return Stored(key=key, sha256=key, size=size)

    def _put_object(self, name: str, data: bytes) -> None:
        with _mapped("storing a blob"):
            self.client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentMD5=_md5(data), ContentType=OCTET
            )

    def _promote(self, incoming: str, key: str) -> None:
        """Copy a finished upload to its real key (server-side) and drop it."""
        try:
            if not self._exists(self._name(key)):
                with _mapped("moving an upload into place"):
                    self.client.copy(
                        {"Bucket": self.bucket, "Key": incoming},
                        self.bucket,
                        self._name(key),
                        # One CopyObject where S3 allows it; bigger ones are copied in parts, which
                        # are again invisible until complete.
                        Config=TransferConfig(multipart_threshold=SINGLE_COPY_LIMIT, use_threads=False),
                    )
        finally:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=incoming)
            except (ClientError, BotoCoreError) as exc:
                log.warning("could not delete %s (the lifecycle rule will): %s", incoming, exc)

    async def put_file(self, source: Path, limit: int) -> Stored:
        """Hashed first, so the blob is uploaded straight to its real key (nothing to copy), and
        hashed again on the way: if the file changed in between, nothing is stored."""
        return await anyio.to_thread.run_sync(self._put_file, source, limit)

    def _put_file(self, source: Path, limit: int) -> Stored:
        part_size = self._part_size(limit)
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as handle:
            while chunk := handle.read(MIB):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(limit)
                digest.update(chunk)
        key = digest.hexdigest()
        name = self._name(key)
        if self._exists(name):
            return Stored(key=key, sha256=key, size=size)
        changed = StorageError("the file changed while it was being stored")
        again = hashlib.sha256()
        with source.open("rb") as handle:
            part = handle.read(part_size)
            if len(part) < part_size:
                again.update(part)
                if again.hexdigest() != key:
                    raise changed
                self._put_object(name, part)
                return Stored(key=key, sha256=key, size=size)
            upload = _Multipart(self.client, self.bucket, name)
            try:
                while part:
                    again.update(part)
                    upload.send(part)
                    part = handle.read(part_size)
                if again.hexdigest() != key:
                    raise changed
                upload.complete()
            except BaseException:
                upload.abort()
                raise
        return Stored(key=key, sha256=key, size=size)

    # -- reading ----------------------------------------------------------------------------------
    def _exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise StorageError(f"object storage refused checking a blob: {_code(exc) or exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"object storage failed checking a blob: {exc}") from exc
        return True

    def exists(self, key: str) -> bool:
        return self._exists(self._name(key))

    def open(self, key: str) -> io.BufferedReader:
        """A blocking reader over one streaming GET (resumed with ranged GETs if the connection
        drops); memory holds one read buffer, never the object."""
        name = self._name(key)
        with _mapped("reading a blob"):
            reply = self.client.get_object(Bucket=self.bucket, Key=name)
        return io.BufferedReader(_ObjectReader(self.client, self.bucket, name, reply), READ_BUFFER)

    def blobs(self) -> Iterator[tuple[str, int]]:
        # ListObjectsV2 answers in UTF-8 binary order, which for hex keys is key order.
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}blobs/"
        )
        with _mapped("listing the blobs"):
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"].rsplit("/", 1)[-1]
                    if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
                        yield key, item["Size"]

    async def read(self, key: str) -> AsyncIterator[bytes]:
        handle = await anyio.to_thread.run_sync(self.open, key)
        try:
            while chunk := await anyio.to_thread.run_sync(handle.read, 4 * CHUNK):
                yield chunk
        finally:
            handle.close()


class _Multipart:
    """One multipart upload, sent a part at a time (blocking)."""

    def __init__(self, client: S3Client, bucket: str, name: str) -> None:
        self.client = client
        self.bucket = bucket
        self.name = name
        self.parts: list[CompletedPartTypeDef] = []
        with _mapped("starting an upload"):
            self.upload_id = client.create_multipart_upload(Bucket=bucket, Key=name, ContentType=OCTET)[
                "UploadId"
            ]

    def send(self, data: bytes) -> None:
        number = len(self.parts) + 1
        with _mapped("storing a part"):
            reply = self.client.upload_part(
                Bucket=self.bucket,
                Key=self.name,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=data,
                ContentMD5=_md5(data),
            )
        self.parts.append({"ETag": reply["ETag"], "PartNumber": number})

    def complete(self) -> None:
        with _mapped("completing an upload"):
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.name,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )

    def abort(self) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.name, UploadId=self.upload_id)
        except (ClientError, BotoCoreError) as exc:
            log.warning("could not abort the upload of %s (the lifecycle rule will): %s", self.name, exc)


class _ObjectReader(ReadOnlyFile):
    def __init__(self, client: S3Client, bucket: str, name: str, reply: GetObjectOutputTypeDef) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._name = name
        self._pos = 0
        self._size = reply["ContentLength"]
        self._body: StreamingBody = reply["Body"]
        self._moved = False  # seek() moved the position away from the open stream

    def _moved_to(self, position: int) -> None:
        self._moved = True  # the next read continues with a ranged GET from there

    def _resume(self) -> None:
        """Continue where the dropped stream stopped.  The key names its content, so the bytes
        from ``_pos`` on are the same whichever write of the blob answers."""
        self._body.close()
        with _mapped("reading a blob"):
            reply = self._client.get_object(Bucket=self._bucket, Key=self._name, Range=f"bytes={self._pos}-")
        if reply["ContentLength"] != self._size - self._pos:
            reply["Body"].close()
            raise StorageError("the blob changed while it was read")
        self._body = reply["Body"]

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        if self._moved:
            self._moved = False
            self._resume()
        attempt = 0
        while True:
            try:
                # botocore raises IncompleteReadError if the connection ends before the object.
                data = self._body.read(want)
            except (BotoCoreError, urllib3.exceptions.HTTPError, OSError) as exc:
                if attempt == READ_RESUMES:
                    raise StorageError(f"object storage failed reading a blob: {exc}") from exc
            else:
                if data:
                    break
                if attempt == READ_RESUMES:
                    raise StorageError("object storage stopped sending a blob")
            attempt += 1
            self._resume()
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()
