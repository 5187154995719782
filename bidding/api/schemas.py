"""Response bodies of the bidding API, one type per answer, so that the OpenAPI document describes
each of them.

Timestamps stay the text the API has always sent: ISO 8601 with ``+00:00`` where the handlers
wrote ``isoformat()`` (``Timestamp``), msgspec's own encoding where they passed a ``datetime``
(the sealing facts).  Keys that an answer carries only in some states are ``UNSET`` otherwise, so
they stay absent from the JSON rather than appearing as null.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

Timestamp = Annotated[str, msgspec.Meta(description="ISO 8601 date and time with its UTC offset")]


class Out(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every answer: no field may go missing or appear by accident when a view is
    converted from a mapping (``msgspec.convert``)."""


# -- keys and credit lists ------------------------------------------------------------------------------
class BidderKeyOut(Out):
    id: uuid.UUID
    company_id: uuid.UUID
    opening: str
    signing: str
    fingerprint: str
    status: str
    registered_at: Timestamp
    retired_at: Timestamp | None


class CustodianKeyOut(Out):
    id: uuid.UUID
    user_id: uuid.UUID
    public_key: str


class CreditListOut(Out):
    id: uuid.UUID
    version: str
    entries: int


# -- the tender's sealing terms -------------------------------------------------------------------------
class CustodianSlotOut(Out):
    id: str  # the stanza id: the custodian's user id
    user_id: str
    public_key: str


class RemedyOut(Out):
    k: int
    custodians: list[CustodianSlotOut]


class SealingCustodianOut(Out):
    id: str
    public_key: str


class SealingRemedyOut(Out):
    k: int
    n: int
    custodians: list[SealingCustodianOut]


class SealingOut(Out):
    tender: uuid.UUID
    reference: str
    deadline_at: datetime | None
    opening_at: datetime | None
    decryption_window_minutes: int
    bond_cap: str
    remedy: SealingRemedyOut | None
    max_envelope_bytes: int


# -- uploads and bids -----------------------------------------------------------------------------------
class UploadOut(Out):
    id: uuid.UUID
    tender: uuid.UUID
    size: int
    offset: int
    state: str
    bid_id: uuid.UUID | None


class StartedUploadOut(UploadOut):
    # Only when the idempotency key names an upload that is already a bid.
    receipt: dict[str, Any] | UnsetType | None = UNSET


class OffsetOut(Out):
    offset: int


class BidOut(Out):
    id: uuid.UUID
    bid: str
    tender: uuid.UUID
    state: str
    envelope_sha256: str
    size: int
    submitted_at: Timestamp
    receipt: dict[str, Any]  # the signed receipt (bidding.receipt): body, signature, checkpoint


class ContentReadOut(Out):
    bid: str
    reader: str
    user_id: uuid.UUID
    role: str
    at: Timestamp


# -- the opening hall -----------------------------------------------------------------------------------
class HallBidOut(Out):
    bid: str
    company: str | None
    status: str  # "sealed" or the bid's state
    via: str | None  # decrypted by the bidder's key or by the custodians


class HallRemedyOut(Out):
    k: int
    n: int


class HallResponseOut(Out):
    id: uuid.UUID
    company: uuid.UUID
    company_name: str | None
    kind: str
    text: str | None
    answer: str | None


class HallOut(Out):
    """The hall now; the window, record and responses only once the opening has begun."""

    tender: uuid.UUID
    reference: str
    title: str
    state: str
    now: Timestamp | None
    opening_at: Timestamp | None
    seconds_to_opening: float | None
    phase: str
    bids: list[HallBidOut]
    remedy: HallRemedyOut | None
    window_ends_at: Timestamp | UnsetType | None = UNSET
    seconds_left_in_window: float | UnsetType = UNSET
    record: dict[str, Any] | UnsetType | None = UNSET  # the opening record (bidding.hall.build_record)
    record_sha256: str | UnsetType | None = UNSET
    sign_deadline: Timestamp | UnsetType | None = UNSET
    outcome: str | UnsetType | None = UNSET
    responses: list[HallResponseOut] | UnsetType = UNSET
    paused: bool | UnsetType = UNSET


class FileKeyOut(Out):
    bid: str
    state: str
    form_error: str | None


class ShareRequestOut(Out):
    bid: str
    custodian: str
    header: str  # the envelope's header, base64


class ShareOut(Out):
    opened: bool
    released: int
    k: int
    bad_custodians: list[str] | UnsetType = UNSET  # once the released shares were enough to try


class CauseOut(Out):
    bid: str
    cause: str | None


class RecordOut(Out):
    record: dict[str, Any] | None
    record_sha256: str | None


class ResponseOut(Out):
    id: uuid.UUID
    kind: str


class AnswerOut(Out):
    id: uuid.UUID
    answer: str | None


class FinishOut(Out):
    phase: str
    outcome: str | None
