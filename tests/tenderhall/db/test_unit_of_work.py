"""The unit of work decides every commit: services never commit or roll back; after-commit work
runs only after a commit; a refusal keeps its evidence while the action is undone; a phase is cut
only in a unit of work that began by itself."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tenderhall.db import unit_of_work
from tenderhall.errors import Conflict
from tenderhall.ledger.models import LedgerEntry

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("bidding", "evaluation", "collusion", "src/tenderhall")
# The unit of work itself commits.  (The web layer's request session is committed by the
# framework, advanced-alchemy's before_send_handler in app.py: no handler commits.)
ALLOWED = {"src/tenderhall/db/unit_of_work.py"}


def _transaction_calls(source: str) -> list[tuple[int, str]]:
    """Calls of ``<anything>.commit()`` or ``<anything>.rollback()`` in a module's source, without
    arguments as a session's or a transaction's take (a score sheet's ``commit(db, ...)`` is not one)."""
    return sorted(
        (node.lineno, node.func.attr)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "rollback")
        and not node.args
        and not node.keywords
    )


def test_the_scan_sees_a_commit() -> None:
    sample = (
        "async def f(db, sheets):\n"
        "    await db.flush()\n"
        "    await db.commit()\n"
        "    db.sync_session.rollback()\n"
        "    await sheets.commit(db, 'digest')\n"
    )
    assert _transaction_calls(sample) == [(3, "commit"), (4, "rollback")]


def test_no_service_commits_or_rolls_back() -> None:
    found, scanned = [], 0
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED or "/migrations/" in name:
                continue
            scanned += 1
            found += [f"{name}:{line} .{what}()" for line, what in _transaction_calls(path.read_text())]
    assert scanned > 100  # the folders are where they are expected
    assert found == [], "commit and roll back only through tenderhall.db.unit_of_work:\n" + "\n".join(found)


async def _kinds(services: Any) -> list[str]:
    async with services.sessionmaker() as db:
        rows = await db.execute(select(LedgerEntry.kind).order_by(LedgerEntry.id))
        return [kind for kind in rows.scalars() if kind.startswith("uow.")]


async def test_after_commit_runs_after_a_commit_only(services) -> None:
    ran: list[str] = []
    async with services.sessionmaker() as db:
        await db.execute(select(1))
        unit_of_work.after_commit(db, lambda: ran.append("a"), key="k")
        unit_of_work.after_commit(db, lambda: ran.append("again"), key="k")  # the same key: once
        unit_of_work.after_commit(db, lambda: ran.append("b"))
        assert ran == []
        await db.commit()
        assert ran == ["a", "b"]
        await db.execute(select(1))
        unit_of_work.after_commit(db, lambda: ran.append("rolled back"))
        await db.rollback()
        await db.execute(select(1))
        await db.commit()  # a later commit of the same session does not revive it
        await db.execute(select(1))
        unit_of_work.after_commit(db, lambda: ran.append("closed"))

    async def failing() -> None:
        async with services.transaction() as db:
            unit_of_work.after_commit(db, lambda: ran.append("failed"))
            raise RuntimeError("the unit of work fails")

    with pytest.raises(RuntimeError):
        await failing()
    async with services.transaction() as db:
        unit_of_work.after_commit(db, lambda: ran.append("job"))
        assert ran == ["a", "b"]
    assert ran == ["a", "b", "job"]
    # Listeners live on the sessions that asked, never on every Session.
    assert not event.contains(Session, "after_commit", unit_of_work._run)


async def test_a_refusal_keeps_its_evidence_and_undoes_the_action(services) -> None:
    async def evidence(own: AsyncSession) -> None:
        await services.ledger.append(own, "uow.refused", {})

    for begin in (services.sessionmaker, services.transaction):
        async with begin() as db:
            await services.ledger.append(db, "uow.action", {})
            with pytest.raises(Conflict):
                await unit_of_work.refuse(db, evidence, Conflict("error.conflict"))
    assert await _kinds(services) == ["uow.refused", "uow.refused"]


async def test_a_phase_is_cut_only_in_a_self_begun_unit_of_work(services) -> None:
    async with services.sessionmaker() as db:
        await services.ledger.append(db, "uow.first_phase", {})
        assert unit_of_work.may_cut(db)
        assert await unit_of_work.end_phase(db)
        await services.ledger.append(db, "uow.second_phase", {})
        await db.rollback()  # the second phase fails: the first stays

    async def whole() -> None:
        async with services.transaction() as db:
            await services.ledger.append(db, "uow.whole", {})
            assert not await unit_of_work.end_phase(db)
            raise RuntimeError("the caller's unit of work fails: nothing of it stays")

    with pytest.raises(RuntimeError):
        await whole()
    assert await _kinds(services) == ["uow.first_phase"]
