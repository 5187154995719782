"""Mapping between stored rows (history bids, registered companies) and the detector's records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from collusion.models import HistoryBid
from collusion.records import BidRecord, CompanyRecord, DocumentMeta, Shareholder
from collusion.sources import BidEvidence
from tenderhall.orgs.models import Company, PersonRole


def person_key(name: str, id_hash: str | None, extra: str | None = None) -> str:
    """Matching value for a person: name plus keyed identity hash (readable, and two different 张伟
    never match); without an identity hash a certificate number may identify the person."""
    if id_hash:
        return f"{name}#{id_hash[:12]}"
    if extra:
        return f"{name}#{extra}"
    return ""


def company_record(c: Company) -> CompanyRecord:
    rep = ""
    shareholders: list[Shareholder] = []
    agents: list[str] = []
    pms: list[str] = []
    phones: list[str] = []
    emails: list[str] = []
    for p in c.persons:
        key = person_key(p.name, p.id_number_hash, p.certificate_no)
        if p.role == PersonRole.LEGAL_REPRESENTATIVE.value and key:
            rep = key
        elif p.role == PersonRole.SHAREHOLDER.value and (key or p.name):
            shareholders.append(Shareholder(key or f"{p.name}@{c.id}", float(p.share_percent or 0)))
        elif p.role == PersonRole.AGENT.value and key:
            agents.append(key)
        elif p.role == PersonRole.PROJECT_MANAGER.value and key:
            pms.append(key)
        if p.phone:
            phones.append(p.phone)
        if p.email:
            emails.append(p.email.lower())
    return CompanyRecord(
        company_id=str(c.id),
        name=c.name,
        credit_code=c.uscc,
        legal_rep=rep,
        shareholders=tuple(shareholders),
        agents=tuple(agents),
        project_managers=tuple(pms),
        phones=tuple(dict.fromkeys(phones)),
        emails=tuple(dict.fromkeys(emails)),
    )


def bid_record(row: HistoryBid, doc_text: str = "") -> BidRecord:
    x = row.extra or {}
    created = x.get("doc_created")
    return BidRecord(
        row.tender_key,
        row.bidder_key,
        row.price,
        row.bid_date,
        row.is_winner,
        row.estimate,
        ip=row.ip,
        device=row.device,
        bond_account=row.bond_account,
        doc_meta=DocumentMeta(
            x.get("doc_author", ""),
            x.get("doc_tool", ""),
            dt.datetime.fromisoformat(created) if created else None,
        ),
        doc_text=doc_text,
        doc_signature=tuple(x.get("doc_signature", ())),
        agent=x.get("agent", ""),
        project_managers=tuple(x.get("project_managers", ())),
        contacts=tuple(x.get("contacts", ())),
        error_signatures=tuple(x.get("error_signatures", ())),
    )


def row_extra(b: BidRecord | BidEvidence) -> dict[str, Any]:
    """``HistoryBid.extra`` for an imported record or an opened bid: the evidence without a column."""
    if isinstance(b, BidRecord):
        author, tool, created = b.doc_meta.author, b.doc_meta.tool, b.doc_meta.created
        docs: tuple[str, ...] = ()
    else:
        author, tool, created = b.doc_author, b.doc_tool, b.doc_created
        docs = b.documents
    out: dict[str, Any] = {}
    for k, v in (
        ("doc_author", author),
        ("doc_tool", tool),
        ("doc_created", created.isoformat() if created else ""),
        ("agent", b.agent),
        ("project_managers", list(b.project_managers)),
        ("contacts", list(b.contacts)),
        ("error_signatures", list(b.error_signatures)),
        ("doc_signature", [int(i) for i in b.doc_signature]),
        ("documents", list(docs)),
    ):
        if v:
            out[k] = v
    return out
