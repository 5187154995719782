"""The document scan reads a bid package by random access: PDF metadata and text (real PDFs made by
WeasyPrint, read back by pypdf), plain text in UTF-8 or GB 18030; through the sealed payload it
decrypts only what it reads, so a large document costs nothing and damage inside a document it does
not read goes unnoticed."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

from weasyprint import HTML

from bidding import docscan
from bidding.docscan import DocumentFacts, scan_package
from bidding.envelope import encrypt_payload
from bidding.envelope.seekable import PlaintextReader
from bidding.envelope.stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE
from bidding.package import pack

FORM = {"price": "1000000", "duration_days": 180, "quality": "合格", "project_manager": "张工"}
KEY = bytes(range(16))


def make_pdf(path: Path, author: str, text: str) -> Path:
    html = f"""<html><head><meta name="author" content="{author}">
    <meta name="generator" content="标书编制工具 V3.2">
    <meta name="dcterms.created" content="2026-03-01T09:30:00+08:00">
    <title>投标文件</title></head><body><p>{text}</p></body></html>"""
    HTML(string=html).write_pdf(path)
    return path


def package(*docs: Path) -> bytes:
    out = io.BytesIO()
    pack(FORM, docs, out)
    return out.getvalue()


def sealed(plain: bytes) -> bytes:
    out = io.BytesIO()
    encrypt_payload(io.BytesIO(plain), out, KEY)
    return out.getvalue()


def scan_sealed(blob: bytes) -> DocumentFacts:
    return scan_package(io.BufferedReader(PlaintextReader(io.BytesIO(blob), 0, KEY)))


def test_pdf_metadata_and_text(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "技术标.pdf", "李四", "本工程采用装配式钢结构施工方案，工期一百八十日历天。")
    notes = tmp_path / "说明.txt"
    notes.write_text("投标人承诺：严格按照招标文件要求组织施工。", encoding="utf-8")
    plain = package(pdf, notes)
    facts = scan_sealed(sealed(plain))
    assert facts.documents == ["技术标.pdf", "说明.txt"]
    assert facts.author == "李四"
    assert "标书编制工具 V3.2" in facts.tool
    assert facts.created == dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)
    assert "装配式钢结构" in facts.text.replace(" ", "")
    assert "严格按照招标文件" in facts.text
    assert DocumentFacts.from_json(facts.to_json()) == facts
    assert scan_package(io.BytesIO(plain)) == facts  # any seekable file: the same facts


def test_gb18030_text(tmp_path: Path) -> None:
    notes = tmp_path / "报价说明.txt"
    notes.write_bytes("报价已含税费".encode("gb18030"))
    assert scan_package(io.BytesIO(package(notes))).text == "报价已含税费"


def test_text_is_read_up_to_a_bound(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(docscan, "MAX_TEXT_BYTES", 6)
    notes = tmp_path / "长.txt"
    notes.write_text("甲乙丙丁戊己", encoding="utf-8")  # 18 bytes; the bound cuts after two characters
    assert scan_package(io.BytesIO(package(notes))).text == "甲乙"


def test_a_large_document_is_never_decrypted(tmp_path: Path) -> None:
    """A 4 MiB drawing between the PDF and the text: damage inside it cannot even be noticed,
    because the scan never reads it; the documents around it are read."""
    pdf = make_pdf(tmp_path / "商务标.pdf", "王五", "本项目拟投入挖掘机三台，工期九十日历天。")
    big, small = tmp_path / "图纸.dwg", tmp_path / "承诺.txt"
    big.write_bytes(os.urandom(4 << 20))
    small.write_text("本公司承诺按期完工。", encoding="utf-8")
    plain = package(pdf, big, small)
    blob = bytearray(sealed(plain))
    chunk = (plain.index(big.read_bytes()[:1024]) + (2 << 20)) // CHUNK_SIZE
    blob[NONCE_SIZE + chunk * ENC_CHUNK_SIZE + 3] ^= 0x40
    facts = scan_sealed(bytes(blob))
    assert facts.documents == ["商务标.pdf", "图纸.dwg", "承诺.txt"]
    assert facts.author == "王五"
    assert facts.text.endswith("本公司承诺按期完工。")


def test_a_large_pdf_is_read_lazily(tmp_path: Path) -> None:
    """An 8 MiB PDF (a proposal with a large embedded drawing): its metadata and text are read
    through the cross-reference table, without reading the drawing."""
    from pypdf import PdfReader, PdfWriter

    small = make_pdf(tmp_path / "正文.pdf", "赵六", "施工组织设计：钢结构吊装方案。")
    writer = PdfWriter(clone_from=PdfReader(small))
    writer.add_attachment("图纸.dwg", os.urandom(8 << 20))
    big = tmp_path / "技术标.pdf"
    with big.open("wb") as out:
        writer.write(out)
    plain = package(big)

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, size: int | None = -1, /) -> bytes:
            out = super().read(size)
            Counting.read_bytes += len(out)
            return out

    facts = scan_package(Counting(plain))
    assert facts.author == "赵六"
    assert "钢结构吊装方案" in facts.text.replace(" ", "")
    assert len(plain) > 8 << 20
    assert Counting.read_bytes < 1 << 20  # the drawing was never read


def test_unreadable_input_is_not_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "坏.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    random_pdf = tmp_path / "乱.pdf"
    random_pdf.write_bytes(os.urandom(1 << 20))  # not a PDF at all: not handed to pypdf
    notes = tmp_path / "b.txt"
    notes.write_text("仍可读取", encoding="utf-8")
    facts = scan_package(io.BytesIO(package(broken, random_pdf, notes)))
    assert facts.text == "仍可读取"
    assert facts.author == ""
    assert facts.documents == ["坏.pdf", "乱.pdf", "b.txt"]
    assert scan_package(io.BytesIO(b"not a zip at all" * 100)) == DocumentFacts()
    # A compressed member is listed, not read (bid packages are stored).
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("bid-form.json", "{}")
        z.writestr("a.txt", "hidden")
    facts = scan_package(io.BytesIO(raw.getvalue()))
    assert facts.documents == ["a.txt"]
    assert facts.text == ""
