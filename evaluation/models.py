"""Evaluation tables (DESIGN §6): the region-wide expert registry, draws, committees, scoring,
the committee report and 评定分离 up to the award notice.

Party references in avoidance data (employer, declared relations, history) are USCCs
(统一社会信用代码), which every company and organisation has: experts know them, and they stay
stable across the platform's own ids.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenderhall.db.base import DateTimeUTC, UUIDv7AuditBase


class ExpertStatus(StrEnum):
    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class Expert(UUIDv7AuditBase):
    __tablename__ = "experts"
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    home_centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    city: Mapped[str] = mapped_column(String(50))
    employer: Mapped[str] = mapped_column(String(200))
    employer_uscc: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    titles: Mapped[list[str]] = mapped_column(JSON, default=list)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=ExpertStatus.ACTIVE.value)
    leave_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    leave_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SpecialtyCode(UUIDv7AuditBase):
    """One node of the hierarchical specialty code table (e.g. A → A01 → A0101)."""

    __tablename__ = "specialty_codes"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    parent_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(100))


class AvoidanceSettings(UUIDv7AuditBase):
    """A region's avoidance rules (evaluation.avoidance.RegionRules) and draw defaults, as data."""

    __tablename__ = "avoidance_settings"
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), unique=True)
    yearly_evaluation_cap: Mapped[int] = mapped_column(Integer, default=30)
    same_tenderer_cap: Mapped[int] = mapped_column(Integer, default=3)
    former_relation_years: Mapped[int] = mapped_column(Integer, default=3)
    conflict_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_remote_fraction: Mapped[str] = mapped_column(String(16), default="2/3")
    default_reserves: Mapped[int] = mapped_column(Integer, default=3)


class ExpertRelation(UUIDv7AuditBase):
    """A declared relation (employment, shareholding, near relative) to a company or organisation."""

    __tablename__ = "expert_relations"
    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    party_uscc: Mapped[str] = mapped_column(String(18), index=True)
    party_name: Mapped[str] = mapped_column(String(200))
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class ExpertAbsence(UUIDv7AuditBase):
    """Leave (declared by the expert) or suspension (set by staff), inclusive dates."""

    __tablename__ = "expert_absences"
    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # leave | suspension
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")


class ExpertEvaluation(UUIDv7AuditBase):
    """One evaluation an expert took part in (history: yearly cap, same-tenderer rule, workload)."""

    __tablename__ = "expert_evaluations"
    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    tender_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenders.id"), nullable=True)
    tenderer_uscc: Mapped[str] = mapped_column(String(18))
    on: Mapped[date] = mapped_column(Date, index=True)


class ExpertRating(UUIDv7AuditBase):
    """Centre staff's rating of an expert's work on one evaluation (1 to 5)."""

    __tablename__ = "expert_ratings"
    __table_args__ = (UniqueConstraint("expert_id", "tender_id"),)
    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"))
    rated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")


class EvaluationPlan(UUIDv7AuditBase):
    """Per-tender evaluation settings published with the tender documents."""

    __tablename__ = "evaluation_plans"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), unique=True)
    sme_deduction_pct: Mapped[str] = mapped_column(String(16), default="0")
    benchmark: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # k, deduction_above/below, ...
    outlier_threshold_pct: Mapped[str] = mapped_column(String(16), default="20")
    trim_extremes: Mapped[bool] = mapped_column(default=False)
    decision_method: Mapped[str] = mapped_column(String(24), default="lowest_price")
    response_hours: Mapped[int] = mapped_column(Integer, default=2)
    scoring_deadline: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    signing_deadline: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class DrawStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    COMMITTED = "committed"  # commitment anchored, waiting for the supervisor's value
    DRAWN = "drawn"


class DrawRequest(UUIDv7AuditBase):
    __tablename__ = "draw_requests"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    seats: Mapped[dict[str, int]] = mapped_column(JSON)
    committee_size: Mapped[int] = mapped_column(Integer)
    reserves: Mapped[int] = mapped_column(Integer)
    remote_fraction: Mapped[str] = mapped_column(String(16))  # "2/3"
    evaluation_date: Mapped[date] = mapped_column(Date)
    draw_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    bends: Mapped[list[str]] = mapped_column(JSON, default=list)  # default rules this request bends
    status: Mapped[str] = mapped_column(String(24), index=True)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class DrawRecordRow(UUIDv7AuditBase):
    """The committed draw, then its published record (evaluation.draw.DrawRecord canonical JSON)."""

    __tablename__ = "draw_records"
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("draw_requests.id"), unique=True)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    commitment: Mapped[dict[str, Any]] = mapped_column(JSON)
    commitment_digest: Mapped[str] = mapped_column(String(64))
    commitment_index: Mapped[int] = mapped_column(BigInteger)  # ledger leaf that anchors it
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    pool: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sealed_secret: Mapped[str] = mapped_column(String(200))  # AES-GCM under a platform data subkey
    supervisor_value: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    revealed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    revealed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    record: Mapped[str | None] = mapped_column(Text, nullable=True)  # canonical JSON, grows with replacements
    record_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SeatStatus(StrEnum):
    NOTIFIED = "notified"
    ACCEPTED = "accepted"  # must still declare
    ACTIVE = "active"  # declared no conflict: may see the tender's bids
    DECLINED = "declined"
    NO_SHOW = "no_show"
    CONFLICT = "conflict"


