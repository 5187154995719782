"""The ledger as the rest of the platform uses it: append inside the caller's transaction, sign
checkpoints, serve proofs, verify everything.

The first append of a transaction locks the single head row, so concurrent transactions get
contiguous indices in commit order; callers append as late in their transaction as they can, to
hold that lock briefly.  Appends only compute (index, body, hashes) and buffer their rows in the
session (`pending.py`): the buffer is written as one INSERT per table and one head update when the
transaction commits, or earlier when anything else is about to run in that session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import rfc8785
from sqlalchemy import Table, and_, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.clock import Clock
from tenderhall.ledger import canonical, merkle, pending
from tenderhall.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from tenderhall.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode
from tenderhall.ledger.note import Signer, Verifier
from tenderhall.ledger.pending import HEAD_ID, LedgerError, node_key

__all__ = [
    "HEAD_ID",
    "Appended",
    "Ledger",
    "LedgerError",
    "VerifyReport",
    "event_body",
    "node_key",
    "verify_log",
]

_NODES = cast(Table, LedgerNode.__table__)
_HEAD = cast(Table, LedgerHead.__table__)
_LEVEL_SHIFT = pending.LEVEL_SHIFT


def event_body(
    index: int, kind: str, at: datetime, actor: uuid.UUID | None, subject: str | None, data: Mapping[str, Any]
) -> bytes:
    """Canonical JSON of one event.  The index is inside the body, so moving a row is detectable."""
    return canonical.dumps(
        {
            "index": index,
            "kind": kind,
            "at": at.isoformat(timespec="microseconds"),
            "actor": str(actor) if actor else None,
            "subject": subject,
            "data": dict(data),
        }
    )


@dataclass(frozen=True)
class Appended:
    index: int
    leaf_hash: bytes


class Ledger:
    def __init__(self, signer: Signer, origin: str, clock: Clock, blinding_key: bytes) -> None:
        self.signer = signer
        self._blinding_key = blinding_key
        self.verifier: Verifier = signer.verifier()
        self.origin = origin
        self.clock = clock

    def blind(self, *parts: str) -> str:
        """A keyed commitment to confidential facts: public entries stay free of them, yet the
        platform can later prove what an entry referred to."""
        return hmac.new(self._blinding_key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()

    async def append(
        self,
        session: AsyncSession,
        kind: str,
        data: Mapping[str, Any],
        *,
        actor: uuid.UUID | None = None,
        subject: str | None = None,
    ) -> Appended:
        """Append one event in the caller's transaction; it commits or rolls back with the change.

        No statement per event: the index comes from the tree state locked once per transaction,
        and the entry and the nodes it completes join the session's buffer (see `pending`).
        """
        sync = session.sync_session
        if sync.new or sync.dirty or sync.deleted:
            await session.flush()  # the change this event records goes first
        state = await pending.locked(session)
        index = state.frontier.size
        body = event_body(index, kind, self.clock.now(), actor, subject, data)
        leaf = merkle.leaf_hash(body)
        state.add(index, kind, subject, body, leaf)
        return Appended(index=index, leaf_hash=leaf)

    async def tree_head(self, session: AsyncSession) -> tuple[int, bytes]:
        frontier = pending.frontier_of(session)
        if frontier is None:
            row = (
                await session.execute(select(_HEAD.c.frontier).where(_HEAD.c.id == HEAD_ID))
            ).scalar_one_or_none()
            if row is None:
                raise LedgerError("the ledger head row is missing: run `tenderhall db upgrade`")
            frontier = merkle.Frontier.from_bytes(row)
        return frontier.size, frontier.root()

    def sign(self, size: int, root: bytes) -> str:
        return sign_checkpoint(Checkpoint(origin=self.origin, size=size, root=root), self.signer)

    async def checkpoint(self, session: AsyncSession, reason: str) -> LedgerCheckpoint:
        """Sign and store a checkpoint of the current tree (a milestone), in the caller's transaction."""
        size, root = await self.tree_head(session)
        row = LedgerCheckpoint(
            size=size, root=root, note=self.sign(size, root), reason=reason, signed_at=self.clock.now()
        )
        session.add(row)
        await session.flush()
        return row

    async def _nodes_at(
        self, session: AsyncSession, size: int, refs: Iterable[merkle.NodeRef]
    ) -> dict[merkle.NodeRef, bytes]:
        """The stored nodes ``refs`` of the tree of ``size`` leaves, after checking the log has
        that size: one query, the head's size riding along as the one negative key."""
        wanted = {node_key(r): r for r in refs}
        head = select((-1 - _HEAD.c.size).label("id"), _HEAD.c.frontier.label("hash")).where(
            _HEAD.c.id == HEAD_ID
        )
        nodes = select(_NODES.c.id, _NODES.c.hash).where(_NODES.c.id.in_(wanted))
        rows = (await session.execute(union_all(nodes, head) if wanted else head)).tuples().all()
        current = next((-1 - k for k, _ in rows if k < 0), None)
        if current is None:
            raise LedgerError("the ledger head row is missing: run `tenderhall db upgrade`")
        if size < 1 or size > current:
            raise LedgerError(f"tree size must be between 1 and {current}")
        found = {wanted[k]: h for k, h in rows if k >= 0}
        if len(found) != len(wanted):
            raise LedgerError(
                "ledger nodes are missing: the store is damaged; run `tenderhall ledger verify`"
            )
        return found

    async def root_at(self, session: AsyncSession, size: int) -> bytes:
        nodes = await self._nodes_at(session, size, _plan(merkle.root_plan, size))
        return merkle.root_from_nodes(size, nodes)

    async def inclusion_proof(self, session: AsyncSession, index: int, size: int) -> list[bytes]:
        nodes = await self._nodes_at(session, size, _plan(merkle.inclusion_plan, index, size))
        if not 0 <= index < size:
            raise LedgerError(f"leaf index must be between 0 and {size - 1}")
        return merkle.inclusion_proof(index, size, nodes)

    async def consistency_proof(self, session: AsyncSession, size1: int, size2: int) -> list[bytes]:
        nodes = await self._nodes_at(session, size2, _plan(merkle.consistency_plan, size1, size2))
        if not 1 <= size1 <= size2:
            raise LedgerError(f"the first size must be between 1 and {size2}")
        return merkle.consistency_proof(size1, size2, nodes)

    async def entries(self, session: AsyncSession, start: int, end: int) -> list[LedgerEntry]:
        rows = await session.execute(
            select(LedgerEntry).where(LedgerEntry.id >= start, LedgerEntry.id < end).order_by(LedgerEntry.id)
        )
        return list(rows.scalars())

    async def entry_count(self, session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(LedgerEntry))).scalar_one())


