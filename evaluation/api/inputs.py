"""Request bodies of the evaluation API (``Input`` holds every field to the kernel's bounds while
it is decoded)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from evaluation.avoidance import RelationKind
from evaluation.registry import ABSENCE_KINDS
from tenderhall.web.api.schemas import Code, Input, SignedMoney, one_of

Short = Annotated[str, msgspec.Meta(max_length=200)]
Long = Annotated[str, msgspec.Meta(max_length=10000)]


class ExpertPatch(Input):
    status: Short | None = None
    employer: Short | None = None
    employer_uscc: Short | None = None
    email: Short | None = None
    phone: Short | None = None
    titles: list[Short] | None = None
    specialties: list[Short] | None = None


class AbsenceIn(Input):
    starts_on: date
    ends_on: date
    reason: Long = ""
    kind: Annotated[Code, one_of(ABSENCE_KINDS)] = "leave"


class RelationIn(Input):
    kind: Annotated[Code, one_of(RelationKind)]
    party_uscc: Short
    party_name: Short
    ended_on: date | None = None
    note: Long = ""


class RepresentativeIn(Input):
    user_id: uuid.UUID


class AdjustmentIn(Input):
    company_id: uuid.UUID
    amount: SignedMoney  # positive makes the bid dearer
    reason: Long


class VoteIn(Input):
    agree: bool


class RatingIn(Input):
    tender_id: uuid.UUID
    score: int
    comment: Long = ""


class DrawIn(Input):
    seats: dict[Code, int]
    committee_size: int
    evaluation_date: date
    draw_at: datetime
    reserves: int | None = None
    remote_fraction: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class DecisionIn(Input):
    approve: bool
    note: Long = ""


class RevealIn(Input):
    value: Annotated[str, msgspec.Meta(min_length=32, max_length=2048)]


class RespondIn(Input):
    accept: bool
    reason: Long = ""


class DeclareIn(Input):
    conflict: bool
    statement: Long = ""


class ReviewIn(Input):
    company_id: uuid.UUID
    passed: bool
    reason: Long = ""


class CommitIn(Input):
    digest: Short


class RevealSheetIn(Input):
    sheet: dict[str, Any]


class ReasonIn(Input):
    company_id: uuid.UUID
    item: Short
    reason: Long


class SignIn(Input):
    sha256: Short
    dissent: bool = False
    reason: Long = ""


class TextIn(Input):
    text: Long


class ChoiceIn(Input):
    company_id: uuid.UUID
    reason: Long
    votes: dict[Short, int] | None = None


class FileIn(Input):
    accept: bool
    note: Long = ""
