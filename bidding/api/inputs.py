"""Request bodies of the bidding API (bounded as the envelope format and the database allow)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import msgspec

from bidding.hall import Cause
from bidding.models import BondKind
from bidding.submission import BondIn
from tenderhall.bounds import fen
from tenderhall.web.api.schemas import Input, Money, one_of

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Sig = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class KeyIn(Input):
    opening: Short
    signing: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    proof: Sig


class ReasonIn(Input):
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class CustodianKeyIn(Input):
    public_key: Short


class RemedyIn(Input):
    k: int
    custodians: list[uuid.UUID]


class BondJson(Input):
    kind: Annotated[str, msgspec.Meta(max_length=16), one_of(BondKind)]
    amount: Money
    payer_bank: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    payer_account: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    issuer: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    number: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class UploadIn(Input):
    manifest: dict[str, Any]
    signature: Sig
    idempotency_key: Annotated[str, msgspec.Meta(min_length=8, max_length=100)]
    bond: BondJson | None = None


class SignatureIn(Input):
    signature: Sig


class FileKeyIn(Input):
    file_key: Annotated[str, msgspec.Meta(max_length=64)]


class ShareIn(Input):
    index: int
    value: Annotated[str, msgspec.Meta(max_length=64)]


class CauseIn(Input):
    cause: Annotated[str, msgspec.Meta(max_length=16), one_of(Cause)]
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class TextIn(Input):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class CreditListIn(Input):
    format: Annotated[str, msgspec.Meta(max_length=8), one_of(("csv", "json"))]
    source: Short
    published_on: date
    content: Annotated[str, msgspec.Meta(max_length=20_000_000)]


def bond_in(data: BondJson | None) -> BondIn | None:
    if data is None:
        return None
    return BondIn(
        kind=data.kind,
        amount_fen=fen(data.amount),  # the schema's pattern has already bounded it
        payer_bank=data.payer_bank,
        payer_account=data.payer_account,
        issuer=data.issuer,
        number=data.number,
    )
