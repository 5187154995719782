"""Input records for collusion analysis: plain frozen dataclasses, no web or database types.

The lead maps database rows onto these; everything downstream interns the string ids to ints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Regime(StrEnum):
    """Which body of law governs a tender; it decides which article an alert cites first."""

    BIDDING_LAW = "bidding_law"  # 招标投标法 / 招标投标法实施条例
    GOV_PROCUREMENT = "gov_procurement"  # 政府采购法 / 财政部令第87号


@dataclass(frozen=True, slots=True)
class Shareholder:
    holder: str  # a person id or a company id
    share_pct: float  # 0..100


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    company_id: str
    name: str = ""
    credit_code: str = ""  # 统一社会信用代码 (GB 32100-2015), 18 characters
    legal_rep: str = ""  # person id of the 法定代表人 / 单位负责人
    shareholders: tuple[Shareholder, ...] = ()
    parent_id: str = ""  # controlling parent company, if known from the register
    agents: tuple[str, ...] = ()  # authorised agents (委托代理人), person ids
    project_managers: tuple[str, ...] = ()  # registered project managers (e.g. 注册建造师)
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    author: str = ""
    tool: str = ""  # creating application / bid-preparation tool and version
    created: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class LineItem:
    """One row of a price schedule (工程量清单 / 分项报价表)."""

    code: str
    quantity: float
    unit_price: float
    amount: float


@dataclass(frozen=True, slots=True)
class BidRecord:
    tender_id: str
    bidder_id: str
    price: float
    date: dt.date
    is_winner: bool = False
    estimate: float | None = None
    ip: str = ""
    device: str = ""  # client / hardware fingerprint of the bid-preparation tool
    bond_account: str = ""  # bank account the bid bond was paid from
    doc_meta: DocumentMeta = field(default_factory=DocumentMeta)
    doc_text: str = ""  # extracted text; may be empty when only a signature is kept
    doc_signature: tuple[int, ...] = ()  # similarity.doc_signatures() output, computed at upload
    line_items: tuple[LineItem, ...] = ()
    error_signatures: tuple[str, ...] = ()  # precomputed; merged with those derived from line_items
    agent: str = ""  # person who handled this bid (委托代理人)
    project_managers: tuple[str, ...] = ()  # project management members named in the bid
    contacts: tuple[str, ...] = ()  # contact persons / phones named in the bid


@dataclass(frozen=True, slots=True)
class TenderRecord:
    tender_id: str
    date: dt.date
    tenderer: str = ""
    estimate: float | None = None
    regime: Regime = Regime.BIDDING_LAW
    doc_text: str = ""  # the tender document: its text is boilerplate in every bid that quotes it
    label: str = ""  # how explanations name the tender (its reference number); default: the id
    category: str = ""  # works / goods / services or a finer class: screens are ranked within it when large


class Interner:
    """Maps strings to dense ints so the heavy lifting runs on numpy arrays."""

    __slots__ = ("_ids", "names")

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self.names: list[str] = []

    def intern(self, name: str) -> int:
        i = self._ids.get(name)
        if i is None:
            i = len(self.names)
            self._ids[name] = i
            self.names.append(name)
        return i

    def intern_many(self, names: Sequence[str]) -> list[int]:
        """``[self.intern(n) for n in names]`` at C speed (dict and map instead of a method call each)."""
        ids = self._ids
        new = [n for n in dict.fromkeys(names) if n not in ids]
        ids.update(zip(new, range(len(self.names), len(self.names) + len(new)), strict=True))
        self.names.extend(new)
        return list(map(ids.__getitem__, names))

    def get(self, name: str) -> int | None:
        return self._ids.get(name)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._ids


# GB 32100-2015: 31 characters (no I, O, Z, S, V); check digit over the first 17 positions.
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_VALUE = {c: i for i, c in enumerate(_CODE_CHARS)}
_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def credit_code_check_char(body17: str) -> str:
    """Check character for the first 17 characters of a unified social credit code."""
    if len(body17) != 17 or any(c not in _CODE_VALUE for c in body17):
        raise ValueError(f"not a credit code body: {body17!r}")
    total = sum(_CODE_VALUE[c] * w for c, w in zip(body17, _CODE_WEIGHTS, strict=True))
    return _CODE_CHARS[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    code = code.strip().upper()
    if len(code) != 18 or any(c not in _CODE_VALUE for c in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]
