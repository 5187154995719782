"""Appends buffered in the caller's session and written as one batch.

`Ledger.append` computes everything from the tree state it locked (the head row, read ``FOR
UPDATE`` once per transaction and savepoint), so it needs no statement of its own: the entries and
completed nodes wait here, per session, and are written as one INSERT per table plus one head
update.  That happens when the transaction (or savepoint) commits, and earlier whenever anything
else is about to touch the database through this session (an ORM flush, any statement run with
`session.execute`, a savepoint starting), so the transaction always reads what it appended and
rows referring to an entry are written after it.  A transaction that rolls back drops the buffer:
nothing of it was ever written.

Statements run directly on ``session.connection()`` bypass the session's events and would not see
unwritten appends; nothing reads the ledger that way inside an appending transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from tenderhall.ledger import merkle
from tenderhall.ledger.models import LedgerEntry, LedgerHead, LedgerNode

HEAD_ID = 1
LEVEL_SHIFT = 57  # node primary key = level << 57 | index: one B-tree lookup per node

_ENTRIES = cast(Table, LedgerEntry.__table__)
_NODES = cast(Table, LedgerNode.__table__)
_HEAD = cast(Table, LedgerHead.__table__)
_STATE_KEY = "tenderhall.ledger.pending"
_HOOKED_KEY = "tenderhall.ledger.hooked"


class LedgerError(Exception):
    """A request the ledger cannot answer (e.g. a proof for a size it does not have)."""


def node_key(ref: merkle.NodeRef) -> int:
    return (ref.level << LEVEL_SHIFT) | ref.index


Owner = tuple[SessionTransaction | None, SessionTransaction | None]


def _owner(session: Session) -> Owner:
    return (session.get_transaction(), session.get_nested_transaction())


@dataclass
class Pending:
    """The tree state one transaction (or savepoint) locked, and the rows it has not written yet."""

    owner: Owner
    frontier: merkle.Frontier
    entries: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    head_written: bool = True  # whether the stored head matches `frontier`
    failed: bool = False  # a write failed: this transaction must not commit what it buffered

    def add(self, index: int, kind: str, subject: str | None, body: bytes, leaf: bytes) -> None:
        self.entries.append({"id": index, "kind": kind, "subject": subject, "body": body, "leaf_hash": leaf})
        self.nodes.extend({"id": node_key(ref), "hash": h} for ref, h in self.frontier.append(leaf))
        self.head_written = False

    def write(self, conn: Connection) -> None:
        """Entries, then nodes, then the head: a constant three statements however many appends."""
        if self.failed:
            raise LedgerError("an earlier ledger write in this transaction failed; roll it back")
        if self.head_written:
            return
        entries, nodes = self.entries, self.nodes
        self.entries, self.nodes = [], []
        try:
            if entries:
                conn.execute(_ENTRIES.insert(), entries)
            if nodes:
                conn.execute(_NODES.insert(), nodes)
            conn.execute(
                update(_HEAD)
                .where(_HEAD.c.id == HEAD_ID)
                .values(size=self.frontier.size, frontier=self.frontier.to_bytes())
            )
        except BaseException:
            self.failed = True  # on SQLite the transaction would otherwise commit without them
            raise
        self.head_written = True


def frontier_of(session: AsyncSession) -> merkle.Frontier | None:
    """The frontier this very transaction (and savepoint) locked and moved, if any."""
    state = _current(session.sync_session)
    return state.frontier if state is not None else None


def _stored(session: Session) -> Pending | None:
    return cast(Pending | None, session.info.get(_STATE_KEY))


def _current(session: Session) -> Pending | None:
    state = _stored(session)
    if state is None:
        return None
    owner = _owner(session)
    if owner[0] is not None and state.owner[0] is owner[0] and state.owner[1] is owner[1]:
        return state
    return None


async def locked(session: AsyncSession) -> Pending:
    """This transaction's buffer, locking the head row and reading the tree state on first use.

    The lock is held until the transaction ends, so no one else can move the head meanwhile; a
    savepoint gets its own read (its parent's buffer is written when it starts), so a rolled-back
    savepoint never leaves a stale state behind.
    """
    sync = session.sync_session
    state = _current(sync)
    if state is not None:
        return state
    await session.connection()  # begin the transaction first, so it can key the state
    _hook(sync)
    row = (
        await session.execute(select(_HEAD.c.frontier).where(_HEAD.c.id == HEAD_ID).with_for_update())
    ).scalar_one_or_none()
    if row is None:
        raise LedgerError("the ledger head row is missing: run `tenderhall db upgrade`")
    state = Pending(_owner(sync), merkle.Frontier.from_bytes(row))
    sync.info[_STATE_KEY] = state
    return state


# -- the session's events --------------------------------------------------------------------------


def _hook(session: Session) -> None:
    """Bind the write-out to this session's events, once per session."""
    if session.info.get(_HOOKED_KEY):
        return
    event.listen(session, "before_flush", _before_flush)
    event.listen(session, "do_orm_execute", _before_execute)
    event.listen(session, "before_commit", _before_commit)
    event.listen(session, "after_transaction_create", _after_transaction_create)
    event.listen(session, "after_transaction_end", _after_transaction_end)
    session.info[_HOOKED_KEY] = True


def _write_current(session: Session) -> None:
    state = _stored(session)
    if state is None or (state.head_written and not state.failed):
        return
    if _current(session) is not state:
        # Savepoint starts and ends write or drop the buffer, so this cannot happen; if it did,
        # writing would put the rows in the wrong scope.
        raise LedgerError("ledger appends are pending from another transaction scope")
    state.write(session.connection())


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    _write_current(session)


def _before_execute(orm_state: ORMExecuteState) -> None:
    _write_current(orm_state.session)


def _before_commit(session: Session) -> None:
    _write_current(session)


def _after_transaction_create(session: Session, transaction: SessionTransaction) -> None:
    """A savepoint starting: what the enclosing scope appended is written in that scope (before
    the SAVEPOINT), so rolling the savepoint back cannot take it along."""
    state = _stored(session)
    if not transaction.nested or state is None or state.head_written:
        return
    parent = transaction.parent
    if parent is None:
        return
    state.write(parent.connection(None))


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The scope that locked the head ended: its buffer was written (commit) or must vanish."""
    state = _stored(session)
    if state is not None and transaction in state.owner:
        del session.info[_STATE_KEY]
