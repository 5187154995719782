"""The unit of work: the one place that decides when a session's work commits.

A request's unit of work is its session, which the web layer commits after the handler
(advanced-alchemy's ``before_send_handler``); a job's or a command's is ``Services.transaction()``.
Services only add, flush and lock; they never commit.  Three needs go through here instead:

- ``after_commit(db, callback)``: work that must follow a successful commit (live events, later
  notifications and jobs) registers on that session; it runs once the session commits and is
  dropped if it rolls back.  Listeners are attached to that session only, never to every session.
- ``refuse(db, record, error)``: a refusal that must stay on the record even though the action
  fails.  The unit of work is rolled back (the action leaves nothing), then ``record`` runs and
  commits in a transaction of its own, then ``error`` is raised.
- ``end_phase(db)``: a named cut in a request's unit of work, before slow work that needs no
  database (streaming an upload, hashing it, decrypting a bid), so that no lock is held meanwhile
  (on SQLite every transaction holds the database's write lock).  Only a transaction that began
  by itself (a request's, or a plain session's) is cut; one a caller began explicitly
  (``Services.transaction()``) composes a larger unit of work and stays whole.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, NoReturn

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, SessionTransactionOrigin

__all__ = ["after_commit", "end_phase", "may_cut", "refuse"]

_CALLBACKS = "tenderhall.after_commit"  # dict: key -> callback, in registration order
_HOOKED = "tenderhall.after_commit_hooked"


def _run(session: Session) -> None:
    # In after_commit the session has no transaction: callbacks must not use the database.
    for callback in session.info.pop(_CALLBACKS, {}).values():
        callback()


def _drop(session: Session, transaction: SessionTransaction) -> None:
    # The end of the outermost transaction: after a commit the callbacks have already run;
    # after a rollback (or a close without commit) they must never run.
    if transaction.parent is None:
        session.info.pop(_CALLBACKS, None)


def after_commit(db: AsyncSession, callback: Callable[[], Any], key: Hashable | None = None) -> None:
    """Run ``callback`` after ``db`` commits its current transaction; drop it on rollback.

    Callbacks registered with the same ``key`` run once (e.g. one announcement per tender and
    kind, however many changes announced it)."""
    session = db.sync_session
    if not session.info.get(_HOOKED):
        event.listen(session, "after_commit", _run)
        event.listen(session, "after_transaction_end", _drop)
        session.info[_HOOKED] = True
    callbacks: dict[Hashable, Callable[[], Any]] = session.info.setdefault(_CALLBACKS, {})
    callbacks.setdefault(key if key is not None else object(), callback)


def may_cut(db: AsyncSession) -> bool:
    """Whether the session's transaction began by itself (so it may be cut in phases)."""
    if db.in_nested_transaction():
        return False
    transaction = db.sync_session.get_transaction()
    return transaction is None or transaction.origin is SessionTransactionOrigin.AUTOBEGIN


async def end_phase(db: AsyncSession) -> bool:
    """Commit the work so far and release the locks, if the unit of work may be cut (see
    :func:`may_cut`); answers whether it was.  What follows starts a new transaction."""
    if not may_cut(db):
        return False
    await db.commit()
    return True


async def refuse(
    db: AsyncSession, record: Callable[[AsyncSession], Awaitable[None]], error: BaseException
) -> NoReturn:
    """Undo the unit of work, commit only ``record``'s evidence of the refusal, then refuse.

    The rollback comes first: the refusal's own transaction must not wait for the locks the
    action holds (on SQLite, the database's)."""
    await db.rollback()
    async with AsyncSession(db.bind, expire_on_commit=False) as own, own.begin():
        await record(own)
    raise error
