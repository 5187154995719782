"""Request and response bodies of the collusion API, so the OpenAPI document describes each one.

Timestamps stay ISO 8601 text as ``datetime.isoformat`` writes it (``+00:00``), the JSON the API
has always answered.  Evidence, reasons and groups are the detector's JSON stored with the alert
(``TenderRisk.to_json``); they are converted to these types on the way out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated

import msgspec

from collusion.alert_views import AlertDetail
from collusion.detector import RiskLevel, TenderRisk
from collusion.evidence import EvidenceKind, Level
from collusion.models import Alert, AlertComment, AlertStatus, Finding, HistoryBid
from tenderhall.ledger.models import LedgerEntry
from tenderhall.web.api.schemas import Input, documented, one_of

Text = Annotated[str, msgspec.Meta(max_length=4000)]
Timestamp = Annotated[str, documented(format="date-time")]
StatusName = Annotated[str, one_of(AlertStatus)]
RiskLevelName = Annotated[str, one_of(RiskLevel)]
LevelName = Annotated[str, one_of(Level)]
KindName = Annotated[str, one_of(EvidenceKind)]
# Optional fields are left out rather than null; the enum sits beside the union, so it names null.
MaybeStatus = Annotated[str | None, documented(enum=[*map(str, AlertStatus), None])]
MaybeRiskLevel = Annotated[str | None, documented(enum=[*map(str, RiskLevel), None])]


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


# ---- requests ------------------------------------------------------------------------------------
class AssignIn(Input):
    assignee_id: uuid.UUID


class NoteIn(Input):
    note: Text = ""


class ReasonIn(Input):
    reason: Text


class CommentIn(Input):
    body: Text


# ---- the detector's evidence, as stored with an alert --------------------------------------------
class EvidenceOut(msgspec.Struct):
    kind: KindName
    a: str
    b: str
    value: str
    weight: float
    hard: bool
    tenders: list[str]
    detail: dict[str, str]
    grounds: list[str]  # legal grounds' codes
    explain_zh: str
    explain_en: str


class ReasonOut(msgspec.Struct, omit_defaults=True):
    key: str  # "evidence.<kind>" or a price screen's key
    hard: bool
    weight: float
    zh: str
    en: str
    grounds: list[str]
    bidders: list[str]
    evidence: EvidenceOut | None = None  # only reasons found between two bidders


class GroupOut(msgspec.Struct):
    id: int
    members: list[str]
    level: LevelName
    hard: bool
    score: float
    kinds: list[KindName]


# ---- alerts --------------------------------------------------------------------------------------
class AlertOut(msgspec.Struct):
    id: uuid.UUID
    tender_key: str
    tender_id: uuid.UUID | None
    centre_id: uuid.UUID
    status: StatusName
    level: RiskLevelName
    risk: float
    hard: bool
    kinds: list[KindName]
    suspects: list[str]
    assignee_id: uuid.UUID | None
    detected_at: Timestamp
    escalated_at: Timestamp | None
    decided_at: Timestamp | None
    dismissed_reason: str | None
    version: int
    actions: list[str]  # the moves the caller may make now (assign, review, comment, ...)

    @classmethod
    def of(cls, a: Alert, actions: list[str]) -> AlertOut:
        return cls(
            id=a.id,
            tender_key=a.tender_key,
            tender_id=a.tender_id,
            centre_id=a.centre_id,
            status=a.status,
            level=a.level,
            risk=round(a.risk, 4),
            hard=a.hard,
            kinds=a.kinds,
            suspects=a.suspects,
            assignee_id=a.assignee_id,
            detected_at=a.detected_at.isoformat(),
            escalated_at=_when(a.escalated_at),
            decided_at=_when(a.decided_at),
            dismissed_reason=a.dismissed_reason,
            version=a.version,
            actions=actions,
        )


class AlertPageOut(msgspec.Struct):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int


class BidOut(msgspec.Struct):
    """One bid of the alerted tender with the evidence behind the reasons."""

    bidder_key: str
    name: str
    price: float
    winner: bool
    ip: str
    device: str
    bond_account: str
    documents: list[str]
    doc_author: str
    doc_tool: str
    doc_created: str  # ISO 8601, or empty when the document did not say
    source: str  # "platform", "import:<file>", "demo:..."

    @classmethod
    def of(cls, r: HistoryBid, names: Mapping[str, str]) -> BidOut:
        x = r.extra or {}
        return cls(
            bidder_key=r.bidder_key,
            name=names.get(r.bidder_key, r.bidder_name),
            price=r.price,
            winner=r.is_winner,
            ip=r.ip,
            device=r.device,
            bond_account=r.bond_account,
            documents=x.get("documents", []),
            doc_author=x.get("doc_author", ""),
            doc_tool=x.get("doc_tool", ""),
            doc_created=x.get("doc_created", ""),
            source=r.source,
        )


class CommentOut(msgspec.Struct):
    id: uuid.UUID
    author_id: uuid.UUID
    body: str
    written_at: Timestamp

    @classmethod
    def of(cls, c: AlertComment) -> CommentOut:
        return cls(id=c.id, author_id=c.author_id, body=c.body, written_at=c.written_at.isoformat())


class AlertDetailOut(AlertOut):
    bidders: list[str]
    reasons: list[ReasonOut]
    groups: list[GroupOut]
    screen_risk: float | None
    graph_score: float | None
    bidder_names: dict[str, str]
    bids: list[BidOut]
    comments: list[CommentOut]

    @classmethod
    def of_detail(cls, d: AlertDetail) -> AlertDetailOut:
        result = d.alert.result
        return cls(
            **msgspec.structs.asdict(AlertOut.of(d.alert, d.moves)),
            bidders=d.alert.bidders,
            reasons=msgspec.convert(result.get("reasons", []), list[ReasonOut]),
            groups=msgspec.convert(result.get("groups", []), list[GroupOut]),
            screen_risk=result.get("screen_risk"),
            graph_score=result.get("graph_score"),
            bidder_names=d.names,
            bids=[BidOut.of(r, d.names) for r in d.bids],
            comments=[CommentOut.of(c) for c in d.comments],
        )


class AlertEventData(msgspec.Struct, omit_defaults=True):
    """The data of an alert's ledger event: tender and bidders blinded, texts as commitments."""

    alert: str
    status: StatusName
    tender: str
    bidders: list[str]
    from_: MaybeStatus = msgspec.field(default=None, name="from")
    level: MaybeRiskLevel = None
    assignee: str | None = None
    note: str | None = None
    reason: str | None = None
    comment: str | None = None


