"""Tampering with the stored ledger, as an attacker with write access to the database would.

The append-only triggers are the first line: they are proven to refuse UPDATE and DELETE, and
then bypassed (dropped on SQLite, disabled on PostgreSQL) so that every kind of rewrite reaches
`verify_log`, which must fail and, where the damage can be located, name the first bad index.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import rfc8785
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenderhall.ledger import merkle
from tenderhall.ledger.service import VerifyReport, node_key, verify_log
from tenderhall.services import Services

N = 300
K = 137  # the entry most cases damage: odd, so its level-1 parent completes with it
TABLES = ("ledger_entries", "ledger_nodes", "ledger_checkpoints")


@dataclass
class Log:
    services: Services
    size: int
    root: bytes
    saved_note: str  # a signed checkpoint an auditor saved (what GET /api/v1/ledger/checkpoint serves)


@pytest.fixture
async def log(services: Services) -> Log:
    for start in range(0, N, 25):
        async with services.transaction() as db:
            for i in range(start, start + 25):
                await services.ledger.append(db, "test.event", {"i": i}, subject=f"t:{i % 7}")
            if start == 100:
                await services.ledger.checkpoint(db, "milestone")  # a stored checkpoint mid-log
    async with services.sessionmaker() as db:
        size, root = await services.ledger.tree_head(db)
        report = await verify_log(db, services.ledger.verifier, services.ledger.origin)
    assert report.ok, report.problem
    assert report.size == size == N
    return Log(services, size, root, services.ledger.sign(size, root))


async def bypass_triggers(conn: AsyncConnection) -> None:
    if conn.dialect.name == "sqlite":
        for table in TABLES:
            for verb in ("update", "delete"):
                await conn.execute(text(f"DROP TRIGGER {table}_no_{verb}"))
    else:
        for table in TABLES:
            await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))


async def attack(log: Log, edit: Callable[[AsyncConnection], Awaitable[None]]) -> None:
    async with log.services.engine.begin() as conn:
        await bypass_triggers(conn)
        await edit(conn)


async def verify(log: Log, *saved: str) -> VerifyReport:
    async with log.services.sessionmaker() as db:
        return await verify_log(db, log.services.ledger.verifier, log.services.ledger.origin, saved)


def assert_caught(report: VerifyReport, first_bad: int | None, *phrases: str) -> None:
    assert not report.ok, "the tampering went unnoticed"
    assert report.first_bad_index == first_bad, report.problem
    for phrase in phrases:
        assert phrase in (report.problem or ""), report.problem


async def entry(conn: AsyncConnection, index: int) -> tuple[bytes, bytes, str, str | None]:
    row = (
        await conn.execute(
            text("SELECT body, leaf_hash, kind, subject FROM ledger_entries WHERE id = :i"), {"i": index}
        )
    ).one()
    return bytes(row.body), bytes(row.leaf_hash), row.kind, row.subject


def forged_body(body: bytes) -> bytes:
    """Same index, different data, still canonical JSON: only the hashes can tell."""
    value = json.loads(body)
    value["data"]["i"] = -1
    return rfc8785.dumps(value)


async def set_entry(conn: AsyncConnection, index: int, **values: object) -> None:
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    await conn.execute(text(f"UPDATE ledger_entries SET {assignments} WHERE id = :i"), {"i": index, **values})


async def set_node(conn: AsyncConnection, ref: merkle.NodeRef, value: bytes) -> None:
    result = await conn.execute(
        text("UPDATE ledger_nodes SET hash = :h WHERE id = :k"), {"h": value, "k": node_key(ref)}
    )
    assert result.rowcount == 1


# -- the triggers -------------------------------------------------------------------------------


REWRITES = (
    "UPDATE ledger_entries SET body = leaf_hash WHERE id = 5",
    "DELETE FROM ledger_entries WHERE id = 5",
    "DELETE FROM ledger_entries",
    "UPDATE ledger_nodes SET hash = hash",
    "DELETE FROM ledger_nodes WHERE id = 5",
    "UPDATE ledger_checkpoints SET reason = 'forged'",
    "DELETE FROM ledger_checkpoints",
)


async def test_triggers_refuse_rewrites(log: Log) -> None:
    truncates = []
    if log.services.engine.dialect.name == "postgresql":  # row triggers do not see TRUNCATE
        truncates = [
            f"TRUNCATE {table}" for table in ("ledger_entries", "ledger_nodes", "ledger_checkpoints")
        ]
    for statement in [*REWRITES, *truncates]:
        with pytest.raises(DBAPIError, match="append-only"):
            async with log.services.engine.begin() as conn:
                await conn.execute(text(statement))
    report = await verify(log, log.saved_note)
    assert report.ok, report.problem
    assert report.checkpoints_checked == 2


# -- rewrites that bypass the triggers ------------------------------------------------------------


async def test_edited_body(log: Log) -> None:
    async def edit(conn: AsyncConnection) -> None:
        body, *_ = await entry(conn, K)
        await set_entry(conn, K, body=forged_body(body))

    await attack(log, edit)
    report = await verify(log)
    assert_caught(report, K)


async def test_edited_body_and_leaf_hash(log: Log) -> None:
    async def edit(conn: AsyncConnection) -> None:
        body, *_ = await entry(conn, K)
        forged = forged_body(body)
        await set_entry(conn, K, body=forged, leaf_hash=merkle.leaf_hash(forged))

    await attack(log, edit)
    report = await verify(log)
    assert_caught(report, K)


async def test_edited_body_leaf_and_leaf_node(log: Log) -> None:
    """Consistent down to level 0: the level-1 node over [136, 138) gives it away."""

    async def edit(conn: AsyncConnection) -> None:
        body, *_ = await entry(conn, K)
        forged = forged_body(body)
        await set_entry(conn, K, body=forged, leaf_hash=merkle.leaf_hash(forged))
        await set_node(conn, merkle.NodeRef(0, K), merkle.leaf_hash(forged))

    await attack(log, edit)
    report = await verify(log)
    # Either the entry or the node was forged; nothing says which, so no index is claimed.
    assert_caught(report, None, "[136, 138)")


@pytest.mark.parametrize("column", ["kind", "subject"])
async def test_edited_metadata_column(log: Log, column: str) -> None:
    """kind and subject are stored beside the body for queries: they must agree with it."""
    await attack(log, lambda conn: set_entry(conn, K, **{column: "forged"}))
    report = await verify(log)
    assert_caught(report, K)


async def test_deleted_middle_entry(log: Log) -> None:
    await attack(log, lambda conn: conn.execute(text(f"DELETE FROM ledger_entries WHERE id = {K}")))
    report = await verify(log)
    assert_caught(report, K)


async def test_deleted_middle_entry_and_its_nodes(log: Log) -> None:
    async def edit(conn: AsyncConnection) -> None:
        await conn.execute(text(f"DELETE FROM ledger_entries WHERE id = {K}"))
        await conn.execute(
            text("DELETE FROM ledger_nodes WHERE id = :k"), {"k": node_key(merkle.NodeRef(0, K))}
        )

    await attack(log, edit)
    report = await verify(log)
    assert_caught(report, K)


async def test_deleted_last_entry(log: Log) -> None:
    await attack(log, lambda conn: conn.execute(text(f"DELETE FROM ledger_entries WHERE id = {N - 1}")))
    report = await verify(log)
    assert_caught(report, N - 1)


async def test_emptied_entries(log: Log) -> None:
    """TRUNCATE on PostgreSQL (row triggers do not see it), DELETE on SQLite."""

    async def edit(conn: AsyncConnection) -> None:
        verb = "DELETE FROM" if conn.dialect.name == "sqlite" else "TRUNCATE"
        await conn.execute(text(f"{verb} ledger_entries"))

    await attack(log, edit)
    assert_caught(await verify(log), 0)


async def test_truncated_consistently(log: Log) -> None:
    """Last entry, its nodes and the head rolled back together: only a saved checkpoint remembers."""

    async def edit(conn: AsyncConnection) -> None:
        leaves = [
            bytes(h)
            for h in (await conn.execute(text("SELECT leaf_hash FROM ledger_entries ORDER BY id"))).scalars()
        ]
        frontier = merkle.Frontier()
        frontier.extend(leaves[: N - 1])
        completed = frontier.copy().append(leaves[N - 1])
        await conn.execute(text(f"DELETE FROM ledger_entries WHERE id = {N - 1}"))
        for ref, _ in completed:
            await conn.execute(text("DELETE FROM ledger_nodes WHERE id = :k"), {"k": node_key(ref)})
        await conn.execute(
            text("UPDATE ledger_head SET size = :s, frontier = :f"), {"s": N - 1, "f": frontier.to_bytes()}
        )

    await attack(log, edit)
    assert (await verify(log)).ok  # self-consistent: the log alone cannot tell
    report = await verify(log, log.saved_note)
    assert_caught(report, N - 1)


async def test_extra_entry_past_the_head(log: Log) -> None:
    """INSERT is allowed (the log is append-only), so no trigger has to go for this one."""
    body = rfc8785.dumps(
        {
            "index": N,
            "kind": "test.event",
            "at": "2026-03-02T02:00:00.000000+00:00",
            "actor": None,
            "subject": None,
            "data": {},
        }
    )
    async with log.services.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO ledger_entries (id, kind, subject, body, leaf_hash) "
                "VALUES (:i, 'test.event', NULL, :b, :h)"
            ),
            {"i": N, "b": body, "h": merkle.leaf_hash(body)},
        )
        await conn.execute(
            text("INSERT INTO ledger_nodes (id, hash) VALUES (:k, :h)"),
            {"k": node_key(merkle.NodeRef(0, N)), "h": merkle.leaf_hash(body)},
        )
    report = await verify(log)
    assert_caught(report, N)


@pytest.mark.parametrize(("i", "j"), [(100, 200), (K, K + 1)])
async def test_swapped_entries(log: Log, i: int, j: int) -> None:
    async def edit(conn: AsyncConnection) -> None:
        a, b = await entry(conn, i), await entry(conn, j)
        for index, (body, leaf, kind, subject) in ((i, b), (j, a)):
            await set_entry(conn, index, body=body, leaf_hash=leaf, kind=kind, subject=subject)

    await attack(log, edit)
    report = await verify(log)
    assert_caught(report, i)


async def test_swapped_entries_with_their_leaf_nodes(log: Log) -> None:
    """Rows and level-0 nodes swapped together: the index inside each body still tells."""

    async def edit(conn: AsyncConnection) -> None:
        a, b = await entry(conn, 100), await entry(conn, 200)
        for index, (body, leaf, kind, subject) in ((100, b), (200, a)):
            await set_entry(conn, index, body=body, leaf_hash=leaf, kind=kind, subject=subject)
            await set_node(conn, merkle.NodeRef(0, index), leaf)

    await attack(log, edit)
    report = await verify(log)
    assert_caught(report, 100, "reordered")


@pytest.mark.parametrize("level", [1, 4, 8])
async def test_edited_interior_node(log: Log, level: int) -> None:
    """Proofs are served from interior nodes, so a damaged one must not pass as a good log."""
    ref = merkle.NodeRef(level, K >> level)
    await attack(log, lambda conn: set_node(conn, ref, bytes(32)))
    report = await verify(log)
    assert_caught(report, None, f"[{ref.start}, {ref.end})")


async def test_edited_head(log: Log) -> None:
    """The head is no ledger table (every append updates it); a forged tree state still shows."""
    forged = merkle.Frontier(N, [bytes(32)] * N.bit_count()).to_bytes()
    async with log.services.engine.begin() as conn:
        await conn.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": forged})
    assert_caught(await verify(log), None, "head")


async def test_edited_stored_checkpoint(log: Log) -> None:
    await attack(
        log, lambda conn: conn.execute(text("UPDATE ledger_checkpoints SET root = :r"), {"r": bytes(32)})
    )
    report = await verify(log)
    assert_caught(report, None, "stored checkpoint")


async def test_consistent_rewrite_caught_by_saved_checkpoint(log: Log) -> None:
    """Everything rewritten consistently (bodies, leaf hashes, every node, head; the stored
    checkpoints, which cannot be re-signed, removed): only a checkpoint saved earlier catches it."""
    early_note = await checkpoint_at(log, 64)  # an auditor's older checkpoint, still consistent

    async def edit(conn: AsyncConnection) -> None:
        rows = (await conn.execute(text("SELECT id, body FROM ledger_entries ORDER BY id"))).all()
        frontier = merkle.Frontier()
        await conn.execute(text("DELETE FROM ledger_nodes"))
        await conn.execute(text("DELETE FROM ledger_checkpoints"))
        for index, body in rows:
            body = forged_body(bytes(body)) if index == K else bytes(body)
            leaf = merkle.leaf_hash(body)
            await set_entry(conn, index, body=body, leaf_hash=leaf)
            for ref, h in frontier.append(leaf):
                await conn.execute(
                    text("INSERT INTO ledger_nodes (id, hash) VALUES (:k, :h)"), {"k": node_key(ref), "h": h}
                )
        await conn.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": frontier.to_bytes()})

    await attack(log, edit)
    assert (await verify(log)).ok  # self-consistent, as expected of a full rewrite
    assert (await verify(log, early_note)).ok  # the prefix before the rewrite is untouched
    report = await verify(log, early_note, log.saved_note)
    # A root mismatch cannot say which entry changed, only the range since the last good checkpoint.
    assert_caught(report, None, "saved checkpoint of size 300", "[64, 300)")


async def checkpoint_at(log: Log, size: int) -> str:
    async with log.services.sessionmaker() as db:
        return log.services.ledger.sign(size, await log.services.ledger.root_at(db, size))
