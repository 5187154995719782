"""The archive document of the demo's awarded and terminated tenders, read back with poppler
(pdffonts, pdfdetach, pdftotext) and pyHanko's PDF reader: PDF/A-3b declared, every font
embedded, the attachment embedded as an associated file, the Chinese text extractable, and the
public edition free of the personal data the full edition keeps."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from archive.render import render_archive
from tests.archive.conftest import Built

pytestmark = pytest.mark.slow


def run(*args: str | Path) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def text_of(pdf: Path) -> str:
    """pdftotext's text with all whitespace removed (table cells wrap names across lines)."""
    return "".join(run("pdftotext", "-enc", "UTF-8", pdf, "-").split())


def squeeze(value: str) -> str:
    return "".join(value.split())


def test_every_font_is_embedded_and_the_cjk_font_is_noto(archived: Built) -> None:
    for name, pdf in archived.pdfs.items():
        rows = run("pdffonts", pdf).splitlines()[2:]
        assert rows, f"{name}: no fonts at all"
        for row in rows:
            # name type encoding emb sub uni object-id: "emb" is the fourth column from the right end.
            assert row.split()[-5] == "yes", f"{name}: font not embedded: {row}"
        assert any("Noto-Sans-CJK-SC" in row for row in rows), f"{name}: the CJK font is missing"


def test_the_pdf_declares_pdf_a_3b_and_carries_the_attachment_as_an_associated_file(
    archived: Built, tmp_path: Path
) -> None:
    pdf = archived.pdfs["awarded-full-zh_CN"]
    reader = PdfFileReader(io.BytesIO(pdf.read_bytes()))
    xmp = reader.root["/Metadata"].get_object().data.decode()
    assert "pdfaid" in xmp
    assert "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp or 'pdfaid:conformance="B"' in xmp
    associated = [spec.get_object() for spec in reader.root["/AF"]]
    # WeasyPrint lists each file in /AF once per place it finds it (the name tree and the file
    # specification), the same object twice; what matters is which files and how they relate.
    assert {str(s["/F"]) for s in associated} == {"tender-ledger.json"}
    assert str(associated[0]["/AFRelationship"]) == "/Data"
    assert str(associated[0]["/EF"]["/F"].get_object()["/Subtype"]) == "/application/json"

    listed = run("pdfdetach", "-list", pdf)
    assert "1 embedded files" in listed
    assert "tender-ledger.json" in listed
    run("pdfdetach", "-saveall", "-o", tmp_path, pdf)
    saved = (tmp_path / "tender-ledger.json").read_bytes()
    assert saved == archived.ledger_json
    entries = json.loads(saved)["entries"]
    assert entries
    assert all(e["body"]["subject"] == f"tender:{archived.awarded.id}" for e in entries)


def test_the_chinese_text_extracts(archived: Built) -> None:
    text = text_of(archived.pdfs["awarded-full-zh_CN"])
    assert squeeze(archived.awarded.title) in text
    assert archived.awarded.reference in text
    assert squeeze(archived.bidder) in text
    assert "北京时间" in text  # times name their zone
    for section in (
        "招标公告与招标方式",
        "投标文件递交",
        "开标记录（唱标）",
        "评标专家抽取",
        "评标报告",
        "账本记录",
        "围标串标预警",
        "证据关系图",
    ):
        assert section in text, section
    assert "复算一致" in text  # the draw was replayed and matches its commitment
    assert "\ufffd" not in text
    assert "□" not in text  # no replacement glyphs, no boxes


def test_long_tables_repeat_their_header_on_every_page(archived: Built) -> None:
    pages = run("pdftotext", "-enc", "UTF-8", archived.pdfs["awarded-full-zh_CN"], "-").split("\f")
    leaves = [e["leaf_hash"][:12] for e in json.loads(archived.ledger_json)["entries"]]
    # The ledger table (over a hundred events) runs across pages; each page of it shows the header.
    with_rows = [p for p in pages if any(leaf in squeeze(p) for leaf in leaves)]
    assert len(with_rows) >= 2
    for page in with_rows:
        assert "叶哈希" in page


def test_the_english_edition_has_english_labels_and_the_original_names(archived: Built) -> None:
    text = text_of(archived.pdfs["awarded-public-en"])
    assert squeeze("Beijing time (UTC+8)") in text
    assert squeeze("Deadline checkpoint") in text
    assert squeeze("Opening record") in text
    assert squeeze(archived.awarded.title) in text  # names are records, never translated
    assert "招标公告与招标方式" not in text


