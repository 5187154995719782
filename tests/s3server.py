"""A real S3-compatible server for tests: moto's server in a separate process on 127.0.0.1, spoken
to over HTTP with boto3 exactly as production speaks to AWS S3 or MinIO.

Use the session fixture by importing it into a test module (or a conftest)::

    from tests.s3server import s3_server_fixture  # noqa: F401  (the fixture ``s3_server``)

and take a fresh bucket per test with ``s3_server.new_bucket()``.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCESS_KEY_ID = "tenderhall-test"
SECRET_ACCESS_KEY = "tenderhall-test-secret"  # a throwaway credential for moto
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self) -> S3Client:
        """One client for the session (clients are thread-safe; making one takes half a second)."""
        return _client(self.endpoint_url)

    def new_bucket(self) -> str:
        name = f"th-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, prefix: str = "") -> dict[str, Any]:
        """The Settings fields that point TenderHall at ``bucket``."""
        return {
            "storage_url": f"s3://{bucket}/{prefix}".rstrip("/"),
            "s3_endpoint_url": self.endpoint_url,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY_ID,
            "s3_secret_access_key": SECRET_ACCESS_KEY,
            "s3_addressing_style": "path",
        }

    def objects(self, bucket: str) -> list[str]:
        reply = self.client().list_objects_v2(Bucket=bucket)
        return [o["Key"] for o in reply.get("Contents", [])]

    def multipart_uploads(self, bucket: str) -> list[str]:
        reply = self.client().list_multipart_uploads(Bucket=bucket)
        return [u["Key"] for u in reply.get("Uploads", [])]


@functools.cache
def _client(endpoint_url: str) -> S3Client:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                return proc, url
        except urllib.error.HTTPError:  # it answers
            return proc, url
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"moto server did not start:\n{log.read_text(errors='replace')[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session", name="s3_server")
def s3_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    log = tmp_path_factory.mktemp("moto") / "server.log"
    try:
        proc, url = _start(log)
    except RuntimeError:  # most likely the port was taken between choosing and binding it
        proc, url = _start(log)
    try:
        yield S3Server(url)
    finally:
        _stop(proc)
