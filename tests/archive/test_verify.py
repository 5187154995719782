"""A signed archive verified by `tenderhall archive verify`, poppler's pdfsig and pyHanko's own
validator; tampering, a foreign CA and edited evidence each fail the check they should."""

from __future__ import annotations

import json
import subprocess
import uuid
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from archive.evidence import ATTACHMENT, ledger_evidence
from archive.signing import ArchiveSigner, ArchiveSigning, off_loop, sign_archive
from archive.verify import Trust, verify_archive
from tenderhall.services import Services
from tests.archive.conftest import ocds_bytes, tender_events, write
from tests.support.tsa import TimeStampingAuthority


async def _evidence(services: Services, tender: uuid.UUID) -> bytes:
    async with services.reader() as db:
        return await ledger_evidence(db, services, tender)


def _pdfsig(path: Path) -> str:
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout


def _pyhanko_ok(data: bytes, *roots: Any) -> bool:
    """pyHanko's own validator, trusting ``root``: intact, valid, trusted, whole file covered."""
    return off_loop(_pyhanko_validate, data, roots)


def _pyhanko_validate(data: bytes, roots: tuple[Any, ...]) -> bool:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    anchors = [asn1_x509.Certificate.load(r.public_bytes(serialization.Encoding.DER)) for r in roots]
    try:
        sig = PdfFileReader(BytesIO(data), strict=False).embedded_signatures[0]
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=anchors))
    except Exception:
        return False
    return bool(status.bottom_line)


def _lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """English verdict lines by check title's first word."""
    return {
        line.split("]")[0].strip("["): line for line in result.stdout.splitlines() if line.startswith("[")
    }


async def _signed(services: Services, make_pdf: Any, **kwargs: Any) -> tuple[bytes, uuid.UUID]:
    tender = await tender_events(services)
    pdf = make_pdf({ATTACHMENT: await _evidence(services, tender), "ocds-record.json": ocds_bytes()})
    signer = services.get(ArchiveSigning).signer
    return sign_archive(pdf, signer, **kwargs), tender


