"""The archive document: the tender's records rendered by WeasyPrint into one PDF/A-3b, with the
machine-readable evidence embedded as associated files (AFRelationship).

Every font is a system font found through fontconfig (Noto CJK, installed by scripts/bootstrap.sh)
and WeasyPrint embeds the glyphs it uses; nothing is fetched while rendering (the URL fetcher
refuses everything but ``data:`` URLs, which carry the attachments)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from archive import charts
from archive.records.common import Edition
from archive.records.tender import TenderArchive, gather
from tenderhall.bounds import yuan_text
from tenderhall.errors import InvalidInput
from tenderhall.i18n import LOCALES, translate
from tenderhall.services import Services
from tenderhall.tenders.lifecycle import TenderState

TEMPLATES = Path(__file__).resolve().parent / "templates"
BEIJING = ZoneInfo("Asia/Shanghai")
# Bounds on what callers may attach: the OCDS record and the ledger bundle are far smaller.
MAX_ATTACHMENTS = 16
MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
# ISO 32000-2 7.11.3 values for an associated file's relation to the document.
RELATIONSHIPS = frozenset({"Source", "Data", "Alternative", "Supplement", "Unspecified"})
_ENDED_EARLY = frozenset({TenderState.FAILED.value, TenderState.TERMINATED.value})


@dataclass(frozen=True)
class ArchiveAttachment:
    """One file embedded as a PDF/A-3 associated file."""

    filename: str
    data: bytes
    mime_type: str
    description: str
    relationship: str = "Data"  # the reader's pages are a presentation of this data

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_attachments(attachments: Sequence[ArchiveAttachment]) -> None:
    """Refuse bad attachments before any work: a clear error, nothing rendered."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput("archive.attachment.too_many", limit=MAX_ATTACHMENTS)
    seen: set[str] = set()
    for f in attachments:
        if not _FILENAME.fullmatch(f.filename) or f.filename in seen:
            raise InvalidInput("archive.attachment.bad_name", name=f.filename[:120])
        seen.add(f.filename)
        if not _MIME.fullmatch(f.mime_type):
            raise InvalidInput("archive.attachment.bad_type", name=f.filename)
        if not 0 < len(f.data) <= MAX_ATTACHMENT_BYTES:
            raise InvalidInput("archive.attachment.bad_size", name=f.filename, limit=MAX_ATTACHMENT_BYTES)
        if f.relationship not in RELATIONSHIPS or not 0 < len(f.description) <= 500:
            raise InvalidInput("archive.attachment.bad_description", name=f.filename)


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["jinja", "html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def beijing(value: datetime | None, locale: str) -> str:
    """UTC as stored, shown in Beijing time with the zone named (北京时间 / Beijing time)."""
    if value is None:
        return "—"
    return f"{value.astimezone(BEIJING):%Y-%m-%d %H:%M:%S} {translate('archive.zone', locale)}"


def _price(text: Any) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and value > 0 else None


def _chart(a: TenderArchive, t: Any) -> str:
    opening = a.bidding.opening
    if opening is None or not opening.record:
        return ""
    bids = [
        (str(r.get("company", "")), p)
        for r in opening.record.get("bids", [])
        if (p := _price(r.get("price"))) is not None
    ]
    ceiling = Decimal(a.kernel.notice.estimate_fen) / 100 if a.kernel.notice.estimate_fen else None
    return charts.price_chart(bids, ceiling, ceiling_label=t("archive.ceiling"), unit=t("archive.chart_unit"))


def html(a: TenderArchive, attachments: Sequence[ArchiveAttachment]) -> str:
    """The document's HTML (pure: from the records and the catalogues)."""
    locale = a.locale

    def t(key: str, **params: Any) -> str:
        return translate(key, locale, **params)

    # The SVG builders escape every text they draw (charts._text), and the CSS is the package's.
    graphs = [
        Markup(charts.evidence_graph(al.graph, lambda kind: t(f"archive.evidence.{kind}")))  # noqa: S704
        for al in a.alerts
    ]
    return (
        _environment()
        .get_template("archive.html.jinja")
        .render(
            a=a,
            t=t,
            lang="zh-CN" if locale == "zh_CN" else "en",
            when=lambda v: beijing(v, locale),
            yuan=lambda fen: yuan_text(int(fen), grouped=True),
            css=Markup((TEMPLATES / "archive.css").read_text(encoding="utf-8")),  # noqa: S704
            chart=Markup(_chart(a, t)),  # noqa: S704
            graphs=graphs,
            attachments=attachments,
            ended_early=a.kernel.notice.state in _ENDED_EARLY,
        )
    )


def _fetcher() -> Any:
    """Everything the document needs is in it: only the attachments' ``data:`` URLs are fetched,
    and a failure stops the build (WeasyPrint would otherwise drop the file and go on)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), fail_on_errors=True)


def pdf(document: str, attachments: Sequence[ArchiveAttachment]) -> bytes:
    """PDF/A-3b from the HTML; each attachment an associated file (catalogue /AF, /AFRelationship)."""
    from weasyprint import HTML, Attachment

    fetcher = _fetcher()
    files = [
        Attachment(
            url=f"data:{f.mime_type};base64,{base64.b64encode(f.data).decode()}",
            url_fetcher=fetcher,
            name=f.filename,
            description=f.description,
            relationship=f.relationship,
        )
        for f in attachments
    ]
    out = HTML(string=document, url_fetcher=fetcher).write_pdf(pdf_variant="pdf/a-3b", attachments=files)
    assert isinstance(out, bytes)
    return out


async def render_archive(
    db: AsyncSession,
    services: Services,
    tender_id: uuid.UUID,
    *,
    edition: Edition | str,
    locale: str,
    attachments: Sequence[ArchiveAttachment],
) -> bytes:
    """The archive of one tender as PDF/A-3b bytes.  Reads only; the PDF is drawn in a worker
    thread so the event loop keeps serving while WeasyPrint lays out the pages."""
    try:
        chosen = Edition(edition)
    except ValueError:
        raise InvalidInput("archive.edition_unknown") from None
    if locale not in LOCALES:
        raise InvalidInput("archive.locale_unknown")
    check_attachments(attachments)
    records = await gather(db, tender_id, edition=chosen, locale=locale, now=services.clock.now())
    document = html(records, attachments)
    return await asyncio.to_thread(pdf, document, attachments)
