"""History import: a previous system's tenders stored as the region's history, then scored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.detector import TenderRisk
from collusion.history import RegionHistory, region_companies, region_of
from collusion.history_rows import row_extra
from collusion.models import HistoryBid
from collusion.offline import ANON, Loaded
from collusion.records import CompanyRecord
from collusion.runs import DetectorRuns
from tenderhall.ledger.service import Ledger


@dataclass
class ImportReport:
    tenders: int = 0
    bids: int = 0
    skipped_existing: int = 0
    linked_companies: int = 0
    alerts: int = 0
    results: list[TenderRisk] = field(default_factory=list)


class HistoryImport:
    def __init__(self, history: RegionHistory, runs: DetectorRuns, ledger: Ledger) -> None:
        self.history = history
        self.runs = runs
        self.ledger = ledger

    async def import_history(
        self,
        db: AsyncSession,
        loaded: Loaded,
        centre_id: uuid.UUID,
        source: str,
        *,
        open_alerts: bool = True,
        actor: uuid.UUID | None = None,
    ) -> ImportReport:
        """Store a previous system's tenders as history, then score them (region-wide batch)."""
        region_id = await region_of(db, centre_id)
        report = ImportReport()
        by_uscc = {c.uscc: c for c in await region_companies(db, region_id)}
        existing = set(
            await db.scalars(
                select(HistoryBid.tender_key).where(HistoryBid.region_id == region_id).distinct()
            )
        )
        rows: list[HistoryBid] = []
        new_tenders: set[str] = set()
        linked: set[str] = set()
        for b in loaded.bids:
            if b.tender_id in existing:
                report.skipped_existing += 1
                continue
            company = by_uscc.get(b.bidder_id.strip().upper())
            bidder_key = str(company.id) if company else b.bidder_id
            if company:
                linked.add(bidder_key)
            info = loaded.companies.get(b.bidder_id)
            new_tenders.add(b.tender_id)
            rows.append(
                HistoryBid(
                    region_id=region_id,
                    source=source[:200],
                    tender_key=b.tender_id,
                    bidder_key=bidder_key,
                    company_id=company.id if company else None,
                    bidder_name=(company.name if company else (info.name if info else ""))[:200],
                    price=b.price,
                    bid_date=b.date,
                    is_winner=b.is_winner,
                    estimate=b.estimate,
                    ip=b.ip[:64],
                    device=b.device[:128],
                    bond_account=b.bond_account[:64],
                    legal_rep=(info.legal_rep if info and not company else "")[:128],
                    extra=row_extra(b),
                )
            )
        # Register facts from the export (legal representative) for firms the platform does not know.
        extra_companies = {
            r.bidder_key: CompanyRecord(r.bidder_key, r.bidder_name, legal_rep=r.legal_rep)
            for r in rows
            if r.company_id is None and not r.bidder_key.startswith(ANON)
        }
        await self.history.add_rows(db, region_id, rows, extra_companies)
        report.tenders, report.bids, report.linked_companies = len(new_tenders), len(rows), len(linked)
        if rows:
            await self.ledger.append(
                db,
                "collusion.history_imported",
                {
                    "centre": str(centre_id),
                    "tenders": report.tenders,
                    "bids": report.bids,
                    "source": self.ledger.blind("collusion.import", source),
                },
                actor=actor,
            )
        if open_alerts and new_tenders:
            report.results, report.alerts = await self.runs.score_imported(
                db, region_id, centre_id, new_tenders, actor
            )
        return report
