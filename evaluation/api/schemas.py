"""Response bodies of the evaluation API, one type per answer, so that the OpenAPI document
describes each of them.  Members appear by seat ("M3") wherever the caller may not see names.

Timestamps stay the ISO 8601 text the API has always sent (``+00:00``, not msgspec's ``Z``);
ids are UUIDs, which encode to the same text as before.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import msgspec

from evaluation.adjustments import Outcome

Timestamp = Annotated[str, msgspec.Meta(description="ISO 8601 date and time with its UTC offset")]


class Out(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every answer: no field may go missing or appear by accident when a view is
    converted from a mapping (``msgspec.convert``)."""


# -- the registry ---------------------------------------------------------------------------------------
class ExpertOut(Out):
    id: uuid.UUID
    name: str
    city: str
    home_centre_id: uuid.UUID
    employer: str
    employer_uscc: str | None
    titles: list[str]
    specialties: list[str]
    status: str
    email: str | None
    phone: str | None
    user_id: uuid.UUID | None


class ExpertPageOut(Out):
    items: list[ExpertOut]
    total: int


class RowErrorOut(Out):
    field: str
    code: str
    message: str


class RowOut(Out):
    line: int
    ok: bool
    id: uuid.UUID | None
    errors: list[RowErrorOut]


class ImportOut(Out):
    imported: int
    rejected: int
    rows: list[RowOut]


class SpecialtyOut(Out):
    code: str
    name: str
    parent: str | None


class AbsenceOut(Out):
    id: uuid.UUID
    kind: str
    starts_on: date
    ends_on: date
    reason: str


class RelationOut(Out):
    id: uuid.UUID
    kind: str
    party_uscc: str
    party_name: str
    ended_on: date | None


class RatingOut(Out):
    id: uuid.UUID
    score: int


# -- draws and seats ------------------------------------------------------------------------------------
class PlanOut(Out):
    decision_method: str
    sme_deduction_pct: str
    outlier_threshold_pct: str
    response_hours: int


class DrawRequestOut(Out):
    id: uuid.UUID
    status: str
    bends: list[str]


class DrawDecisionOut(Out):
    id: uuid.UUID
    status: str


class DrawRevealOut(Out):
    id: uuid.UUID
    commitment: str
    record_sha256: str | None


class CommitmentOut(Out):
    """What the platform commits to before the draw (``tenderhall.draw-commitment.v1``)."""

    exclusion_counts: dict[str, int]  # avoidance rule -> experts it excluded
    format: str
    params_hash: str
    pool_hash: str
    pool_size: int
    secret_hash: str


class RulesOut(Out):
    conflict_kinds: list[str]
    former_relation_years: int
    same_tenderer_cap: int
    yearly_evaluation_cap: int


class DrawParamsOut(Out):
    committee_size: int
    evaluation_date: date
    expert_seats: int
    format: str
    min_remote: int
    remote_fraction: list[int]  # [numerator, denominator]
    reserves: int
    rules: RulesOut
    seats: dict[str, int]
    tender_city: str
    tender_id: str
    tenderer_representatives: int


class PoolExpertOut(Out):
    city: str
    expert_id: str
    specialties: list[str]


class DrawnSeatOut(Out):
    expert_id: str
    specialty: str


class ReplacementOut(Out):
    departed_id: str
    reason: str
    replacement_id: str
    specialty: str


class DrawRecordOut(Out):
    """The published draw record (``tenderhall.draw-record.v1``, RFC 8785 canonical JSON):
    everything ``tenderhall draw verify`` needs to replay the draw.  Sent as the stored bytes,
    which this type describes."""

    commitment: CommitmentOut
    committee: list[DrawnSeatOut]
    format: str
    params: DrawParamsOut
    platform_secret: str  # hex
    pool: list[PoolExpertOut]
    replacements: list[ReplacementOut]
    reserves: list[str]
    seed: str  # hex
    supervisor_value: str  # hex