class SeatKind(StrEnum):
    EXPERT = "expert"  # drawn from the regional pool
    REPRESENTATIVE = "representative"  # 招标人代表, appointed by the tenderer


class CommitteeSeat(UUIDv7AuditBase):
    """One seat on a tender's committee: a drawn expert, or a tenderer representative (no
    ``expert_id`` and no ``draw_id``: the tenderer appoints one of its own staff)."""

    __tablename__ = "committee_seats"
    __table_args__ = (UniqueConstraint("tender_id", "expert_id"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=SeatKind.EXPERT.value, server_default="expert")
    draw_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("draw_records.id"), nullable=True)
    expert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("experts.id"), nullable=True, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    seat_no: Mapped[int] = mapped_column(Integer)  # the label others see ("member 3")
    specialty: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    respond_by: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # decline or conflict explanation
    declared_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("committee_seats.id"), nullable=True)


class Notification(UUIDv7AuditBase):
    """In-app message and its email outbox state (emails go out after the transaction commits)."""

    __tablename__ = "notifications"
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    read_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    email_to: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email_status: Mapped[str] = mapped_column(
        String(12), default="none", index=True
    )  # none|pending|sent|failed
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    email_next_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)  # retry


class EvaluationBid(UUIDv7AuditBase):
    """Snapshot of one opened bid taken when evaluation starts (see evaluation.opened)."""

    __tablename__ = "evaluation_bids"
    __table_args__ = (UniqueConstraint("tender_id", "company_id"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"))
    price: Mapped[str] = mapped_column(String(32))  # exact decimal, yuan
    is_sme: Mapped[bool] = mapped_column(default=False)
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # credit check, bond


class QualificationReview(UUIDv7AuditBase):
    __tablename__ = "qualification_reviews"
    __table_args__ = (UniqueConstraint("seat_id", "company_id"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee_seats.id"))
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"))
    passed: Mapped[bool] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")


class ScoreSheet(UUIDv7AuditBase):
    """Commit-reveal: ``digest`` first; the sheet itself only once every member has committed."""

    __tablename__ = "score_sheets"
    __table_args__ = (UniqueConstraint("tender_id", "seat_id"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee_seats.id"))
    digest: Mapped[str] = mapped_column(String(64))
    committed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    late: Mapped[bool] = mapped_column(default=False)
    sheet: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    revealed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class OutlierReason(UUIDv7AuditBase):
    __tablename__ = "outlier_reasons"
    __table_args__ = (UniqueConstraint("seat_id", "company_id", "item"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee_seats.id"))
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"))
    item: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)


class CommitteeReport(UUIDv7AuditBase):
    __tablename__ = "committee_reports"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class ReportSignature(UUIDv7AuditBase):
    __tablename__ = "report_signatures"
    __table_args__ = (UniqueConstraint("report_id", "seat_id"),)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee_reports.id"))
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee_seats.id"))
    verdict: Mapped[str] = mapped_column(String(12))  # assent | dissent | silent (counts as assent)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    signed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Publicity(UUIDv7AuditBase):
    """Candidate publicity (中标候选人公示)."""

    __tablename__ = "candidate_publicity"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), unique=True)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Objection(UUIDv7AuditBase):
    __tablename__ = "objections"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"))
    raised_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class TendererDecision(UUIDv7AuditBase):
    """评定分离: the tenderer's choice among the candidates, then the supervisor's filing."""

    __tablename__ = "tenderer_decisions"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), unique=True)
    method: Mapped[str] = mapped_column(String(24))
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"))
    votes: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    supervisor_status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|filed|returned
    supervisor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    supervisor_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    supervisor_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class AwardNotice(UUIDv7AuditBase):
    """中标通知书 (kind award) and 结果通知书 to the other bidders (kind result)."""

    __tablename__ = "award_notices"
    __table_args__ = (UniqueConstraint("tender_id", "company_id"),)
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"))
    kind: Mapped[str] = mapped_column(String(8))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class PriceAdjustment(UUIDv7AuditBase):
    """经评审的最低投标价法: one price adjustment a member proposes under the tender's published
    criteria; it counts once a majority of the committee agrees (see evaluation.adjustments)."""

    __tablename__ = "price_adjustments"
    tender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenders.id"), index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"))
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee_seats.id"))
    amount: Mapped[str] = mapped_column(String(32))  # exact decimal, yuan; positive makes the bid dearer
    reason: Mapped[str] = mapped_column(Text)


class AdjustmentVote(UUIDv7AuditBase):
    __tablename__ = "adjustment_votes"
    __table_args__ = (UniqueConstraint("adjustment_id", "seat_id"),)
    adjustment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_adjustments.id"), index=True)
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee_seats.id"))
    agree: Mapped[bool] = mapped_column()