def _plan(planner: Callable[..., list[merkle.NodeRef]], *args: int) -> list[merkle.NodeRef]:
    """The nodes a proof needs, or none for arguments out of range (the caller then says which)."""
    try:
        return planner(*args)
    except (TypeError, ValueError):
        return []


@dataclass
class VerifyReport:
    size: int
    root: bytes
    first_bad_index: int | None = None
    problem: str | None = None
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None


async def _stream_entries(session: AsyncSession, batch: int = 5000) -> AsyncIterator[LedgerEntry]:
    start = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(LedgerEntry).where(LedgerEntry.id >= start).order_by(LedgerEntry.id).limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield row
        start = rows[-1].id + 1
        session.expunge_all()


async def verify_log(
    session: AsyncSession,
    verifier: Verifier,
    origin: str,
    saved_checkpoints: Iterable[str] = (),
    progress: Callable[[int], None] | None = None,
    witnessed: Iterable[tuple[str, str]] = (),
) -> VerifyReport:
    """Re-check the whole stored log from its entries alone.

    Each entry's body must carry its own index and hash to its stored leaf and level-0 node; the
    head, every stored checkpoint and every checkpoint saved earlier (signed notes) must match the
    root recomputed from the entries.  The first bad index is named when one can be located.
    ``witnessed`` are (label, note) pairs of checkpoints witnesses cosigned (their cosignatures
    checked by the caller): held outside this database, they catch a rewrite nobody saved.
    """
    head = (await session.execute(select(LedgerHead).where(LedgerHead.id == HEAD_ID))).scalar_one()
    claimed_size = head.size
    stored_cps = list((await session.execute(select(LedgerCheckpoint))).scalars())
    checkpoints: dict[int, list[tuple[str, bytes]]] = {}
    for row in stored_cps:
        checkpoints.setdefault(row.size, []).append((f"stored checkpoint {row.reason!r}", row.root))
        try:
            cp = open_checkpoint(row.note, verifier, origin)
        except Exception as exc:  # any malformed or forged note is a verification failure
            return VerifyReport(
                size=claimed_size,
                root=b"",
                problem=f"stored checkpoint at size {row.size} does not verify: {exc}",
            )
        if cp.size != row.size or cp.root != row.root:
            return VerifyReport(
                size=claimed_size,
                root=b"",
                problem=f"stored checkpoint at size {row.size} disagrees with its signed note",
            )
    for number, note in enumerate(saved_checkpoints, 1):
        try:
            cp = open_checkpoint(note, verifier, origin)
        except Exception as exc:  # a note this log did not sign cannot vouch for it
            return VerifyReport(
                size=claimed_size, root=b"", problem=f"saved checkpoint #{number} does not verify: {exc}"
            )
        checkpoints.setdefault(cp.size, []).append((f"saved checkpoint of size {cp.size}", cp.root))
    for label, note in witnessed:
        try:
            cp = open_checkpoint(note, verifier, origin)
        except Exception as exc:  # a note this log did not sign cannot vouch for it
            return VerifyReport(size=claimed_size, root=b"", problem=f"the {label} does not verify: {exc}")
        checkpoints.setdefault(cp.size, []).append((f"{label} (size {cp.size})", cp.root))

    frontier = merkle.Frontier()
    nodes: dict[merkle.NodeRef, bytes] = {}
    expected = 0
    matched = 0  # the largest size a checkpoint vouched for: rewrites lie after it
    report = VerifyReport(size=0, root=merkle.EMPTY_ROOT)

    def fail(index: int | None, problem: str) -> VerifyReport:
        report.first_bad_index = index
        report.problem = problem
        report.size = frontier.size
        report.root = frontier.root()
        return report

    async for entry in _stream_entries(session):
        if entry.id != expected:
            return fail(expected, f"entry {expected} is missing")
        if expected % _VERIFY_BATCH == 0:
            nodes = await _nodes_completed_by(session, expected, expected + _VERIFY_BATCH)
        leaf = merkle.leaf_hash(entry.body)
        if leaf != entry.leaf_hash or nodes.get(merkle.NodeRef(0, expected)) != leaf:
            return fail(expected, f"entry {expected} does not match its stored hash")
        try:
            value = _canonical_event(entry.body)
        except ValueError:
            return fail(expected, f"entry {expected} is not canonical JSON")
        if value["index"] != expected:
            return fail(expected, f"entry {expected} carries index {value['index']}: entries were reordered")
        # kind and subject are copied out of the body for queries; a forged copy would mislead them.
        if value.get("kind") != entry.kind or value.get("subject") != entry.subject:
            return fail(expected, f"entry {expected}'s kind or subject column differs from its body")
        # Proofs are served from the interior nodes, so each one is checked as it completes.
        for ref, h in frontier.append(leaf)[1:]:
            if nodes.get(ref) != h:
                return fail(
                    None,
                    f"stored node (level {ref.level}, index {ref.index}) does not match "
                    f"entries [{ref.start}, {ref.end}): the node or an entry under it was forged",
                )
        expected += 1
        for label, root in checkpoints.get(expected, []):
            if frontier.root() != root:
                # A root cannot say which entry changed, only that one after the last match did.
                return fail(
                    None,
                    f"the log up to {expected} entries does not match the {label}: "
                    f"entries in [{matched}, {expected}) were rewritten",
                )
            report.checkpoints_checked += 1
            matched = expected
        if progress:
            progress(expected)
    if expected != claimed_size:
        # Missing entries start at `expected`; extra ones (past the head) at `claimed_size`.
        return fail(
            min(expected, claimed_size), f"the head claims {claimed_size} entries but {expected} are stored"
        )
    if frontier.to_bytes() != head.frontier:
        return fail(None, "the head's stored tree state does not match the entries")
    beyond = [s for s in checkpoints if s > expected]
    if beyond:
        label = checkpoints[max(beyond)][0][0]
        return fail(expected, f"the {label} is larger than the stored log ({expected}): entries were removed")
    report.size = frontier.size
    report.root = frontier.root()
    return report


