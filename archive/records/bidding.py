"""Bidding's records of one tender: every submission with its receipt, bond and credit check; the
deadline checkpoint; the opening (who decrypted, when and how; 第三十一条 outcomes with causes; the
opening record 唱标, signatures and objections); and the bid-content access log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import queries
from bidding.models import (
    Bid,
    BidBond,
    ContentRead,
    CreditCheck,
    CreditList,
    DeadlineCheckpoint,
    RecordResponse,
    ShareRelease,
)
from tenderhall.tenders.models import Tender

from .common import Edition, companies, person, user_names


@dataclass(frozen=True)
class BondRecord:
    kind: str  # cash | guarantee
    amount_fen: int
    payer_bank: str | None
    payer_account: str | None  # personal data of the payer: full edition only
    issuer: str | None
    number: str | None


@dataclass(frozen=True)
class CreditRecord:
    listed: bool
    reason: str | None
    list_version_sha256: str
    list_source: str | None
    list_published_on: date | None
    checked_at: datetime


@dataclass(frozen=True)
class Submission:
    bid_ref: str  # the receipt's id (bound into the signed receipt)
    company: str
    state: str  # submitted | superseded | withdrawn | decrypted | revoked
    envelope_sha256: str
    envelope_size: int
    manifest_sha256: str | None
    submitted_at: datetime
    ledger_index: int
    receipt_signature: str
    superseded: bool
    withdrawn_at: datetime | None
    in_checkpoint: bool
    source_ip: str | None  # full edition only
    bond: BondRecord | None
    credit: tuple[CreditRecord, ...]


@dataclass(frozen=True)
class Checkpoint:
    envelope_hashes: tuple[str, ...]  # in the order the checkpoint holds them
    set_root: str
    ledger_index: int
    taken_at: datetime
    note: str


@dataclass(frozen=True)
class Decryption:
    bid_ref: str
    company: str
    state: str
    via: str | None  # bidder | custodians
    decrypted_at: datetime | None
    key_attempts: int
    failure_cause: str | None  # 第三十一条: bidder | other
    note: str | None
    form_error: str | None


@dataclass(frozen=True)
class ShareRecord:
    bid_ref: str
    custodian: str | None
    share_index: int
    released_at: datetime
    bad: bool


@dataclass(frozen=True)
class Response:
    company: str
    kind: str  # signed | objection | silent
    record_sha256: str
    signature: str | None
    text: str | None
    at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None


@dataclass(frozen=True)
class ContentReading:
    bid_ref: str
    reader: str | None  # full edition only
    role: str
    at: datetime


@dataclass(frozen=True)
class Opening:
    phase: str
    opened_at: datetime
    window_ends_at: datetime
    outcome: str | None  # opened | failed
    record: dict[str, Any] | None  # the published 唱标 record as signed, never re-typed
    record_sha256: str | None
    record_published_at: datetime | None
    sign_deadline: datetime | None
    decryptions: tuple[Decryption, ...]
    shares: tuple[ShareRecord, ...]
    responses: tuple[Response, ...]
    readings: tuple[ContentReading, ...]


@dataclass(frozen=True)
class BiddingRecords:
    submissions: tuple[Submission, ...]
    checkpoint: Checkpoint | None
    opening: Opening | None


async def _credit(db: AsyncSession, tender_id: uuid.UUID) -> dict[uuid.UUID | None, list[CreditRecord]]:
    lists = {c.version_hash: c for c in await db.scalars(select(CreditList))}
    out: dict[uuid.UUID | None, list[CreditRecord]] = {}
    for c in await db.scalars(
        select(CreditCheck).where(CreditCheck.tender_id == tender_id).order_by(CreditCheck.checked_at)
    ):
        lst = lists.get(c.list_version_hash)
        out.setdefault(c.bid_id, []).append(
            CreditRecord(
                c.listed,
                c.reason,
                c.list_version_hash,
                lst.source if lst else None,
                lst.published_on if lst else None,
                c.checked_at,
            )
        )
    return out


async def gather(db: AsyncSession, tender: Tender, edition: Edition) -> BiddingRecords:
    full = edition is Edition.FULL
    bids = list(
        await db.scalars(select(Bid).where(Bid.tender_id == tender.id).order_by(Bid.submitted_at, Bid.id))
    )
    names = await companies(db, {b.company_id for b in bids})
    refs = {b.id: b.bid_ref for b in bids}
    counted = {b.id for b in await queries.participants(db, tender)}
    bonds = {b.bid_id: b for b in await db.scalars(select(BidBond).where(BidBond.bid_id.in_(list(refs))))}
    credit = await _credit(db, tender.id)
    submissions = []
    for b in bids:
        bond = bonds.get(b.id)
        submissions.append(
            Submission(
                b.bid_ref,
                names.get(str(b.company_id), ""),
                b.state,
                b.envelope_sha256,
                b.envelope_size,
                b.receipt.get("body", {}).get("manifest_sha256"),
                b.submitted_at,
                b.ledger_index,
                str(b.receipt.get("signature", "")),
                b.superseded_by is not None or b.state == "superseded",
                b.withdrawn_at,
                b.id in counted,
                b.source_ip if full else None,
                None
                if bond is None
                else BondRecord(
                    bond.kind,
                    bond.amount_fen,
                    bond.payer_bank,
                    bond.payer_account if full else None,
                    bond.issuer,
                    bond.number,
                ),
                tuple(credit.get(b.id, [])),
            )
        )
    cp = await db.scalar(select(DeadlineCheckpoint).where(DeadlineCheckpoint.tender_id == tender.id))
    checkpoint = (
        None
        if cp is None
        else Checkpoint(
            tuple(cp.envelope_hashes), cp.set_root, cp.ledger_index, cp.taken_at, cp.checkpoint_note
        )
    )
    opening = await _opening(db, tender, bids, names, refs, counted, edition)
    return BiddingRecords(tuple(submissions), checkpoint, opening)


async def _opening(
    db: AsyncSession,
    tender: Tender,
    bids: list[Bid],
    names: dict[str, str],
    refs: dict[uuid.UUID, str],
    counted: set[uuid.UUID],
    edition: Edition,
) -> Opening | None:
    hall = await queries.hall_of(db, tender)
    if hall is None:
        return None
    shares = list(
        await db.scalars(
            select(ShareRelease).where(ShareRelease.bid_id.in_(list(refs))).order_by(ShareRelease.released_at)
        )
    )
    responses = list(
        await db.scalars(
            select(RecordResponse).where(RecordResponse.tender_id == tender.id).order_by(RecordResponse.at)
        )
    )
    reads = list(
        await db.scalars(
            select(ContentRead)
            .where(ContentRead.tender_id == tender.id)
            .order_by(ContentRead.at, ContentRead.id)
        )
    )
    users = await user_names(
        db, [s.released_by for s in shares] + [r.answered_by for r in responses] + [r.user_id for r in reads]
    )
    more = await companies(db, {r.company_id for r in responses} - {uuid.UUID(k) for k in names})
    names = names | more
    decryptions = tuple(
        Decryption(
            b.bid_ref,
            names.get(str(b.company_id), ""),
            b.state,
            b.decrypted_via,
            b.decrypted_at,
            b.key_attempts,
            b.failure_cause,
            b.classification_note,
            b.form_error,
        )
        for b in bids
        if b.id in counted or b.state in ("decrypted", "revoked")
    )
    return Opening(
        hall.phase,
        hall.opened_at,
        hall.window_ends_at,
        hall.outcome,
        hall.record,
        hall.record_sha256,
        hall.record_published_at,
        hall.sign_deadline,
        decryptions,
        tuple(
            ShareRecord(
                refs[s.bid_id], person(edition, users, s.released_by), s.share_index, s.released_at, s.bad
            )
            for s in shares
        ),
        tuple(
            Response(
                names.get(str(r.company_id), ""),
                r.kind,
                r.record_sha256,
                r.signature,
                r.text,
                r.at,
                r.answer,
                person(edition, users, r.answered_by),
                r.answered_at,
            )
            for r in responses
        ),
        tuple(
            ContentReading(refs.get(r.bid_id, ""), person(edition, users, r.user_id), r.role, r.at)
            for r in reads
        ),
    )
