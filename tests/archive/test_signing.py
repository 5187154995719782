"""The archive signer: made once on first start (mode 0600), refused when exposed, replaced by an
operator's PKCS#12 through `tenderhall archive import-signer`."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from archive.signing import SIGNER_FILE, ArchiveSigner, SignerError, load_or_create, read


@pytest.fixture(scope="module")
def operator() -> ArchiveSigner:
    return ArchiveSigner.generate("operator.example")


def test_first_start_makes_one_private_signer(tmp_path: Path) -> None:
    assert read(tmp_path) is None
    first = load_or_create(tmp_path, "testserver.local")
    path = tmp_path / SIGNER_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_or_create(tmp_path, "testserver.local")
    assert again.certificate == first.certificate
    assert again.root == first.root
    assert first.root.subject == first.certificate.issuer != first.certificate.subject
    assert first.certificate.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 9)
    assert "PRIVATE" not in repr(first)
    path.chmod(0o644)
    with pytest.raises(SignerError, match="chmod 600"):
        read(tmp_path)
    path.chmod(0o600)
    path.write_bytes(b"not a key")
    with pytest.raises(SignerError):
        read(tmp_path)


def test_pkcs12_needs_its_passphrase(operator: ArchiveSigner) -> None:
    data = pkcs12.serialize_key_and_certificates(
        b"op", operator.key, operator.certificate, [operator.root], BestAvailableEncryption(b"s3cret")
    )
    loaded = ArchiveSigner.from_pkcs12(data, b"s3cret")
    assert loaded.chain == operator.chain
    with pytest.raises(SignerError, match="passphrase"):
        ArchiveSigner.from_pkcs12(data, b"wrong")
    with pytest.raises(SignerError):
        ArchiveSigner.from_pkcs12(b"junk", None)
    with pytest.raises(SignerError, match="larger"):
        ArchiveSigner.from_pkcs12(b"0" * (2 << 20), None)


def test_import_signer_replaces_the_platform_signer(
    run_cli: Any, tmp_path: Path, operator: ArchiveSigner
) -> None:
    p12 = tmp_path / "op.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"op", operator.key, operator.certificate, [operator.root], BestAvailableEncryption(b"pw")
        )
    )
    data = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"
    wrong = run_cli(url, "archive", "import-signer", str(p12), data_dir=data, stdin="nope\n")
    assert wrong.returncode == 1
    assert "wrong passphrase" in wrong.stderr
    assert read(data / "secrets") is None  # nothing half-written
    result: subprocess.CompletedProcess[str] = run_cli(
        url,
        "archive",
        "import-signer",
        str(p12),
        data_dir=data,
        extra_env={"TENDERHALL_SIGNER_PASSPHRASE": "pw", "TENDERHALL_LANG": "en"},
    )
    assert result.returncode == 0, result.stderr
    assert "archive signing certificate imported" in result.stdout
    stored = read(data / "secrets")
    assert stored is not None
    assert stored.certificate == operator.certificate
    assert (data / "secrets" / SIGNER_FILE).stat().st_mode & 0o777 == 0o600