_VERIFY_BATCH = 5000  # entries per node fetch; the same as _stream_entries' batch


async def _nodes_completed_by(session: AsyncSession, start: int, end: int) -> dict[merkle.NodeRef, bytes]:
    """Stored nodes that appending leaves [start, end) completes: node (level, i) completes with
    leaf ((i + 1) << level) - 1, so per level exactly i in [start >> level, end >> level)."""
    ranges = [
        and_(
            LedgerNode.id >= node_key(merkle.NodeRef(level, start >> level)),
            LedgerNode.id < node_key(merkle.NodeRef(level, end >> level)),
        )
        for level in range(end.bit_length())
        if start >> level < end >> level
    ]
    rows = await session.execute(select(LedgerNode.id, LedgerNode.hash).where(or_(*ranges)))
    mask = (1 << _LEVEL_SHIFT) - 1
    return {merkle.NodeRef(k >> _LEVEL_SHIFT, k & mask): h for k, h in rows.tuples()}


def _canonical_event(body: bytes) -> dict[str, Any]:
    """An event body parsed, provided it is canonical JSON carrying an integer index."""
    value = json.loads(body)
    if rfc8785.dumps(value) != body:
        raise ValueError("not canonical")
    if not isinstance(value, dict) or type(value.get("index")) is not int:
        raise ValueError("no index")
    return value


def rfc8785_index(body: bytes) -> int:
    """The index recorded inside an event body; the body must be canonical JSON."""
    index: int = _canonical_event(body)["index"]
    return index
