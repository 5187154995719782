"""The opening hall's rules (pure logic): phases, the decryption window, classification of bids
that were not decrypted (电子招标投标办法 第三十一条), the opening record (唱标) and the outcome.

Phases: ``decrypting`` (opening time .. end of window: bidders send file keys) → ``custodians``
(only if the tender has a remedy and some bids are still sealed: k-of-n share release) →
``ready`` → ``signing`` (record published: bidders sign or object; silence by the deadline is assent) →
``closed``. Time-driven steps are computed from a clock reading the caller passes in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from .signing import canonical

__all__ = [
    "SIGNING_MINUTES",
    "BidOutcome",
    "Cause",
    "Phase",
    "RecordRow",
    "above_ceiling",
    "after_window",
    "build_record",
    "classify",
    "due_steps",
    "outcome",
    "record_digest",
    "sign_deadline",
]

SIGNING_MINUTES = 30  # how long bidders have to sign or object once the record is out


class Phase(StrEnum):
    DECRYPTING = "decrypting"
    CUSTODIANS = "custodians"
    READY = "ready"  # every bid decrypted or classified: staff may publish the record
    SIGNING = "signing"
    CLOSED = "closed"


class Cause(StrEnum):
    BIDDER = "bidder"  # absent, wrong key, damaged envelope: the bidder's fault
    OTHER = "other"  # platform outage and other causes outside the bidder's control


class BidOutcome(StrEnum):
    REVOKED = "revoked"  # 视为撤销
    WITHDRAWN = "withdrawn"  # 视为撤回


def classify(cause: Cause) -> BidOutcome:
    """电子招标投标办法 第三十一条: a bid not decrypted through the bidder's fault is deemed revoked
    (撤销); through other causes, deemed withdrawn (撤回)."""
    return BidOutcome.REVOKED if cause is Cause.BIDDER else BidOutcome.WITHDRAWN


def due_steps(
    phase: Phase,
    now: datetime,
    window_ends_at: datetime,
    sign_deadline: datetime | None,
    unanswered_objections: int,
) -> list[str]:
    """Time-driven steps due at ``now``: ``end_window`` (decryption window over) or ``finish``
    (signing deadline passed with every objection answered)."""
    steps: list[str] = []
    if phase is Phase.DECRYPTING and now >= window_ends_at:
        steps.append("end_window")
    if (
        phase is Phase.SIGNING
        and sign_deadline is not None
        and now >= sign_deadline
        and unanswered_objections == 0
    ):
        steps.append("finish")
    return steps


def after_window(has_remedy: bool, sealed: int) -> Phase:
    """Where the hall goes when the window ends: custodians only if they can help."""
    return Phase.CUSTODIANS if has_remedy and sealed else Phase.READY


def sign_deadline(published_at: datetime, minutes: int = SIGNING_MINUTES) -> datetime:
    return published_at + timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class RecordRow:
    bid: str
    company: str
    uscc: str
    status: str  # decrypted | revoked | withdrawn
    form: dict[str, Any] | None
    form_error: str | None
    bond_fen: int | None

    @property
    def valid(self) -> bool:
        return self.status == "decrypted" and self.form is not None and self.form_error is None


def above_ceiling(price: Any, ceiling_fen: int) -> bool:
    """Whether a bid price (yuan, decimal text) is above the tender's ceiling (最高投标限价, the
    tender's estimate, in fen).  招标投标法实施条例 第五十一条 第五项: the committee must reject
    such a bid; the opening record flags it and evaluation rejects it, both by this rule."""
    try:
        return Decimal(str(price)) * 100 > ceiling_fen
    except InvalidOperation:
        return False  # not a price at all: check_form refuses such a form before anyone asks


_KEY_TERMS = ("price", "duration_days", "quality", "project_manager")


def build_record(
    tender: str,
    reference: str,
    title: str,
    opened_at: datetime,
    rows: Sequence[RecordRow],
    ceiling_fen: int | None = None,
) -> dict[str, Any]:
    """The opening record: each bidder's price and key terms read from its bid form, and the
    ceiling price read out with them.  A price above the ceiling is flagged (``above_ceiling``)
    but the bid stays valid here: rejecting it is the committee's act (实施条例 第五十一条)."""
    entries = []
    for row in sorted(rows, key=lambda r: (r.uscc, r.bid)):
        entry: dict[str, Any] = {
            "bid": row.bid,
            "company": row.company,
            "uscc": row.uscc,
            "status": row.status,
            "valid": row.valid,
        }
        if row.form is not None:
            entry.update({k: row.form[k] for k in _KEY_TERMS if k in row.form})
            if ceiling_fen is not None and "price" in row.form:
                entry["above_ceiling"] = above_ceiling(row.form["price"], ceiling_fen)
            extra = {k: v for k, v in row.form.items() if k not in (*_KEY_TERMS, "tender")}
            if extra:
                entry["other_terms"] = extra
        if row.form_error:
            entry["form_error"] = row.form_error
        if row.bond_fen is not None:
            entry["bond"] = f"{row.bond_fen / 100:.2f}"
        entries.append(entry)
    record = {
        "purpose": "tenderhall.org/opening-record/v1",
        "tender": tender,
        "reference": reference,
        "title": title,
        "opened_at": opened_at.isoformat(),
        "bids": entries,
        "valid_bids": sum(1 for r in rows if r.valid),
    }
    if ceiling_fen is not None:
        record["ceiling"] = f"{Decimal(ceiling_fen) / 100:.2f}"
        record["bids_above_ceiling"] = sum(1 for e in entries if e.get("above_ceiling"))
    return record


def record_digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def outcome(valid_bids: int, min_valid_bids: int) -> str:
    """招标投标法 第二十八条: fewer than the minimum (3) valid bids and the tender fails (流标)."""
    return "opened" if valid_bids >= min_valid_bids else "failed"
