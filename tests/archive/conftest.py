"""Fixtures of the archive tests: a real local time-stamping authority (a separate process, once per
session), a PDF/A-3b with attachments made by WeasyPrint, and ledger events of a tender."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.tsa import TimeStampingAuthority, running_tsa

OCDS_RECORD = {
    "ocid": "ocds-th0001-0001",
    "releases": [{"url": "https://testserver.local/api/v1/ocds/releases/1", "date": "2026-03-02T02:00:00Z"}],
    "compiledRelease": {"ocid": "ocds-th0001-0001", "tender": {"title": "档案测试项目"}},
}


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimeStampingAuthority]:
    with running_tsa(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture(scope="session")
def make_pdf() -> Callable[[dict[str, bytes]], bytes]:
    """A PDF/A-3b of one page with ``attachments`` (name -> bytes) as associated files."""
    from weasyprint import HTML, Attachment

    def make(attachments: dict[str, bytes]) -> bytes:
        html = "<html lang='zh-CN'><body><h1>电子档案 一标一档</h1><p>Archive test.</p></body></html>"
        files = [
            Attachment(string=data.decode("utf-8"), name=name, relationship="Data", description=name)
            for name, data in attachments.items()
        ]
        pdf: bytes = HTML(string=html).write_pdf(pdf_variant="pdf/a-3b", attachments=files)
        return pdf

    return make


def ocds_bytes(record: dict[str, object] | None = None) -> bytes:
    return json.dumps(record or OCDS_RECORD, ensure_ascii=False).encode()


async def tender_events(services: object, count: int = 5) -> uuid.UUID:
    """``count`` ledger events about a new tender id, among events about another."""
    tender = uuid.uuid4()
    async with services.transaction() as db:  # type: ignore[attr-defined]
        for i in range(count):
            await services.ledger.append(db, "other.event", {"i": i}, subject=f"tender:{uuid.uuid4()}")  # type: ignore[attr-defined]
            await services.ledger.append(
                db, "tender.event", {"i": i, "名称": "测试"}, subject=f"tender:{tender}"
            )  # type: ignore[attr-defined]
    return tender


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path
