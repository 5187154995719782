"""Request and response shapes of the API (msgspec validates input at the edge)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.exceptions import ValidationException
from litestar.params import Parameter

from tenderhall import bounds
from tenderhall.auth.roles import Role
from tenderhall.orgs import uscc
from tenderhall.orgs.models import OrganisationKind, PersonRole
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.procedures import ProcedureType
from tenderhall.tenders.service import CATEGORIES

# Row ids and offsets are signed 64-bit in both databases; larger numbers must be refused at the
# edge, or the driver's overflow would surface as a 500.
BIGINT_MAX = bounds.INT64 - 1
# Paging query parameters, the same for every list in every package.
PageOffset = Annotated[int, Parameter(ge=0, le=BIGINT_MAX)]
PageLimit = Annotated[int, Parameter(ge=1, le=100)]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


def values_of(values: Iterable[str]) -> list[str]:
    return [str(v) for v in values]


def documented(**schema: Any) -> msgspec.Meta:
    """A constraint the document states and the domain checks (not msgspec): a value outside it
    is refused with the domain's own message (422), after the policy check."""
    return msgspec.Meta(extra_json_schema={"extra": schema})


def one_of(values: Iterable[str]) -> msgspec.Meta:
    return documented(enum=values_of(values))


Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]  # a role, a procedure, a kind...
RoleName = Annotated[Code, one_of(Role)]
StateName = Annotated[Code, one_of(TenderState)]
ProcedureName = Annotated[Code, one_of(ProcedureType)]
Category = Annotated[Code, one_of(CATEGORIES)]
OrganisationKindName = Annotated[Code, one_of(OrganisationKind)]
PersonRoleName = Annotated[Code, one_of(PersonRole)]
USCC = Annotated[
    str, msgspec.Meta(min_length=1, max_length=40, extra_json_schema={"extra": {"pattern": uscc.PATTERN}})
]
USCCOut = Annotated[str, documented(pattern=uscc.PATTERN)]
Text = Annotated[str, msgspec.Meta(max_length=10000)]
# Yuan as plain decimal text (see ``tenderhall.bounds``): every schema that takes money uses these.
Money = Annotated[
    str, msgspec.Meta(max_length=16, pattern=bounds.MONEY_PATTERN, description="yuan, e.g. 1500000.00")
]
SignedMoney = Annotated[
    str, msgspec.Meta(max_length=17, pattern=bounds.SIGNED_MONEY_PATTERN, description="yuan, e.g. -2000.00")
]


def refused(exc: bounds.OutOfBounds, source: str) -> ValidationException:
    """The 400 answer for a value out of bounds, the same wherever it was found."""
    return ValidationException(extra=[{"message": str(exc), "key": exc.where, "source": source}])


def check_body(data: Any) -> None:
    """The bounds of ``Input`` for a body that is not a struct (a plain mapping, CSV text)."""
    try:
        bounds.check(data, "data")
    except bounds.OutOfBounds as exc:
        raise refused(exc, "body") from None


T = TypeVar("T")


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every request body: while decoding, before any handler runs, every field is held
    to ``tenderhall.bounds`` (no control characters, dates within the horizon, bounded free-form
    JSON), and a value outside them answers 400 like any malformed field."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            try:
                bounds.check(getattr(self, name), name)
            except bounds.OutOfBounds as exc:
                raise ValueError(str(exc)) from None  # msgspec turns it into a ValidationError


class LoginIn(Input):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class TokenLoginIn(LoginIn, forbid_unknown_fields=True):
    name: Name = "cli"
    days: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = 30


class TokenIn(Input):
    name: Name
    days: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = 30


class TokenOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    token: str | None = None  # the secret, shown once at creation


class MeOut(msgspec.Struct):
    id: uuid.UUID
    username: str
    display_name: str
    role: RoleName
    region_id: uuid.UUID | None
    centre_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    company_id: uuid.UUID | None
    locale: str


class UserIn(Input):
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    role: RoleName
    display_name: Name
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    region_id: uuid.UUID | None = None
    centre_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None


class TenderIn(Input):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    procedure: ProcedureName
    estimate: Money
    tenderer_id: uuid.UUID
    centre_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    description: Text = ""
    category: Category = "works"
    rubric: dict[str, Any] | None = None


class TenderPatch(Input):
    version: int
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] | None = None
    description: Text | None = None
    estimate: Money | None = None
    # The enum sits beside the union in the document, so it names null too.
    category: Annotated[str | None, documented(enum=[*CATEGORIES, None])] = None
    rubric: dict[str, Any] | None = None


class DocumentOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    media_type: str
    sha256: str
    size: int


