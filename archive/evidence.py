"""The ledger evidence of a tender: its ledger events, a signed checkpoint, and for each event an
inclusion proof against that checkpoint, as one JSON attachment (``ledger-evidence.json``).

Formats are the ledger's own (`tenderhall.ledger`): an event's body is its RFC 8785 canonical JSON
(kept here as that exact text), the checkpoint is a C2SP signed note, proofs are RFC 9162 paths
(base64).  `verify_evidence` is pure: it needs the bytes and the ledger's verifier key only.

    {"format": "tenderhall/ledger-evidence/v1", "tender": "<uuid>", "subject": "tender:<uuid>",
     "log": {"origin": "<origin>", "key": "<note verifier key>"},
     "checkpoint": "<signed note>",
     "entries": [{"index": 12, "body": "<canonical JSON>", "proof": ["<base64>", ...]}, ...]}
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.ledger import canonical, merkle
from tenderhall.ledger.checkpoint import Checkpoint, open_checkpoint
from tenderhall.ledger.models import LedgerEntry
from tenderhall.ledger.note import NoteError, Verifier
from tenderhall.services import Services

FORMAT = "tenderhall/ledger-evidence/v1"
ATTACHMENT = "ledger-evidence.json"
# Bounds a verifier keeps before it parses anything (a tender has thousands of events, not millions).
MAX_EVIDENCE_BYTES = 64 << 20
MAX_ENTRIES = 200_000
MAX_BODY_CHARS = 1 << 20


async def ledger_evidence(db: AsyncSession, services: Services, tender_id: uuid.UUID) -> bytes:
    """The evidence of ``tender_id``'s events as of now (canonical JSON bytes); reads only."""
    ledger = services.ledger
    size, root = await ledger.tree_head(db)
    subject = f"tender:{tender_id}"
    rows = (
        await db.execute(
            select(LedgerEntry.id, LedgerEntry.body)
            .where(LedgerEntry.subject == subject, LedgerEntry.id < size)
            .order_by(LedgerEntry.id)
        )
    ).all()
    entries = []
    for index, body in rows:
        proof = await ledger.inclusion_proof(db, index, size) if size > 1 else []
        entries.append(
            {
                "index": index,
                "body": bytes(body).decode("utf-8"),
                "proof": [base64.b64encode(p).decode("ascii") for p in proof],
            }
        )
    document = {
        "format": FORMAT,
        "tender": str(tender_id),
        "subject": subject,
        "log": {"origin": ledger.origin, "key": ledger.verifier.key_string()},
        "checkpoint": ledger.sign(size, root) if size else "",
        "entries": entries,
    }
    return canonical.dumps(document)


@dataclass
class EvidenceReport:
    """What the evidence proves; ``problem`` names the first thing that failed, with its params."""

    tender: str = ""
    origin: str = ""
    key: str = ""
    checkpoint: Checkpoint | None = None
    entries: int = 0
    problem: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None


def named_key(data: bytes) -> str | None:
    """The ledger key the evidence names (trusted only as far as the archive's signature is)."""
    try:
        value = json.loads(data)
        key = value["log"]["key"]
    except (ValueError, TypeError, KeyError):
        return None
    return key if isinstance(key, str) else None


def verify_evidence(data: bytes, verifier: Verifier) -> EvidenceReport:
    """Check every entry's inclusion under the attached checkpoint, and the checkpoint's signature
    with ``verifier``.  Problems are message keys of the archive catalogue."""
    report = EvidenceReport()

    def fail(problem: str, **params: Any) -> EvidenceReport:
        report.problem = f"archive.evidence.{problem}"
        report.params = params
        return report

    if len(data) > MAX_EVIDENCE_BYTES:
        return fail("too_large", limit=MAX_EVIDENCE_BYTES)
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return fail("malformed")
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        return fail("malformed")
    entries, log, note = value.get("entries"), value.get("log"), value.get("checkpoint")
    subject, tender = value.get("subject"), value.get("tender")
    if not (
        isinstance(entries, list)
        and isinstance(log, dict)
        and isinstance(note, str)
        and isinstance(tender, str)
        and subject == f"tender:{tender}"
        and isinstance(log.get("origin"), str)
    ):
        return fail("malformed")
    if len(entries) > MAX_ENTRIES:
        return fail("too_large", limit=MAX_ENTRIES)
    report.tender, report.origin, report.key = tender, log["origin"], verifier.key_string()
    try:
        checkpoint = open_checkpoint(note, verifier, log["origin"])
    except NoteError as exc:
        return fail("checkpoint_signature", reason=str(exc))
    report.checkpoint = checkpoint
    previous = -1
    for entry in entries:
        index = entry.get("index") if isinstance(entry, dict) else None
        if type(index) is not int or index <= previous:
            return fail("entry_malformed", index=index if type(index) is int else "?")
        previous = index
        problem = _entry_problem(entry, index, subject, checkpoint)
        if problem:
            return fail(problem, index=index)
    report.entries = len(entries)
    return report


def _entry_problem(entry: dict[str, Any], index: int, subject: str, checkpoint: Checkpoint) -> str | None:
    body, proof = entry.get("body"), entry.get("proof")
    if not isinstance(body, str) or len(body) > MAX_BODY_CHARS or not isinstance(proof, list):
        return "entry_malformed"
    raw = body.encode("utf-8", "surrogatepass")
    try:
        event = json.loads(body)
        if canonical.dumps(event) != raw:
            return "entry_not_canonical"
    except (ValueError, UnicodeError):
        return "entry_not_canonical"
    if not isinstance(event, dict) or event.get("index") != index:
        return "entry_index"
    if event.get("subject") != subject:
        return "entry_subject"
    hashes = []
    for item in proof:
        try:
            hashes.append(base64.b64decode(item, validate=True) if isinstance(item, str) else b"")
        except (binascii.Error, ValueError):
            return "entry_malformed"
    if not merkle.verify_inclusion(merkle.leaf_hash(raw), index, checkpoint.size, hashes, checkpoint.root):
        return "entry_not_included"
    return None
