"""A sealed bid through the real flow with S3-compatible storage configured: the envelope lands in
the bucket under its SHA-256, byte for byte what the bidder sealed (ciphertext: the canary is in no
object), nothing is left half-done, and the opening decrypts it from the bucket."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from tenderhall.settings import Settings
from tenderhall.storage.s3 import S3Storage
from tests.bidding.helpers import file_key_b64, make_scene, seal_and_submit
from tests.s3server import S3Server, s3_server_fixture  # noqa: F401  (the fixture s3_server)

CANARY = "CANARY-5b1d-S3-围标暗号"


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def settings(settings: Settings, s3_server: S3Server, bucket: str) -> Settings:
    return dataclasses.replace(settings, **s3_server.settings(bucket, "th/envelopes"))


def _local_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_sealed_bid_goes_to_the_bucket_as_ciphertext(
    services, world, client, clock, settings, s3_server: S3Server, bucket: str
) -> None:
    assert isinstance(services.storage, S3Storage)
    scene = await make_scene(services, world, client, bidders=1)
    bidder = scene.bidders[0]
    blob = await seal_and_submit(client, scene, bidder, "s3-bid", canary=CANARY)
    key = hashlib.sha256(blob).hexdigest()

    assert s3_server.objects(bucket) == [f"th/envelopes/blobs/{key}"]
    assert s3_server.multipart_uploads(bucket) == []
    stored = s3_server.client().get_object(Bucket=bucket, Key=f"th/envelopes/blobs/{key}")["Body"].read()
    assert stored == blob
    # The scan can find the canary where it is in the clear (the sealed package), and not in the bucket.
    assert CANARY.encode() not in stored
    assert CANARY.encode() in _sealed_plaintext(blob, bidder)
    # No blob stayed on the local disk (only the resumable-upload scratch space lives there).
    partial = settings.storage_dir / ".partial"
    assert [p for p in _local_files(settings.storage_dir) if partial not in p.parents] == []

    # At the deadline the bidder's key opens the envelope read back from the bucket.
    clock.set(scene.deadline + timedelta(seconds=1))
    r = await client.post(
        f"/api/v1/tenders/{scene.tender_id}/hall/bids/s3-bid/key",
        json={"file_key": file_key_b64(blob, bidder.keys.opening)},
        headers=bidder.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "decrypted"


def _sealed_plaintext(blob: bytes, bidder) -> bytes:
    import io

    from bidding import envelope

    out = io.BytesIO()
    source = io.BytesIO(blob)
    header, _ = envelope.parse_header(source)
    file_key = envelope.unwrap_file_key(header, [bidder.keys.opening])
    envelope.decrypt_payload(source, out, file_key)
    return _inflate(out.getvalue())


def _inflate(package: bytes) -> bytes:
    """The bid package is a zip; its members may be compressed, so the canary is looked for inside."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(package)) as z:
        return b"".join(z.read(name) for name in z.namelist())
