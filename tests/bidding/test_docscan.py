"""The document scanner follows a bid package through the decryption stream, whatever the chunking,
and reads PDF metadata and text (real PDFs made by WeasyPrint, read back by pypdf)."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import pytest
from weasyprint import HTML

from bidding import docscan
from bidding.docscan import DocScanner, DocumentFacts
from bidding.package import pack

FORM = {"price": "1000000", "duration_days": 180, "quality": "合格", "project_manager": "张工"}


def make_pdf(path: Path, author: str, text: str) -> Path:
    html = f"""<html><head><meta name="author" content="{author}">
    <meta name="generator" content="标书编制工具 V3.2">
    <meta name="dcterms.created" content="2026-03-01T09:30:00+08:00">
    <title>投标文件</title></head><body><p>{text}</p></body></html>"""
    HTML(string=html).write_pdf(path)
    return path


def package(tmp_path: Path, *docs: Path) -> bytes:
    out = io.BytesIO()
    pack(FORM, docs, out)
    return out.getvalue()


def scan(data: bytes, chunk: int) -> DocumentFacts:
    scanner = DocScanner()
    for i in range(0, len(data), chunk):
        assert scanner.write(memoryview(data)[i : i + chunk]) == len(data[i : i + chunk])
    return scanner.facts


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_pdf_metadata_and_text_whatever_the_chunks(tmp_path: Path, chunk: int) -> None:
    pdf = make_pdf(tmp_path / "技术标.pdf", "李四", "本工程采用装配式钢结构施工方案，工期一百八十日历天。")
    notes = tmp_path / "说明.txt"
    notes.write_text("投标人承诺：严格按照招标文件要求组织施工。", encoding="utf-8")
    facts = scan(package(tmp_path, pdf, notes), chunk)
    assert facts.documents == ["技术标.pdf", "说明.txt"]
    assert facts.author == "李四"
    assert "标书编制工具 V3.2" in facts.tool
    assert facts.created == dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)
    assert "装配式钢结构" in facts.text.replace(" ", "")
    assert "严格按照招标文件" in facts.text
    assert DocumentFacts.from_json(facts.to_json()) == facts


def test_gb18030_text(tmp_path: Path) -> None:
    notes = tmp_path / "报价说明.txt"
    notes.write_bytes("报价已含税费".encode("gb18030"))
    assert scan(package(tmp_path, notes), 3).text == "报价已含税费"


def test_big_member_listed_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docscan, "MAX_MEMBER", 16)
    big, small = tmp_path / "大.txt", tmp_path / "小.txt"
    big.write_text("甲" * 100, encoding="utf-8")
    small.write_text("乙方", encoding="utf-8")
    facts = scan(package(tmp_path, big, small), 1000)
    assert facts.documents == ["大.txt", "小.txt"]
    assert facts.text == "乙方"


def test_unreadable_input_is_not_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "坏.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    notes = tmp_path / "b.txt"
    notes.write_text("仍可读取", encoding="utf-8")
    facts = scan(package(tmp_path, broken, notes), 512)
    assert facts.text == "仍可读取"
    assert facts.author == ""
    assert scan(b"not a zip at all" * 100, 10) == DocumentFacts()
    # A zip written to a pipe has no sizes in its local headers: the scan stops, quietly.
    raw = io.BytesIO()

    class Pipe(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            return raw.write(b)

    with zipfile.ZipFile(Pipe(), "w", compression=zipfile.ZIP_STORED) as z:  # type: ignore[arg-type]
        z.writestr("bid-form.json", "{}")
        z.writestr("a.txt", "hidden")
    assert scan(raw.getvalue(), 64).text == ""
    scanner = DocScanner()
    scanner.write(package(tmp_path, notes) * 2)  # bytes after the package: ignored
    assert scanner.facts.text == "仍可读取"


def _sealed(plain: bytes) -> tuple[bytes, int, bytes]:
    from bidding.envelope import encrypt_payload

    key = bytes(range(16))
    out = io.BytesIO()
    encrypt_payload(io.BytesIO(plain), out, key)
    return out.getvalue(), 0, key


def test_seekable_scan_equals_the_stream_scan(tmp_path: Path) -> None:
    from bidding.envelope.seekable import PlaintextReader

    pdf = make_pdf(tmp_path / "技术标.pdf", "王五", "本项目拟投入挖掘机三台，工期九十日历天。")
    notes = tmp_path / "说明.txt"
    notes.write_text("质量标准：合格。", encoding="utf-8")
    plain = package(tmp_path, pdf, notes)
    blob, at, key = _sealed(plain)
    facts = docscan.scan_seekable(PlaintextReader(io.BytesIO(blob), at, key))
    assert facts == scan(plain, 4096)
    assert facts.author == "王五"


def test_seekable_scan_never_decrypts_a_document_it_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document over MAX_MEMBER is jumped over: damage inside it cannot even be noticed."""
    from bidding.envelope.seekable import PlaintextReader
    from bidding.envelope.stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE

    monkeypatch.setattr(docscan, "MAX_MEMBER", 1 << 20)
    big, small = tmp_path / "图纸.dwg", tmp_path / "承诺.txt"
    big.write_bytes(os.urandom(4 << 20))
    small.write_text("本公司承诺按期完工。", encoding="utf-8")
    plain = package(tmp_path, big, small)
    blob, at, key = _sealed(plain)
    middle = plain.index(big.read_bytes()[: 1 << 10]) + (2 << 20)
    chunk = middle // CHUNK_SIZE
    damaged = bytearray(blob)
    damaged[at + NONCE_SIZE + chunk * ENC_CHUNK_SIZE + 3] ^= 0x40
    facts = docscan.scan_seekable(PlaintextReader(io.BytesIO(bytes(damaged)), at, key))
    assert facts.documents == ["图纸.dwg", "承诺.txt"]
    assert facts.text == "本公司承诺按期完工。"