class TenderOut(msgspec.Struct):
    id: uuid.UUID
    reference: str
    title: str
    procedure: ProcedureName
    state: StateName
    centre_id: uuid.UUID
    tenderer_id: uuid.UUID
    agency_id: uuid.UUID | None
    estimate: str
    category: Category
    description: str
    rubric: dict[str, Any]
    issued_at: datetime | None
    deadline_at: datetime | None
    opening_at: datetime | None
    terminated_reason: str | None
    version: int
    documents: list[DocumentOut]
    allowed_actions: list[str]


class OkOut(msgspec.Struct):
    ok: bool


class HealthOut(msgspec.Struct):
    ok: bool
    ledger_size: int


class PageOut(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class PublishIn(Input):
    deadline: datetime


class AmendIn(Input):
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    affects_preparation: bool
    new_deadline: datetime | None = None


class AmendmentOut(msgspec.Struct):
    number: int
    summary: str
    affects_preparation: bool
    issued_at: datetime
    old_deadline: datetime
    new_deadline: datetime


class ReasonIn(Input):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class QuestionIn(Input):
    question: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class AnswerIn(Input):
    answer: Annotated[str, msgspec.Meta(min_length=1, max_length=10000)]


class ClarificationOut(msgspec.Struct):
    number: int
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    asked_by_me: bool = False


class RegistrationOut(msgspec.Struct):
    tender_id: uuid.UUID
    company_id: uuid.UUID
    registered_at: datetime


class PersonIn(Input):
    role: PersonRoleName
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    id_number: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    # Litestar 2 drops a zero bound from the document (it tests the bound for truth), so restate it.
    share_percent: (
        Annotated[float, msgspec.Meta(ge=0, le=100, extra_json_schema={"extra": {"minimum": 0}})] | None
    ) = None
    certificate_no: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class BankAccountIn(Input):
    bank: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    account_no: Annotated[str, msgspec.Meta(min_length=4, max_length=40, pattern=r"^[0-9 -]+$")]
    account_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CompanyIn(Input):
    name: Name
    uscc: USCC
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    legal_representative: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    region_id: uuid.UUID | None = None
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    sme: bool = False
    persons: list[PersonIn] = []
    bank_accounts: list[BankAccountIn] = []


class PersonOut(msgspec.Struct):
    role: PersonRoleName
    name: str
    phone: str | None
    email: str | None
    share_percent: float | None
    certificate_no: str | None


class BankAccountOut(msgspec.Struct):
    bank: str
    account_no: str
    account_name: str


class CompanyOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    uscc: USCCOut
    city: str
    region_id: uuid.UUID
    legal_representative: str
    address: str
    sme: bool
    persons: list[PersonOut]
    bank_accounts: list[BankAccountOut]


class LedgerEntryOut(msgspec.Struct):
    index: int
    kind: str
    subject: str | None
    leaf_hash: str
    body: dict[str, Any]


class CheckpointOut(msgspec.Struct):
    size: int
    root: str  # base64
    reason: str
    signed_at: datetime
    note: str  # the C2SP signed note


class WitnessStateOut(msgspec.Struct):
    key: str  # the witness's verifier key
    url: str
    size: int  # the largest tree it cosigned
    cosigned_at: datetime | None
    failures: int  # consecutive failed requests
    last_error: str | None


class ProofOut(msgspec.Struct):
    size: int
    root: str
    proof: list[str]
    index: int | None = None
    first: int | None = None
    first_root: str | None = None


class RegionOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str


class CentreOut(msgspec.Struct):
    id: uuid.UUID
    region_id: uuid.UUID
    code: str
    name: str
    city: str


class OrganisationOut(msgspec.Struct):
    id: uuid.UUID
    kind: OrganisationKindName
    name: str
    uscc: USCCOut
    city: str


class ProcedureRulesOut(msgspec.Struct):
    """One procedure's rules in a region (``tenderhall.tenders.procedures.ProcedureRules``), every
    value as text as the overrides take them; ``source`` says where they come from."""

    min_bidding_period_days: str
    amendment_notice_days: str
    min_valid_bids: str
    bond_cap_percent: str
    committee_min_size: str
    committee_expert_share: str
    max_candidates: str
    publicity_days: str
    decryption_window_minutes: str
    archive_retention_years: str
    source: str


class RegionIn(Input):
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$")]
    name: Name


class CentreIn(Input):
    region_id: uuid.UUID
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$")]
    name: Name
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]


class OrganisationIn(Input):
    region_id: uuid.UUID
    kind: OrganisationKindName
    name: Name
    uscc: USCC
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]


class ProcedureRulesIn(Input):
    # Keys bounded in length only: the document cannot state bounds on mapping keys, and the
    # domain refuses an unknown rule name (422) on its own.
    overrides: dict[Annotated[str, msgspec.Meta(max_length=64)], Annotated[str, msgspec.Meta(max_length=32)]]
