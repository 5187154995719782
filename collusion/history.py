"""The region's bid history as the detector reads it: one cached detector per region.

The history is region-wide (DESIGN §1: the collusion graph spans the region); every process keeps
the detector it built and rebuilds it when the history grew behind its back (another worker).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.detector import Detector, DetectorParams
from collusion.history_rows import bid_record, company_record
from collusion.models import HistoryBid
from collusion.records import CompanyRecord, TenderRecord
from tenderhall.errors import NotFound
from tenderhall.orgs.models import Centre, Company
from tenderhall.tenders.models import Tender


@dataclass
class _Cached:
    detector: Detector
    rows: int


async def region_of(db: AsyncSession, centre_id: uuid.UUID) -> uuid.UUID:
    centre = await db.get(Centre, centre_id)
    if centre is None:
        raise NotFound("error.not_found", kind="centre")
    return centre.region_id


async def region_companies(db: AsyncSession, region_id: uuid.UUID) -> list[Company]:
    return list(await db.scalars(select(Company).where(Company.region_id == region_id)))


class RegionHistory:
    def __init__(self, params: DetectorParams) -> None:
        self.params = params
        self._cache: dict[uuid.UUID, _Cached] = {}

    async def detector(self, db: AsyncSession, region_id: uuid.UUID) -> Detector:
        """The region's detector, rebuilt when the history changed behind this process's back."""
        n = int(
            await db.scalar(
                select(func.count()).select_from(HistoryBid).where(HistoryBid.region_id == region_id)
            )
            or 0
        )
        cached = self._cache.get(region_id)
        if cached is not None and cached.rows == n:
            return cached.detector
        rows = await db.scalars(
            select(HistoryBid)
            .where(HistoryBid.region_id == region_id)
            .order_by(HistoryBid.bid_date, HistoryBid.id)
        )
        bids = [bid_record(r) for r in rows]
        companies = [company_record(c) for c in await region_companies(db, region_id)]
        references = await db.execute(
            select(Tender.id, Tender.reference)
            .join(HistoryBid, HistoryBid.tender_id == Tender.id)
            .where(HistoryBid.region_id == region_id)
            .distinct()
        )
        labels = {str(tender_id): reference for tender_id, reference in references.tuples()}
        tenders: dict[str, TenderRecord] = {}
        for b in bids:
            tenders.setdefault(
                b.tender_id,
                TenderRecord(b.tender_id, b.date, estimate=b.estimate, label=labels.get(b.tender_id, "")),
            )
        det = Detector.from_records(companies, bids, tenders.values(), self.params)
        self._cache[region_id] = _Cached(det, n)
        return det

    async def add_rows(
        self,
        db: AsyncSession,
        region_id: uuid.UUID,
        rows: list[HistoryBid],
        companies: Mapping[str, CompanyRecord],
        texts: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """Insert history rows of new tenders and feed them to a fresh cached detector
        (``texts``: document text by bidder key, compared now but never stored; ``labels``:
        reference numbers by tender key, for explanations)."""
        labels = labels or {}
        det = await self.detector(db, region_id)
        db.add_all(rows)
        await db.flush()
        by_tender: dict[str, list[HistoryBid]] = {}
        for r in rows:
            by_tender.setdefault(r.tender_key, []).append(r)
        for rec in companies.values():
            if rec.company_id not in det.index.companies or not det.index.companies[rec.company_id].name:
                det.add_company(rec)
        for key, rs in by_tender.items():
            first = rs[0]
            records = [bid_record(r, (texts or {}).get(r.bidder_key, "")) for r in rs]
            det.add_tender(
                TenderRecord(key, first.bid_date, estimate=first.estimate, label=labels.get(key, "")), records
            )
        self._cache[region_id] = _Cached(det, self._cache[region_id].rows + len(rows))