class DrawOut(Out):
    id: uuid.UUID
    status: str
    bends: list[str]
    seats: dict[str, int]
    committee_size: int
    remote_fraction: str
    draw_at: Timestamp
    decision_note: str | None
    commitment: CommitmentOut | None
    commitment_digest: str | None
    commitment_ledger_index: int | None
    record_sha256: str | None


class SeatOut(Out):
    id: uuid.UUID
    tender_id: uuid.UUID
    member: str
    kind: str
    specialty: str
    status: str
    respond_by: Timestamp
    declared_at: Timestamp | None


class MySeatOut(SeatOut):
    reference: str
    title: str


class CommitteeSeatOut(SeatOut):
    expert_id: uuid.UUID | None
    user_id: uuid.UUID | None
    name: str
    city: str | None
    reason: str | None


class NotificationOut(Out):
    id: uuid.UUID
    kind: str
    subject: str
    body: str
    params: dict[str, Any]
    created_at: Timestamp
    email_status: str


# -- the workspace --------------------------------------------------------------------------------------
class StartOut(Out):
    state: str


class MemberProgressOut(Out):
    member: str
    committed: bool
    late: bool
    revealed: bool


class RejectionOut(Out):
    """A bid rejected by rule: the ground (a message key), its article, the price and ceiling."""

    ground: str
    article: str
    price: str
    ceiling: str


class ProgressOut(Out):
    state: str
    members: list[MemberProgressOut]
    qualification: dict[str, bool] | None  # bidder -> passed, once every member reviewed every bid
    rejected: dict[str, RejectionOut]  # by bidder
    outliers_missing_reason: list[list[str]]  # [member, bidder, item]
    me: str | None


class BidOut(Out):
    company_id: uuid.UUID
    company: str
    price: str
    is_sme: bool
    form: dict[str, Any]
    evidence: dict[str, Any]


class ReviewOut(Out):
    company_id: uuid.UUID
    passed: bool


class CommitOut(Out):
    digest: str
    late: bool


class RevealOut(Out):
    digest: str
    revealed: bool


class ReasonOut(Out):
    item: str
    company_id: uuid.UUID


class AdjustmentOut(Out):
    id: uuid.UUID
    bidder: uuid.UUID
    amount: str
    reason: str
    proposed_by: str
    agree: int
    disagree: int
    votes: dict[str, bool]  # member -> agrees
    outcome: Outcome


class OutlierOut(Out):
    member: str
    bidder: str
    item: str
    reason: str | None


class StatisticsOut(Out):
    deviation: dict[str, str]  # member -> mean deviation from the committee
    kendalls_w: str | None
    outliers: list[OutlierOut]


# -- report and award -----------------------------------------------------------------------------------
class DraftOut(Out):
    sha256: str
    content: dict[str, Any]


class SignatureOut(Out):
    member: str
    verdict: str
    reason: str | None


class ReportOut(Out):
    sha256: str
    content: dict[str, Any]
    finalized_at: Timestamp | None
    signatures: list[SignatureOut]


class SignOut(Out):
    verdict: str


class FinalizeOut(Out):
    sha256: str
    candidates: list[str]


class PublicityOut(Out):
    tender: uuid.UUID
    starts_at: Timestamp
    ends_at: Timestamp
    candidates: list[dict[str, Any]]  # ranking rows with the company's name


class ObjectionOut(Out):
    id: uuid.UUID
    company_id: uuid.UUID
    text: str
    raised_at: Timestamp
    answer: str | None
    answered_at: Timestamp | None


class DecisionOut(Out):
    method: str
    company_id: uuid.UUID
    votes: dict[str, int]
    reason: str
    supervisor_status: str
    supervisor_note: str | None


class NoticeOut(Out):
    company_id: uuid.UUID
    kind: str
    content: dict[str, Any]
    issued_at: Timestamp