class AlertEventBody(msgspec.Struct):
    index: int
    kind: str
    at: Timestamp
    actor: str | None
    subject: str | None
    data: AlertEventData


class AlertEventOut(msgspec.Struct):
    index: int
    kind: str
    body: AlertEventBody

    @classmethod
    def of(cls, e: LedgerEntry) -> AlertEventOut:
        return cls(index=e.id, kind=e.kind, body=msgspec.json.decode(e.body, type=AlertEventBody))


# ---- graphs --------------------------------------------------------------------------------------
class AlertNodeOut(msgspec.Struct):
    id: str
    group: int | None
    name: str  # the registered company's name, else empty


class AlertEdgeOut(msgspec.Struct):
    source: str
    target: str
    hard: bool
    kinds: list[KindName]
    evidence: list[EvidenceOut]


class AlertGraphOut(msgspec.Struct):
    nodes: list[AlertNodeOut]
    edges: list[AlertEdgeOut]
    groups: list[GroupOut]


class RegionNodeOut(msgspec.Struct):
    id: str
    name: str
    credit_code: str
    group: int | None
    degree: int


class RegionEdgeOut(msgspec.Struct):
    source: str
    target: str
    weight: float
    level: LevelName
    hard: bool
    kinds: list[KindName]
    evidence: list[EvidenceOut]


class RegionGraphOut(msgspec.Struct):
    nodes: list[RegionNodeOut]
    edges: list[RegionEdgeOut]
    groups: list[GroupOut]


# ---- runs and findings ---------------------------------------------------------------------------
class CheckOut(msgspec.Struct, omit_defaults=True):
    tender_id: uuid.UUID
    checked: bool  # false: no bids of this tender are known, nothing was checked
    level: MaybeRiskLevel = None
    risk: float | None = None

    @classmethod
    def of(cls, tender_id: uuid.UUID, result: TenderRisk | None) -> CheckOut:
        if result is None:
            return cls(tender_id=tender_id, checked=False)
        return cls(tender_id=tender_id, checked=True, level=result.level.value, risk=result.risk)


class FindingOut(msgspec.Struct):
    id: uuid.UUID
    alert_id: uuid.UUID
    tender_key: str
    tender_id: uuid.UUID | None
    bidder_key: str
    company_id: uuid.UUID | None
    kinds: list[KindName]
    grounds: list[str]
    summary_zh: str
    summary_en: str
    confirmed_at: Timestamp

    @classmethod
    def of(cls, f: Finding) -> FindingOut:
        return cls(
            id=f.id,
            alert_id=f.alert_id,
            tender_key=f.tender_key,
            tender_id=f.tender_id,
            bidder_key=f.bidder_key,
            company_id=f.company_id,
            kinds=f.kinds,
            grounds=f.grounds,
            summary_zh=f.summary_zh,
            summary_en=f.summary_en,
            confirmed_at=f.confirmed_at.isoformat(),
        )


def findings_out(rows: Iterable[Finding]) -> list[FindingOut]:
    return [FindingOut.of(f) for f in rows]
