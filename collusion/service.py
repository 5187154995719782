"""Collusion's service (``services.get(Collusion)``): history, detector runs, the alert workflow.

Ledger discipline (DESIGN §5, no confidential facts in public entries): the ledger is public, so
entries never name a bidder or an alerted tender in clear.  Bidders and tenders appear only as
``Ledger.blind`` commitments; every incremental check writes one ``collusion.tender_checked`` event
whatever its outcome, so the log does not tell a bidder whether its tender raised an alert.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.ports import CommitteeLookup
from collusion import access
from collusion.detector import Detector, DetectorParams, RiskLevel, TenderRisk
from collusion.evidence import SPECS
from collusion.graph import graph_from_evidence, graph_view, suspect_groups
from collusion.models import Alert, AlertComment, AlertMember, AlertStatus, Finding, HistoryBid
from collusion.offline import ANON, Loaded
from collusion.records import BidRecord, CompanyRecord, DocumentMeta, Shareholder, TenderRecord
from collusion.similarity import doc_signatures
from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject, enforce, permits
from tenderhall.auth.roles import Role
from tenderhall.errors import InvalidInput, NotFound
from tenderhall.ledger.models import LedgerEntry
from tenderhall.orgs.models import Centre, Company, PersonRole
from tenderhall.services import Services
from tenderhall.tenders.models import Tender

MAX_PAGE = 100
MAX_TEXT = 4000


# ---- what the detector needs from bidding -------------------------------------------------------
@dataclass(frozen=True)
class BidEvidence:
    """One opened bid with the submission evidence captured by bidding (DESIGN §4)."""

    company_id: uuid.UUID
    price: float  # read-out price (唱标价), yuan
    is_winner: bool = False
    source_ip: str = ""
    device_fingerprint: str = ""
    bond_payer_account: str = ""
    doc_author: str = ""
    doc_tool: str = ""
    doc_created: dt.datetime | None = None
    doc_text: str = ""  # extracted text of the bid document (not stored: only its signature is)
    doc_signature: tuple[int, ...] = ()  # similarity.doc_signatures() row, if bidding computes it
    agent: str = ""  # person id (hash) who handled the bid
    project_managers: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    error_signatures: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()  # names/hashes of the documents, for the evidence view


class BidEvidenceSource(Protocol):
    async def opened_bid_evidence(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[BidEvidence]:
        """Every bid of the tender decrypted in the hall (not withdrawn, revoked or superseded)."""
        ...


class HistorySource:
    """Until bidding offers its source: the tender's bids are rows already in the history
    (imported, seeded by the demo or inserted by tests)."""

    async def opened_bid_evidence(self, db: AsyncSession, tender_id: uuid.UUID) -> Sequence[BidEvidence]:
        return []


@dataclass
class AlertPage:
    items: list[Alert]
    total: int
    limit: int
    offset: int


@dataclass
class ImportReport:
    tenders: int = 0
    bids: int = 0
    skipped_existing: int = 0
    linked_companies: int = 0
    alerts: int = 0
    results: list[TenderRisk] = field(default_factory=list)


@dataclass
class _Cached:
    detector: Detector
    rows: int


# ---- mapping rows <-> records ------------------------------------------------------------------
def person_key(name: str, id_hash: str | None, extra: str | None = None) -> str:
    """Matching value for a person: name plus keyed identity hash (readable, and two different 张伟
    never match); without an identity hash a certificate number may identify the person."""
    if id_hash:
        return f"{name}#{id_hash[:12]}"
    if extra:
        return f"{name}#{extra}"
    return ""


def company_record(c: Company) -> CompanyRecord:
    rep = ""
    shareholders: list[Shareholder] = []
    agents: list[str] = []
    pms: list[str] = []
    phones: list[str] = []
    emails: list[str] = []
    for p in c.persons:
        key = person_key(p.name, p.id_number_hash, p.certificate_no)
        if p.role == PersonRole.LEGAL_REPRESENTATIVE.value and key:
            rep = key
        elif p.role == PersonRole.SHAREHOLDER.value and (key or p.name):
            shareholders.append(Shareholder(key or f"{p.name}@{c.id}", float(p.share_percent or 0)))
        elif p.role == PersonRole.AGENT.value and key:
            agents.append(key)
        elif p.role == PersonRole.PROJECT_MANAGER.value and key:
            pms.append(key)
        if p.phone:
            phones.append(p.phone)
        if p.email:
            emails.append(p.email.lower())
    return CompanyRecord(
        company_id=str(c.id),
        name=c.name,
        credit_code=c.uscc,
        legal_rep=rep,
        shareholders=tuple(shareholders),
        agents=tuple(agents),
        project_managers=tuple(pms),
        phones=tuple(dict.fromkeys(phones)),
        emails=tuple(dict.fromkeys(emails)),
    )


def bid_record(row: HistoryBid, doc_text: str = "") -> BidRecord:
    x = row.extra or {}
    created = x.get("doc_created")
    return BidRecord(
        row.tender_key,
        row.bidder_key,
        row.price,
        row.bid_date,
        row.is_winner,
        row.estimate,
        ip=row.ip,
        device=row.device,
        bond_account=row.bond_account,
        doc_meta=DocumentMeta(
            x.get("doc_author", ""),
            x.get("doc_tool", ""),
            dt.datetime.fromisoformat(created) if created else None,
        ),
        doc_text=doc_text,
        doc_signature=tuple(x.get("doc_signature", ())),
        agent=x.get("agent", ""),
        project_managers=tuple(x.get("project_managers", ())),
        contacts=tuple(x.get("contacts", ())),
        error_signatures=tuple(x.get("error_signatures", ())),
    )


def _extra(b: BidRecord | BidEvidence) -> dict[str, Any]:
    if isinstance(b, BidRecord):
        author, tool, created = b.doc_meta.author, b.doc_meta.tool, b.doc_meta.created
        agent, pms, contacts, errs, sig = (
            b.agent,
            b.project_managers,
            b.contacts,
            b.error_signatures,
            b.doc_signature,
        )
        docs: tuple[str, ...] = ()
    else:
        author, tool, created = b.doc_author, b.doc_tool, b.doc_created
        agent, pms, contacts, errs, sig = (
            b.agent,
            b.project_managers,
            b.contacts,
            b.error_signatures,
            b.doc_signature,
        )
        docs = b.documents
    out: dict[str, Any] = {}
    for k, v in (
        ("doc_author", author),
        ("doc_tool", tool),
        ("doc_created", created.isoformat() if created else ""),
        ("agent", agent),
        ("project_managers", list(pms)),
        ("contacts", list(contacts)),
        ("error_signatures", list(errs)),
        ("doc_signature", [int(i) for i in sig]),
        ("documents", list(docs)),
    ):
        if v:
            out[k] = v
    return out


def _with_signature(det: Detector, b: BidEvidence) -> BidEvidence:
    """The bid with the MinHash signature of its document text (templates of the region removed),
    or as it is when it has no text, or too little that is its own to compare."""
    if not b.doc_text or b.doc_signature:
        return b
    batch = doc_signatures([b.doc_text], det.index.counter, update=False)
    if not bool(batch.comparable[0]):
        return b
    return dataclasses.replace(b, doc_signature=tuple(int(v) for v in batch.sig[0]))


def should_alert(result: TenderRisk, params: DetectorParams, on_screens_only: bool) -> bool:
    """High always; suspicious only with evidence between bidders unless screens alone are enough."""
    if result.level is RiskLevel.HIGH:
        return True
    if result.level is RiskLevel.SUSPICIOUS:
        return on_screens_only or bool(result.evidence)
    return False


class Collusion:
    def __init__(
        self,
        services: Services,
        source: BidEvidenceSource | None = None,
        params: DetectorParams | None = None,
        *,
        alert_on_screens_only: bool = False,
    ) -> None:
        self.services = services
        self.source: BidEvidenceSource = source or HistorySource()
        self.params = params or DetectorParams()
        self.alert_on_screens_only = alert_on_screens_only
        self.committee: CommitteeLookup | None = None
        self._cache: dict[uuid.UUID, _Cached] = {}

    @classmethod
    def attach(cls, services: Services) -> Collusion:
        svc = cls(services)
        services.tenders.add_listener(svc.on_transition)
        return svc

    def use_source(self, source: BidEvidenceSource) -> None:
        self.source = source

    def use_committee(self, lookup: CommitteeLookup) -> None:
        """How to tell a sitting committee member (evaluation's answer; none: only staff/supervisors)."""
        self.committee = lookup

    @property
    def ledger(self) -> Any:
        return self.services.ledger

    # ---- history ---------------------------------------------------------------------------------
    async def _companies(self, db: AsyncSession, region_id: uuid.UUID) -> list[Company]:
        return list(await db.scalars(select(Company).where(Company.region_id == region_id)))

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
        companies = [company_record(c) for c in await self._companies(db, region_id)]
        seen = {c.company_id for c in companies}
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
            if b.bidder_id not in seen:
                seen.add(b.bidder_id)
        det = Detector.from_records(companies, bids, tenders.values(), self.params)
        self._cache[region_id] = _Cached(det, n)
        return det

    async def _add_rows(
        self,
        db: AsyncSession,
        region_id: uuid.UUID,
        rows: list[HistoryBid],
        companies: dict[str, CompanyRecord],
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

    async def region_of(self, db: AsyncSession, centre_id: uuid.UUID) -> uuid.UUID:
        centre = await db.get(Centre, centre_id)
        if centre is None:
            raise NotFound("error.not_found", kind="centre")
        return centre.region_id

    # ---- incremental run after an opening -----------------------------------------------------------
    async def on_transition(self, db: AsyncSession, tender: Tender, transition: str) -> None:
        if transition == "finish_opening":
            await self.run_tender(db, tender, actor=None)

    async def run_tender(
        self, db: AsyncSession, tender: Tender, actor: uuid.UUID | None
    ) -> TenderRisk | None:
        """Check one opened tender against the region's history; opens or refreshes its alert."""
        region_id = await self.region_of(db, tender.centre_id)
        key = str(tender.id)
        fresh = await self.source.opened_bid_evidence(db, tender.id)
        det = await self.detector(db, region_id)
        if fresh and key not in det:
            # Document texts are compared now and kept only as signatures (for later reloads).
            fresh = [_with_signature(det, b) for b in fresh]
            texts = {str(b.company_id): b.doc_text for b in fresh if b.doc_text}
            day = (tender.opening_at or tender.deadline_at or self.services.clock.now()).date()
            estimate = tender.estimate_fen / 100
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
                    estimate=estimate,
                    ip=b.source_ip,
                    device=b.device_fingerprint,
                    bond_account=b.bond_payer_account,
                    extra=_extra(b),
                )
                for b in fresh
            ]
            companies = {
                str(c.id): company_record(c)
                for c in await db.scalars(
                    select(Company).where(Company.id.in_([b.company_id for b in fresh]))
                )
            }
            await self._add_rows(db, region_id, rows, companies, texts, {key: tender.reference})
            det = await self.detector(db, region_id)
        if key not in det:
            return None  # no bids known for this tender: nothing to check
        result = det.check(key)
        alert = None
        if should_alert(result, self.params, self.alert_on_screens_only):
            alert = await self._upsert_alert(db, region_id, tender.centre_id, key, tender.id, result)
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

    # ---- batch / import -----------------------------------------------------------------------------
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
        region_id = await self.region_of(db, centre_id)
        report = ImportReport()
        by_uscc = {c.uscc: c for c in await self._companies(db, region_id)}
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
                    extra=_extra(b),
                )
            )
        # Register facts from the export (legal representative) for firms the platform does not know.
        extra_companies = {
            r.bidder_key: CompanyRecord(r.bidder_key, r.bidder_name, legal_rep=r.legal_rep)
            for r in rows
            if r.company_id is None and not r.bidder_key.startswith(ANON)
        }
        await self._add_rows(db, region_id, rows, extra_companies)
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
            det = await self.detector(db, region_id)
            report.results = det.batch(sorted(new_tenders))
            for result in report.results:
                if should_alert(result, self.params, self.alert_on_screens_only):
                    await self._upsert_alert(
                        db, region_id, centre_id, result.tender_id, None, result, actor=actor
                    )
                    report.alerts += 1
        return report

    # ---- alerts -----------------------------------------------------------------------------------------
    async def _upsert_alert(
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
                status=AlertStatus.NEW.value,
                detected_at=self.services.clock.now(),
            )
            db.add(alert)
        elif alert.status != AlertStatus.NEW.value:
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
                db.add(AlertMember(alert_id=alert.id, bidder_key=s, company_id=_as_uuid(s)))
        await db.flush()
        if tender_id is None:  # batch/import: the incremental run's check event covers its own alerts
            await self._event(db, alert, "opened", actor, {"level": alert.level})
        return alert

    async def _event(
        self,
        db: AsyncSession,
        alert: Alert,
        what: str,
        actor: uuid.UUID | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        await self.ledger.append(
            db,
            f"collusion.alert_{what}",
            {
                "alert": str(alert.id),
                "status": alert.status,
                "tender": self.ledger.blind("collusion.tender", alert.tender_key),
                "bidders": [self.ledger.blind("collusion.bidder", s) for s in sorted(alert.suspects or [])],
                **(data or {}),
            },
            actor=actor,
            subject=f"collusion_alert:{alert.id}",
        )

    async def get(
        self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, action: str = "collusion.alert.view"
    ) -> Alert:
        alert = await db.get(Alert, alert_id, with_for_update=action != "collusion.alert.view")
        if alert is None:
            raise NotFound("error.not_found", kind="collusion_alert")
        enforce(who, action, access.alert_resource(alert), hide="collusion.alert.view")
        return alert

    async def search(
        self,
        db: AsyncSession,
        who: Subject,
        *,
        status: str | None = None,
        level: str | None = None,
        centre_id: uuid.UUID | None = None,
        tender_id: uuid.UUID | None = None,
        company_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> AlertPage:
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidInput("error.pagination", maximum=MAX_PAGE)
        query = select(Alert)
        # Mirrors the collusion.alert.view rows: anyone else sees no list at all.
        if who.role is Role.STAFF and who.centre_id:
            query = query.where(Alert.centre_id == who.centre_id)
        elif who.role is Role.SUPERVISOR and who.region_id:
            query = query.where(Alert.region_id == who.region_id)
        else:
            raise NotFound("error.not_found_path")
        if status:
            if status not in {s.value for s in AlertStatus}:
                raise InvalidInput("collusion.status_unknown", status=status)
            query = query.where(Alert.status == status)
        if level:
            if level not in {v.value for v in RiskLevel}:
                raise InvalidInput("collusion.level_unknown", level=level)
            query = query.where(Alert.level == level)
        if kind:
            if kind not in {k.value for k in SPECS}:
                raise InvalidInput("collusion.kind_unknown", kind=kind)
            query = query.where(cast(Alert.kinds, String).contains(f'"{kind}"'))
        if centre_id:
            query = query.where(Alert.centre_id == centre_id)
        if tender_id:
            query = query.where(Alert.tender_id == tender_id)
        if assignee_id:
            query = query.where(Alert.assignee_id == assignee_id)
        if company_id:
            query = query.where(
                Alert.id.in_(select(AlertMember.alert_id).where(AlertMember.company_id == company_id))
            )
        total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = await db.scalars(
            query.order_by(Alert.risk.desc(), Alert.detected_at.desc(), Alert.id).limit(limit).offset(offset)
        )
        return AlertPage(list(rows), total, limit, offset)

    async def _move(
        self,
        db: AsyncSession,
        who: Subject,
        alert_id: uuid.UUID,
        action: str,
        to: AlertStatus,
        what: str,
        data: dict[str, Any] | None = None,
    ) -> Alert:
        alert = await self.get(db, who, alert_id, action)
        before = alert.status
        alert.status = to.value
        alert.version += 1
        await db.flush()
        await self._event(db, alert, what, who.user_id, {"from": before, **(data or {})})
        return alert

    async def assign(
        self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, assignee_id: uuid.UUID
    ) -> Alert:
        alert = await self.get(db, who, alert_id, "collusion.alert.assign")
        user = await db.get(User, assignee_id)
        if user is None or user.role != Role.STAFF.value or user.centre_id != alert.centre_id:
            raise InvalidInput("collusion.assignee_invalid")
        alert.assignee_id = user.id
        alert.version += 1
        await db.flush()
        await self._event(db, alert, "assigned", who.user_id, {"assignee": str(user.id)})
        return alert

    async def start_review(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID) -> Alert:
        alert = await self._move(
            db, who, alert_id, "collusion.alert.review", AlertStatus.UNDER_REVIEW, "review_started"
        )
        if alert.assignee_id is None:
            alert.assignee_id = who.user_id
        return alert

    async def escalate(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, note: str) -> Alert:
        note = _text(note, required=True)
        alert = await self._move(
            db,
            who,
            alert_id,
            "collusion.alert.escalate",
            AlertStatus.ESCALATED,
            "escalated",
            {"note": self.ledger.blind("collusion.note", note)},
        )
        alert.escalated_at = self.services.clock.now()
        await self._comment(db, who, alert, note)
        return alert

    async def dismiss(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, reason: str) -> Alert:
        reason = _text(reason, required=True)
        alert = await self._move(
            db,
            who,
            alert_id,
            "collusion.alert.dismiss",
            AlertStatus.DISMISSED,
            "dismissed",
            {"reason": self.ledger.blind("collusion.reason", reason)},
        )
        alert.dismissed_reason = reason
        alert.decided_by, alert.decided_at = who.user_id, self.services.clock.now()
        return alert

    async def confirm(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, note: str = "") -> Alert:
        """Confirm: each suspected bidder gets a finding on its record and the tender's (archive)."""
        note = _text(note)
        alert = await self._move(
            db, who, alert_id, "collusion.alert.confirm", AlertStatus.CONFIRMED, "confirmed"
        )
        now = self.services.clock.now()
        alert.decided_by, alert.decided_at = who.user_id, now
        reasons = alert.result.get("reasons", [])
        for bidder in alert.suspects or ["*"]:
            mine = [r for r in reasons if bidder == "*" or bidder in r.get("bidders", [])] or reasons
            db.add(
                Finding(
                    alert_id=alert.id,
                    region_id=alert.region_id,
                    tender_key=alert.tender_key,
                    tender_id=alert.tender_id,
                    bidder_key=bidder,
                    company_id=_as_uuid(bidder),
                    kinds=sorted(
                        {r["key"].split(".", 1)[1] for r in mine if r["key"].startswith("evidence.")}
                    ),
                    grounds=sorted({g for r in mine for g in r.get("grounds", [])}),
                    summary_zh="\n".join(r["zh"] for r in mine)[:MAX_TEXT],
                    summary_en="\n".join(r["en"] for r in mine)[:MAX_TEXT],
                    confirmed_by=who.user_id,
                    confirmed_at=now,
                )
            )
        await db.flush()
        if note:
            await self._comment(db, who, alert, note)
        return alert

    async def comment(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, body: str) -> AlertComment:
        alert = await self.get(db, who, alert_id, "collusion.alert.comment")
        return await self._comment(db, who, alert, _text(body, required=True))

    async def _comment(self, db: AsyncSession, who: Subject, alert: Alert, body: str) -> AlertComment:
        assert who.user_id is not None
        row = AlertComment(
            alert_id=alert.id, author_id=who.user_id, body=body, written_at=self.services.clock.now()
        )
        db.add(row)
        await db.flush()
        await self._event(
            db,
            alert,
            "commented",
            who.user_id,
            {"comment": self.ledger.blind("collusion.comment", str(row.id), body)},
        )
        return row

    async def comments(self, db: AsyncSession, alert: Alert) -> list[AlertComment]:
        return list(
            await db.scalars(
                select(AlertComment)
                .where(AlertComment.alert_id == alert.id)
                .order_by(AlertComment.written_at, AlertComment.id)
            )
        )

    async def history(self, db: AsyncSession, alert: Alert) -> list[LedgerEntry]:
        subjects = [f"collusion_alert:{alert.id}"]
        return list(
            await db.scalars(
                select(LedgerEntry).where(LedgerEntry.subject.in_(subjects)).order_by(LedgerEntry.id)
            )
        )

    def alert_graph(self, alert: Alert) -> dict[str, object]:
        """Nodes, edges and evidence of the alert's tender, as stored when it was detected."""
        return dict(alert.result.get("graph") or _graph_of(alert.result))

    async def region_graph(
        self, db: AsyncSession, who: Subject, region_id: uuid.UUID | None = None, min_weight: float = 0.5
    ) -> dict[str, object]:
        region = region_id or who.region_id
        enforce(who, "collusion.graph.view", access.graph_resource(region))
        assert region is not None
        det = await self.detector(db, region)
        g = det.index.graph()
        keep = [(a, b) for a, b, d in g.edges(data=True) if d["hard"] or d["weight"] >= min_weight]
        h = g.edge_subgraph(keep).copy()
        return graph_view(h, suspect_groups(h, seed=self.params.seed))

    # ---- findings (archive, bidder record, committee) -----------------------------------------------
    async def tender_findings(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[Finding]:
        tender = await db.get(Tender, tender_id)
        if tender is None:
            raise NotFound("error.not_found", kind="tender")
        member = False
        if who.role is Role.EXPERT and who.user_id is not None and self.committee is not None:
            member = await self.committee(db, tender.id, who.user_id)
        base = await self.services.tenders.resource(db, tender, who)
        enforce(
            who,
            "collusion.finding.view",
            access.finding_resource(base, who.user_id if member else None),
            hide="tender.view",
        )
        return list(
            await db.scalars(
                select(Finding).where(Finding.tender_id == tender_id).order_by(Finding.bidder_key)
            )
        )

    async def company_findings(self, db: AsyncSession, who: Subject, company_id: uuid.UUID) -> list[Finding]:
        company = await db.get(Company, company_id)
        if company is None:
            raise NotFound("error.not_found", kind="company")
        enforce(who, "collusion.record.view", self.services.companies.resource(company), hide="company.view")
        return list(
            await db.scalars(
                select(Finding).where(Finding.company_id == company_id).order_by(Finding.confirmed_at)
            )
        )

    def can(self, who: Subject, action: str, alert: Alert) -> bool:
        return permits(who, action, access.alert_resource(alert))


def _graph_of(result: dict[str, Any]) -> dict[str, object]:
    """Rebuild the view from the stored evidence JSON (what the reviewer saw, not today's graph)."""
    nodes = sorted(set(result.get("bidders", [])))
    edges: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in result.get("reasons", []):
        e = r.get("evidence")
        if e:
            a, b = sorted((e["a"], e["b"]))
            edges.setdefault((a, b), []).append(e)
    group_of = {m: g["id"] for g in result.get("groups", []) for m in g["members"]}
    return {
        "nodes": [{"id": n, "group": group_of.get(n)} for n in nodes],
        "edges": [
            {
                "source": a,
                "target": b,
                "hard": any(x["hard"] for x in items),
                "kinds": sorted({x["kind"] for x in items}),
                "evidence": items,
            }
            for (a, b), items in sorted(edges.items())
        ],
        "groups": result.get("groups", []),
    }


def _text(value: str, *, required: bool = False) -> str:
    v = (value or "").strip()
    if required and not v:
        raise InvalidInput("collusion.text_required")
    if len(v) > MAX_TEXT:
        raise InvalidInput("collusion.text_too_long", maximum=MAX_TEXT)
    return v


def _as_uuid(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def evidence_graph(evidence: Iterable[Any]) -> dict[str, object]:
    g = graph_from_evidence(evidence)
    return graph_view(g, suspect_groups(g))


__all__ = [
    "BidEvidence",
    "BidEvidenceSource",
    "Collusion",
    "HistorySource",
    "company_record",
    "should_alert",
]
