"""OCDS 1.1.5 documents from a tender's public facts: pure, no database, no web.

One release per tender describes its current state (OCDS allows a publisher to release the whole
current state at once); its id is a digest of its content, so an id names one content for good and
a change makes a new release.  The bid details extension (every bid, losing ones included, with
bidders and values) appears once the tender is awarded.  Contracts are not modelled by the platform
(the award notice is the last act it records), so none are published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

OCDS_VERSION = "1.1"
BID_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json"
)
RELEASE_SCHEMA = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
# The identifier scheme of a Unified Social Credit Code (统一社会信用代码, GB 32100-2015).
USCC_SCHEME = "CN-USCC"
CURRENCY = "CNY"

# Tender state -> OCDS tenderStatus (closed codelist).
_ACTIVE = ("published", "closed", "opening", "opened", "evaluating", "recommended")
TENDER_STATUS = {**dict.fromkeys(_ACTIVE, "active"), "awarded": "complete", "failed": "unsuccessful"}
TENDER_STATUS["terminated"] = "cancelled"
# Procedure -> OCDS procurementMethod (closed codelist); the procedure itself goes in the details.
METHOD = {
    "open_tender": "open",
    "invited_tender": "selective",
    "competitive_negotiation": "limited",
    "competitive_consultation": "limited",
    "inquiry": "selective",
    "simplified": "limited",
}
# Bid state (bidding.models.BidState) -> OCDS bidStatus (closed codelist, bid extension).
BID_STATUS = {
    "decrypted": "valid",
    "revoked": "disqualified",
    "withdrawn": "withdrawn",
    "submitted": "pending",
}


@dataclass(frozen=True)
class Org:
    name: str
    uscc: str
    city: str = ""

    @property
    def party_id(self) -> str:
        return f"{USCC_SCHEME}-{self.uscc}"


@dataclass(frozen=True)
class DocumentFacts:
    id: str
    name: str
    media_type: str
    sha256: str
    size: int
    url: str
    published: datetime
    amendment_no: int | None = None


@dataclass(frozen=True)
class AmendmentFacts:
    number: int
    summary: str
    issued_at: datetime
    old_deadline: datetime
    new_deadline: datetime


@dataclass(frozen=True)
class BidFacts:
    ref: str
    bidder: Org
    state: str  # bidding's bid state
    valid: bool  # a valid entry of the published opening record
    price: Decimal | None
    submitted_at: datetime


@dataclass(frozen=True)
class AwardFacts:
    id: str
    supplier: Org
    price: Decimal
    issued_at: datetime
    bid_ref: str | None


@dataclass(frozen=True)
class TenderFacts:
    ocid: str
    tender_id: str
    reference: str
    title: str
    description: str
    state: str
    procedure: str
    category: str
    estimate_fen: int
    changed_at: datetime  # the release date: the last change of the tender's public facts
    issued_at: datetime | None
    deadline_at: datetime | None
    buyer: Org
    agency: Org | None = None
    documents: Sequence[DocumentFacts] = ()
    amendments: Sequence[AmendmentFacts] = ()
    bids: Sequence[BidFacts] = ()  # empty until the award
    awards: Sequence[AwardFacts] = ()
    ended_as: str | None = None  # for an archived tender: the state it ended in


def stamp(when: datetime) -> str:
    """An RFC 3339 date-time in UTC (OCDS's date-time format)."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _amount(value: Decimal) -> int | float:
    """A JSON number: whole yuan as an integer, otherwise the decimal as a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def _value(value: Decimal) -> dict[str, Any]:
    return {"amount": _amount(value), "currency": CURRENCY}


def _ref(org: Org) -> dict[str, Any]:
    return {"id": org.party_id, "name": org.name}


def _status(facts: TenderFacts) -> str:
    state = facts.ended_as if facts.state == "archived" and facts.ended_as else facts.state
    return TENDER_STATUS.get(state, "active")


def _parties(facts: TenderFacts) -> list[dict[str, Any]]:
    roles: dict[str, list[str]] = {}
    orgs: dict[str, Org] = {}

    def add(org: Org, role: str) -> None:
        orgs.setdefault(org.party_id, org)
        have = roles.setdefault(org.party_id, [])
        if role not in have:
            have.append(role)

    add(facts.buyer, "buyer")
    add(facts.agency or facts.buyer, "procuringEntity")
    for bid in facts.bids:
        add(bid.bidder, "tenderer")
    for award in facts.awards:
        add(award.supplier, "supplier")
    out = []
    for party_id, org in orgs.items():
        party: dict[str, Any] = {
            "id": party_id,
            "name": org.name,
            "identifier": {"scheme": USCC_SCHEME, "id": org.uscc, "legalName": org.name},
            "roles": roles[party_id],
        }
        if org.city:
            party["address"] = {"locality": org.city, "countryName": "中国"}
        out.append(party)
    return out


def _documents(facts: TenderFacts) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "documentType": "biddingDocuments",
            "title": d.name,
            # OCDS 1.1 has no hash field: the SHA-256 (which the download's ETag also is) goes here.
            "description": f"sha256:{d.sha256} size:{d.size}",
            "url": d.url,
            "datePublished": stamp(d.published),
            "format": d.media_type,
            "language": "zh",
        }
        for d in facts.documents
    ]


def _tender(facts: TenderFacts) -> dict[str, Any]:
    tender: dict[str, Any] = {
        "id": facts.reference,
        "title": facts.title,
        "status": _status(facts),
        "procuringEntity": _ref(facts.agency or facts.buyer),
        "value": _value(Decimal(facts.estimate_fen) / 100),
        "procurementMethod": METHOD.get(facts.procedure, "open"),
        "procurementMethodDetails": facts.procedure,
        "mainProcurementCategory": facts.category,
        "submissionMethod": ["electronicSubmission"],
    }
    if facts.description:
        tender["description"] = facts.description
    if facts.issued_at is not None or facts.deadline_at is not None:
        period: dict[str, Any] = {}
        if facts.issued_at is not None:
            period["startDate"] = stamp(facts.issued_at)
        if facts.deadline_at is not None:
            period["endDate"] = stamp(facts.deadline_at)
        tender["tenderPeriod"] = period
    documents = _documents(facts)
    if documents:
        tender["documents"] = documents
    if facts.amendments:
        tender["amendments"] = [
            {
                "id": str(a.number),
                "date": stamp(a.issued_at),
                "description": a.summary,
                "changes": [
                    {"property": "tenderPeriod.endDate", "former_value": stamp(a.old_deadline)},
                ],
            }
            for a in facts.amendments
        ]
    if facts.bids:
        tenderers = {b.bidder.party_id: b.bidder for b in facts.bids}
        tender["tenderers"] = [_ref(org) for org in tenderers.values()]
        tender["numberOfTenderers"] = len(tenderers)
    return tender


def _bids(facts: TenderFacts) -> dict[str, Any]:
    details = []
    for bid in facts.bids:
        status = BID_STATUS.get(bid.state, "pending")
        if status == "valid" and not bid.valid:
            status = "disqualified"  # decrypted, but its bid form was unreadable
        detail: dict[str, Any] = {
            "id": bid.ref,
            "date": stamp(bid.submitted_at),
            "status": status,
            "tenderers": [_ref(bid.bidder)],
        }
        if bid.price is not None:
            detail["value"] = _value(bid.price)
        details.append(detail)
    return {
        "statistics": [
            {"id": "1", "measure": "bids", "value": len(details)},
            {"id": "2", "measure": "validBids", "value": sum(1 for d in details if d["status"] == "valid")},
        ],
        "details": details,
    }


def _awards(facts: TenderFacts) -> list[dict[str, Any]]:
    out = []
    for award in facts.awards:
        entry: dict[str, Any] = {
            "id": award.id,
            "status": "active",
            "date": stamp(award.issued_at),
            "value": _value(award.price),
            "suppliers": [_ref(award.supplier)],
        }
        if award.bid_ref is not None:
            entry["relatedBids"] = [award.bid_ref]
        out.append(entry)
    return out


def _tags(facts: TenderFacts) -> list[str]:
    tags = ["tender"]
    if facts.amendments:
        tags.append("tenderAmendment")
    if _status(facts) == "cancelled":
        tags.append("tenderCancellation")
    if facts.awards:
        tags.append("award")
    return tags


def digest(document: Any) -> str:
    """SHA-256 of a JSON document's canonical form (sorted keys, no spaces)."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def release(facts: TenderFacts) -> dict[str, Any]:
    """The tender's current release; its id ends in a digest of everything else in it."""
    body: dict[str, Any] = {
        "ocid": facts.ocid,
        "date": stamp(facts.changed_at),
        "tag": _tags(facts),
        "initiationType": "tender",
        "language": "zh",
        "parties": _parties(facts),
        "buyer": _ref(facts.buyer),
        "tender": _tender(facts),
    }
    if facts.bids:
        body["bids"] = _bids(facts)
    awards = _awards(facts)
    if awards:
        body["awards"] = awards
    return {"id": f"{facts.ocid}-{digest(body)[:16]}", **body}


def record(facts: TenderFacts) -> dict[str, Any]:
    """The tender's record: its releases and the compiled release (with the ``compiled`` tag)."""
    current = release(facts)
    compiled = {**current, "tag": ["compiled"]}
    return {"ocid": facts.ocid, "releases": [current], "compiledRelease": compiled}


@dataclass(frozen=True)
class Publisher:
    name: str
    uri: str


def release_package(
    releases: Sequence[dict[str, Any]],
    uri: str,
    published: datetime,
    publisher: Publisher,
    next_url: str | None,
) -> dict[str, Any]:
    package: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": [BID_EXTENSION],
        "publishedDate": stamp(published),
        "publisher": {"name": publisher.name, "uri": publisher.uri},
        "releases": list(releases),
    }
    if next_url is not None:
        package["links"] = {"next": next_url}
    return package


def record_package(
    records: Sequence[dict[str, Any]], uri: str, published: datetime, publisher: Publisher
) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": [BID_EXTENSION],
        "publishedDate": stamp(published),
        "publisher": {"name": publisher.name, "uri": publisher.uri},
        "records": list(records),
    }
