"""The public verification page: upload an archive, see the same verdicts; bounded, never a 500."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from archive.evidence import ATTACHMENT
from archive.pages import MAX_UPLOAD_BYTES
from archive.signing import ArchiveSigner, ArchiveSigning, sign_archive
from tenderhall.services import Services
from tests.archive.conftest import ocds_bytes, tender_events
from tests.archive.test_verify import _evidence


async def _archive(services: Services, make_pdf: Any, signer: ArchiveSigner | None = None) -> bytes:
    tender = await tender_events(services, count=3)
    pdf = make_pdf({ATTACHMENT: await _evidence(services, tender), "ocds-record.json": ocds_bytes()})
    return sign_archive(pdf, signer or services.get(ArchiveSigning).signer)


async def test_the_page_shows_every_verdict(
    client: AsyncTestClient[Litestar], services: Services, make_pdf: Any
) -> None:
    form = await client.get("/archive/verify")
    assert form.status_code == 200
    assert "验证电子档案" in form.text
    assert 'name="_csrf_token"' in form.text
    ca = await client.get("/archive/ca.pem")
    assert ca.status_code == 200
    assert ca.content == services.get(ArchiveSigning).signer.root_pem()

    signed = await _archive(services, make_pdf)
    answer = await client.post("/archive/verify", files={"file": ("a.pdf", signed, "application/pdf")})
    assert answer.status_code == 200, answer.text
    page = answer.text
    for check in ("signature", "chain", "ledger", "consistency"):
        assert f'data-check="{check}" data-status="pass"' in page, check
    assert 'data-check="timestamp" data-status="skip"' in page
    assert "档案验证通过" in page

    english = await client.post(
        "/archive/verify",
        files={"file": ("a.pdf", signed, "application/pdf")},
        headers={"accept-language": "en"},
    )
    assert "the archive verifies" in english.text
    assert "Ledger evidence" in english.text

    tampered = bytearray(signed)
    tampered[len(signed) // 3] ^= 0x01
    answer = await client.post(
        "/archive/verify", files={"file": ("t.pdf", bytes(tampered), "application/pdf")}
    )
    assert answer.status_code == 200
    assert 'data-check="signature" data-status="fail"' in answer.text
    assert "档案验证未通过" in answer.text

    foreign = await _archive(services, make_pdf, ArchiveSigner.generate("elsewhere.example"))
    answer = await client.post("/archive/verify", files={"file": ("f.pdf", foreign, "application/pdf")})
    assert 'data-check="chain" data-status="fail"' in answer.text


async def test_bad_uploads_get_a_clear_page(client: AsyncTestClient[Litestar]) -> None:
    no_file = await client.post("/archive/verify", data={"x": "y"})
    assert no_file.status_code == 400
    assert "请选择要验证的 PDF 文件" in no_file.text
    empty = await client.post("/archive/verify", files={"file": ("e.pdf", b"", "application/pdf")})
    assert empty.status_code == 400
    junk = await client.post(
        "/archive/verify", files={"file": ("j.pdf", b"%PDF-1.7 junk", "application/pdf")}
    )
    assert junk.status_code == 200
    assert 'data-check="signature" data-status="fail"' in junk.text
    # Refused on its declared length, before the body is read.
    big = await client.post(
        "/archive/verify",
        content=b"x" * 10,
        headers={
            "content-type": "multipart/form-data; boundary=b",
            "content-length": str(MAX_UPLOAD_BYTES * 2),
        },
    )
    assert big.status_code == 413