def _verify(run_cli: Any, database_url: str, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result: subprocess.CompletedProcess[str] = run_cli(
        database_url, "archive", "verify", str(path), *args, extra_env={"TENDERHALL_LANG": "en"}
    )
    return result


async def test_a_signed_archive_verifies_everywhere_and_one_byte_breaks_every_verifier(
    services: Services, make_pdf: Any, run_cli: Any, database_url: str, tmp_path: Path
) -> None:
    signed, _ = await _signed(services, make_pdf)
    path = write(tmp_path, "archive.pdf", signed)
    result = _verify(run_cli, database_url, path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "[PASS] Document signature" in out
    assert "[PASS] Signer's certificate chain" in out
    assert "[PASS] Ledger evidence: all 5 ledger entries are included" in out
    assert "[SKIPPED] Timestamp" in out
    assert "[SKIPPED] OCDS record: not checked offline" in out
    assert "the archive verifies" in out
    assert "Signature is Valid" in _pdfsig(path)
    root = services.get(ArchiveSigning).signer.root
    assert _pyhanko_ok(signed, root)

    # The same verdicts in Chinese by default.
    zh = run_cli(database_url, "archive", "verify", str(path))
    assert zh.returncode == 0
    assert "[通过] 文件签名" in zh.stdout
    assert "档案验证通过" in zh.stdout

    # One byte changed inside the signed range: every verifier refuses the file.
    for offset in (len(signed) // 3, 200):
        tampered = bytearray(signed)
        tampered[offset] ^= 0x01
        bad = write(tmp_path, f"tampered-{offset}.pdf", bytes(tampered))
        result = _verify(run_cli, database_url, bad)
        assert result.returncode == 1, result.stdout
        assert "[FAIL] Document signature" in result.stdout, result.stdout
        assert "Signature is Valid" not in _pdfsig(bad)
        assert not _pyhanko_ok(bytes(tampered), root)


async def test_bytes_appended_after_signing_fail_the_coverage(services: Services, make_pdf: Any) -> None:
    signed, _ = await _signed(services, make_pdf)
    root = services.get(ArchiveSigning).signer.root
    extended = signed + b"\n1 0 obj\n(x)\nendobj\n"
    report = verify_archive(extended, Trust((root,), ledger_key=services.ledger.verifier))
    assert report.get("signature").status == "fail"
    assert not report.ok


async def test_an_edited_ledger_entry_fails_the_ledger_check_by_name(
    services: Services, make_pdf: Any, run_cli: Any, database_url: str, tmp_path: Path
) -> None:
    tender = await tender_events(services)
    value = json.loads(await _evidence(services, tender))
    event = json.loads(value["entries"][2]["body"])
    event["data"]["i"] = 1000
    value["entries"][2]["body"] = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    edited = json.dumps(value, ensure_ascii=False).encode()
    # Signed by the platform all the same: only the ledger check can tell.
    signed = sign_archive(make_pdf({ATTACHMENT: edited}), services.get(ArchiveSigning).signer)
    result = _verify(run_cli, database_url, write(tmp_path, "edited.pdf", signed))
    assert result.returncode == 1
    assert "[PASS] Document signature" in result.stdout
    index = value["entries"][2]["index"]
    assert f"[FAIL] Ledger evidence: ledger entry {index} is not included under the attached checkpoint" in (
        result.stdout
    )


async def test_a_certificate_from_another_ca_fails_the_chain_check(
    services: Services, make_pdf: Any, run_cli: Any, database_url: str, tmp_path: Path
) -> None:
    tender = await tender_events(services)
    pdf = make_pdf({ATTACHMENT: await _evidence(services, tender)})
    stranger = ArchiveSigner.generate("elsewhere.example")
    path = write(tmp_path, "foreign.pdf", sign_archive(pdf, stranger))
    result = _verify(run_cli, database_url, path)
    assert result.returncode == 1
    assert "[PASS] Document signature" in result.stdout
    assert "[FAIL] Signer's certificate chain: the signer's certificate does not chain to a trusted root" in (
        result.stdout
    )
    # Trusting that CA instead (--trust) makes the chain pass; the ledger still checks out.
    ca = write(tmp_path, "foreign-ca.pem", stranger.root_pem())
    result = _verify(run_cli, database_url, path, "--trust", str(ca))
    assert result.returncode == 0, result.stdout
    assert "Signature is Valid" in _pdfsig(path)


@pytest.mark.slow
async def test_the_timestamped_archive_verifies_against_the_local_tsa(
    services: Services,
    make_pdf: Any,
    run_cli: Any,
    database_url: str,
    tmp_path: Path,
    tsa: TimeStampingAuthority,
) -> None:
    signed, _ = await _signed(services, make_pdf, tsa_url=tsa.url, tsa_trust=[tsa.root])
    path = write(tmp_path, "lta.pdf", signed)
    result = _verify(run_cli, database_url, path, "--tsa-trust", str(tsa.root_pem))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[PASS] Timestamp: the timestamps verify" in result.stdout
    assert "Signature is Valid" in _pdfsig(path)
    assert _pyhanko_ok(signed, services.get(ArchiveSigning).signer.root, tsa.root)
    # Validation data is embedded: a document security store and a document timestamp.
    assert b"/DSS" in signed
    assert b"/DocTimeStamp" in signed
    # A TSA nobody trusts: the timestamp check fails, by name.
    other = ArchiveSigner.generate("not-a-tsa")
    untrusted = write(tmp_path, "other-root.pem", other.root_pem())
    result = _verify(run_cli, database_url, path, "--tsa-trust", str(untrusted))
    assert result.returncode == 1
    assert "[FAIL] Timestamp: a timestamp comes from an untrusted time-stamping authority" in result.stdout
    # One byte changed: every verifier refuses the timestamped file too.
    tampered = bytearray(signed)
    tampered[len(signed) // 4] ^= 0x01
    bad = write(tmp_path, "lta-tampered.pdf", bytes(tampered))
    assert _verify(run_cli, database_url, bad, "--tsa-trust", str(tsa.root_pem)).returncode == 1
    assert "Signature is Valid" not in _pdfsig(bad).split("Signature #2")[0]
