"""Detector runs: the incremental check after an opening, and batch scoring of imported tenders.

Every incremental check writes one ``collusion.tender_checked`` event whatever its outcome, so the
public ledger does not tell a bidder whether its tender raised an alert (DESIGN §5).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion import alert_ledger
from collusion.alert_states import OPENED, S
from collusion.detector import Detector, DetectorParams, RiskLevel, TenderRisk
from collusion.history import RegionHistory, region_of
from collusion.history_rows import company_record, row_extra
from collusion.models import Alert, AlertMember, HistoryBid
from collusion.similarity import doc_signatures
from collusion.sources import BidEvidence, BidEvidenceSource, HistorySource
from tenderhall.auth.policy import Subject
from tenderhall.clock import Clock
from tenderhall.ledger.service import Ledger
from tenderhall.orgs.models import Company
from tenderhall.tenders.models import Tender
from tenderhall.tenders.service import Tenders


def should_alert(result: TenderRisk, params: DetectorParams, on_screens_only: bool) -> bool:
    """High always; suspicious only with evidence between bidders unless screens alone are enough."""
    if result.level is RiskLevel.HIGH:
        return True
    if result.level is RiskLevel.SUSPICIOUS:
        return on_screens_only or bool(result.evidence)
    return False


def as_uuid(key: str) -> uuid.UUID | None:
    """The company id a bidder key names, if it is one (imported bidders have external keys)."""
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def _with_signature(det: Detector, b: BidEvidence) -> BidEvidence:
    """The bid with the MinHash signature of its document text (templates of the region removed),
    or as it is when it has no text, or too little that is its own to compare."""
    if not b.doc_text or b.doc_signature:
        return b
    batch = doc_signatures([b.doc_text], det.index.counter, update=False)
    if not bool(batch.comparable[0]):
        return b
    return dataclasses.replace(b, doc_signature=tuple(int(v) for v in batch.sig[0]))


class DetectorRuns:
    def __init__(
        self,
        history: RegionHistory,
        ledger: Ledger,
        clock: Clock,
        tenders: Tenders,
        *,
        alert_on_screens_only: bool = False,
    ) -> None:
        self.history = history
        self.ledger = ledger
        self.clock = clock
        self.tenders = tenders
        self.alert_on_screens_only = alert_on_screens_only
        self.source: BidEvidenceSource = HistorySource()

    @property
    def params(self) -> DetectorParams:
        return self.history.params

    async def on_transition(self, db: AsyncSession, tender: Tender, transition: str) -> None:
        if transition == "finish_opening":
            await self.run_tender(db, tender, actor=None)

    async def check(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> TenderRisk | None:
        """A staff member's re-run on an opened tender (``collusion.run``)."""
        tender = await self.tenders.load(db, who, tender_id, "collusion.run")
        return await self.run_tender(db, tender, who.user_id)

    async def run_tender(
        self, db: AsyncSession, tender: Tender, actor: uuid.UUID | None
    ) -> TenderRisk | None:
        """Check one opened tender against the region's history; opens or refreshes its alert."""
        region_id = await region_of(db, tender.centre_id)
        key = str(tender.id)
        fresh = await self.source.opened_bid_evidence(db, tender.id)
        det = await self.history.detector(db, region_id)
        if fresh and key not in det:
            await self._add_opened(db, det, region_id, tender, fresh)
            det = await self.history.detector(db, region_id)
        if key not in det:
            return None  # no bids known for this tender: nothing to check
        result = det.check(key)
        alert = None
        if should_alert(result, self.params, self.alert_on_screens_only):
            alert = await self._open_alert(db, region_id, tender.centre_id, key, tender.id, result)
        await self.ledger.append(
            db,
            "collusion.tender_checked",
            {
                "tender": key,
                # Outcome and alert are committed to, not shown: bidders read the public ledger.
                "commitment": self.ledger.blind(
                    "collusion.check", key, result.level.value, str(alert.id) if alert else ""
                ),
            },
            actor=actor,
            subject=f"tender:{tender.id}",
        )
        return result

    async def _add_opened(
        self,
        db: AsyncSession,
        det: Detector,
        region_id: uuid.UUID,
        tender: Tender,
        opened: Iterable[BidEvidence],
    ) -> None:
        """The opened bids become history rows (document texts compared now, kept as signatures)."""
        fresh = [_with_signature(det, b) for b in opened]
        texts = {str(b.company_id): b.doc_text for b in fresh if b.doc_text}
        day = (tender.opening_at or tender.deadline_at or self.clock.now()).date()
        key = str(tender.id)
        rows = [
            HistoryBid(
                region_id=region_id,
                source="platform",
                tender_key=key,
                tender_id=tender.id,
                bidder_key=str(b.company_id),
                company_id=b.company_id,
                price=float(b.price),
                bid_date=day,
                is_winner=b.is_winner,
                estimate=tender.estimate_fen / 100,
                ip=b.source_ip,
                device=b.device_fingerprint,
                bond_account=b.bond_payer_account,
                extra=row_extra(b),
            )
            for b in fresh
        ]
        companies = {
            str(c.id): company_record(c)
            for c in await db.scalars(select(Company).where(Company.id.in_([b.company_id for b in fresh])))
        }
        await self.history.add_rows(db, region_id, rows, companies, texts, {key: tender.reference})

    async def score_imported(
        self,
        db: AsyncSession,
        region_id: uuid.UUID,
        centre_id: uuid.UUID,
        tender_keys: Iterable[str],
        actor: uuid.UUID | None,
    ) -> tuple[list[TenderRisk], int]:
        """Batch-score imported tenders and open their alerts; the results and how many alerts."""
        det = await self.history.detector(db, region_id)
        results = det.batch(sorted(tender_keys))
        opened = 0
        for result in results:
            if should_alert(result, self.params, self.alert_on_screens_only):
                await self._open_alert(db, region_id, centre_id, result.tender_id, None, result, actor=actor)
                opened += 1
        return results, opened

    async def _open_alert(
        self,
        db: AsyncSession,
        region_id: uuid.UUID,
        centre_id: uuid.UUID,
        tender_key: str,
        tender_id: uuid.UUID | None,
        result: TenderRisk,
        *,
        actor: uuid.UUID | None = None,
    ) -> Alert:
        """Open the tender's alert, or refresh it while nobody has looked at it yet."""
        alert = await db.scalar(
            select(Alert).where(Alert.region_id == region_id, Alert.tender_key == tender_key)
        )
        kinds = sorted({e.kind.value for e in result.evidence})
        suspects = list(result.suspects) or sorted({b for e in result.evidence for b in (e.a, e.b)})
        if alert is None:
            alert = Alert(
                region_id=region_id,
                centre_id=centre_id,
                tender_key=tender_key,
                tender_id=tender_id,
                status=S.NEW.value,
                detected_at=self.clock.now(),
            )
            db.add(alert)
        elif alert.status != S.NEW.value:
            return alert  # under review or decided: the reviewed evidence stays as it was
        alert.level = result.level.value
        alert.risk = result.risk
        alert.hard = result.hard
        alert.bidders = list(result.bidders)
        alert.suspects = suspects
        alert.kinds = kinds
        alert.result = result.to_json()
        await db.flush()
        old = {
            m.bidder_key
            for m in await db.scalars(select(AlertMember).where(AlertMember.alert_id == alert.id))
        }
        for s in suspects:
            if s not in old:
                db.add(AlertMember(alert_id=alert.id, bidder_key=s, company_id=as_uuid(s)))
        await db.flush()
        if tender_id is None:  # batch/import: the incremental run's check event covers its own alerts
            await alert_ledger.record(self.ledger, db, alert, OPENED, actor, {"level": alert.level})
        return alert
