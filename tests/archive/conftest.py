"""Fixtures of the archive tests: the demo seeded once per backend and its two ended tenders'
archives rendered once (WeasyPrint takes seconds per document; the tests then read the PDFs with
poppler); a real local time-stamping authority (a separate process, once per session), a small
PDF/A-3b with attachments made by WeasyPrint, and ledger events of a tender."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.records.common import Edition
from archive.render import ArchiveAttachment, render_archive
from bidding.models import Bid, BidBond
from evaluation.models import TendererDecision
from tenderhall import demo
from tenderhall.auth.models import User
from tenderhall.clock import SystemClock
from tenderhall.compose import build_services
from tenderhall.ledger.models import LedgerEntry
from tenderhall.orgs.models import Company
from tenderhall.services import Services
from tenderhall.settings import Settings
from tenderhall.tenders.models import Tender
from tests.conftest import BACKENDS, make_settings, migrated_database
from tests.support.tsa import TimeStampingAuthority, running_tsa


@dataclass
class Built:
    settings: Settings
    awarded: Tender
    terminated: Tender
    bidder: str  # a bidder company of the awarded tender
    payer_account: str  # personal data: a bond payer's account number
    persons: list[str]  # personal data: who decided the award (评定分离) and the supervisor who filed it
    ledger_json: bytes  # the attachment: the awarded tender's ledger entries as stored
    pdfs: dict[str, Path] = field(default_factory=dict)  # "<tender>-<edition>-<locale>" -> file
    seconds: dict[str, float] = field(default_factory=dict)


async def ledger_attachment(services: Services, tender: Tender) -> bytes:
    """A real JSON built from the tender: its ledger entries (canonical bodies) and leaf hashes."""
    async with services.reader() as db:
        rows = await db.scalars(
            select(LedgerEntry).where(LedgerEntry.subject == f"tender:{tender.id}").order_by(LedgerEntry.id)
        )
        entries = [{"index": e.id, "leaf_hash": e.leaf_hash.hex(), "body": json.loads(e.body)} for e in rows]
    return json.dumps({"tender": str(tender.id), "entries": entries}, ensure_ascii=False).encode()


async def build(settings: Settings, out: Path) -> Built:
    services = build_services(settings, SystemClock())
    try:
        async with services.reader() as db:
            awarded = await db.scalar(select(Tender).where(Tender.state == "awarded"))
            terminated = await db.scalar(select(Tender).where(Tender.state == "terminated"))
            assert awarded is not None, "the demo has an awarded tender"
            assert terminated is not None, "the demo has a terminated tender"
            bid = await db.scalar(select(Bid).where(Bid.tender_id == awarded.id).limit(1))
            assert bid is not None
            bidder = await db.get(Company, bid.company_id)
            account = await db.scalar(
                select(BidBond.payer_account)
                .join(Bid, Bid.id == BidBond.bid_id)
                .where(Bid.tender_id == awarded.id, BidBond.payer_account.is_not(None))
                .limit(1)
            )
            decision = await db.scalar(
                select(TendererDecision).where(TendererDecision.tender_id == awarded.id)
            )
            assert decision is not None
            assert decision.supervisor_id is not None
            people = [await db.get(User, decision.decided_by), await db.get(User, decision.supervisor_id)]
            persons = [u.display_name for u in people if u is not None]
            assert bidder is not None
            assert account
            assert len(persons) == 2
            built = Built(
                settings,
                awarded,
                terminated,
                bidder.name,
                account,
                persons,
                await ledger_attachment(services, awarded),
            )
        attachment = ArchiveAttachment(
            "tender-ledger.json", built.ledger_json, "application/json", "The tender's ledger entries"
        )
        for tender, edition, locale in (
            (awarded, Edition.FULL, "zh_CN"),
            (awarded, Edition.PUBLIC, "zh_CN"),
            (awarded, Edition.PUBLIC, "en"),
            (terminated, Edition.PUBLIC, "zh_CN"),
        ):
            name = f"{tender.state}-{edition.value}-{locale}"
            started = time.perf_counter()
            async with services.reader() as db:
                pdf = await render_archive(
                    db, services, tender.id, edition=edition, locale=locale, attachments=[attachment]
                )
            built.seconds[name] = time.perf_counter() - started
            built.pdfs[name] = out / f"{name}.pdf"
            built.pdfs[name].write_bytes(pdf)
        return built
    finally:
        await services.engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def archived(
    request: pytest.FixtureRequest, templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    root = tmp_path_factory.mktemp(f"archive-{request.param}-{uuid.uuid4().hex[:6]}")
    with migrated_database(request.param, templates, root / "demo.db") as url:
        settings = make_settings(url, root)
        asyncio.run(demo.seed(settings))
        yield asyncio.run(build(settings, root))


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