def test_the_public_edition_leaves_out_personal_data(archived: Built) -> None:
    full = text_of(archived.pdfs["awarded-full-zh_CN"])
    public = text_of(archived.pdfs["awarded-public-zh_CN"])
    assert archived.payer_account in full
    assert archived.payer_account not in public
    for name in archived.persons:
        assert squeeze(name) in full
        assert squeeze(name) not in public
    assert "公开版不载" in public
    assert "公开版不载" not in full
    # What stays public: bidders, prices, hashes.
    assert squeeze(archived.bidder) in public


def test_a_terminated_tender_gets_an_archive_of_what_happened_until_its_end(archived: Built) -> None:
    tender = archived.terminated
    text = text_of(archived.pdfs["terminated-public-zh_CN"])
    assert squeeze(tender.title) in text
    assert tender.terminated_reason
    assert squeeze(tender.terminated_reason) in text
    assert "本项目以“已终止”结束" in text
    assert "开标记录（唱标）" not in text  # it never reached the opening
    assert "账本记录" in text


def test_render_times_are_reported(archived: Built) -> None:
    # Printed for the report (run with -s); every render finished and wrote a PDF.
    for name, seconds in archived.seconds.items():
        print(f"archive render {name}: {seconds:.2f} s")
        assert archived.pdfs[name].read_bytes().startswith(b"%PDF-")


async def test_bad_requests_are_refused_with_a_clear_error(archived: Built) -> None:
    import uuid

    from tenderhall.clock import SystemClock
    from tenderhall.compose import build_services
    from tenderhall.errors import InvalidInput, NotFound

    services = build_services(archived.settings, SystemClock())
    try:
        async with services.reader() as db:
            tid = archived.awarded.id
            with pytest.raises(InvalidInput) as edition:
                await render_archive(db, services, tid, edition="secret", locale="zh_CN", attachments=[])
            assert edition.value.key == "archive.edition_unknown"
            with pytest.raises(InvalidInput) as locale:
                await render_archive(db, services, tid, edition="full", locale="fr", attachments=[])
            assert locale.value.key == "archive.locale_unknown"
            with pytest.raises(NotFound):
                await render_archive(
                    db, services, uuid.uuid4(), edition="full", locale="zh_CN", attachments=[]
                )
    finally:
        await services.engine.dispose()


def pdfsig(pdf: Path) -> str:
    return subprocess.run(
        ["pdfsig", str(pdf)], capture_output=True, text=True, timeout=120, check=False
    ).stdout


def test_the_demo_awarded_tender_archive_is_built_signed_and_verified_by_everyone(
    archived: Built, run_cli: Any, tmp_path: Path
) -> None:
    """Issue 9's whole chain: the job's builder renders the full edition with the OCDS record and
    the ledger evidence attached, signs it, and `archive verify`, pdfsig and poppler's readers all
    accept it; one changed byte fails the verifiers."""
    from archive.build import EVIDENCE_FILE, OCDS_FILE
    from archive.ports import BUILDER
    from tenderhall.clock import SystemClock
    from tenderhall.compose import build_services

    async def build() -> bytes:
        services = build_services(archived.settings, SystemClock())
        try:
            return await services.get(BUILDER).build(archived.awarded.id)
        finally:
            await services.engine.dispose()

    signed = asyncio.run(build())
    path = tmp_path / "archive.pdf"
    path.write_bytes(signed)

    def verify(target: Path) -> Any:
        return run_cli(
            archived.settings.database_url,
            "archive",
            "verify",
            str(target),
            data_dir=archived.settings.data_dir,
            extra_env={"TENDERHALL_LANG": "en"},
        )

    result = verify(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature is Valid" in pdfsig(path)
    listed = run("pdfdetach", "-list", path)
    assert OCDS_FILE in listed
    assert EVIDENCE_FILE in listed
    assert all(row.split()[-5] == "yes" for row in run("pdffonts", path).splitlines()[2:])
    assert squeeze(archived.awarded.title) in text_of(path)
    tampered = bytearray(signed)
    tampered[len(tampered) // 2] ^= 0x01
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(tampered))
    assert verify(bad).returncode != 0
    assert "Signature is Valid" not in pdfsig(bad)
