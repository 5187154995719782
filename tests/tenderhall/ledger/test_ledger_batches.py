"""Batched appends: the rows of a transaction's appends are written together (one INSERT per table,
one head update) and must make exactly the tree one-by-one appends make.  Runs on every backend."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tenderhall.clock import SystemClock
from tenderhall.db.engine import make_engine
from tenderhall.ledger import merkle
from tenderhall.ledger.models import LedgerEntry, LedgerHead, LedgerNode
from tenderhall.ledger.note import Signer
from tenderhall.ledger.service import Ledger, node_key, verify_log
from tenderhall.services import Services

ORIGIN = "test.local/ledger"


class Boom(Exception):
    """Rolls a transaction back after its appends."""


# One transaction: its steps, and whether it rolls back at the end.  A step appends, or makes the
# transaction read in the middle (which writes what is buffered so far), or serves a proof.
STEP = st.one_of(
    st.tuples(st.just("append"), st.integers(1, 40)),
    st.tuples(st.sampled_from(["read", "proof"]), st.just(0)),
)
TRANSACTIONS = st.lists(
    st.tuples(st.lists(STEP, min_size=1, max_size=5), st.sampled_from([False, False, False, True])),
    min_size=1,
    max_size=6,
)


async def stored_tree(
    session: AsyncSession,
) -> tuple[list[tuple[int, bytes]], dict[int, bytes], tuple[int, bytes]]:
    rows = await session.execute(select(LedgerEntry.id, LedgerEntry.body).order_by(LedgerEntry.id))
    entries = [(i, bytes(body)) for i, body in rows.tuples()]
    nodes = {k: h for k, h in (await session.execute(select(LedgerNode.id, LedgerNode.hash))).tuples()}
    head = (await session.execute(select(LedgerHead.size, LedgerHead.frontier))).one()
    return entries, nodes, (head.size, head.frontier)


def reference_tree(bodies: list[bytes]) -> tuple[dict[int, bytes], merkle.Frontier]:
    """The pure reference: one `Frontier.append` per event, every completed node kept."""
    frontier = merkle.Frontier()
    nodes: dict[int, bytes] = {}
    for body in bodies:
        for ref, h in frontier.append(merkle.leaf_hash(body)):
            nodes[node_key(ref)] = h
    return nodes, frontier


async def run_transactions(engine: AsyncEngine, plan: list[tuple[list[tuple[str, int]], bool]]) -> None:
    maker = async_sessionmaker(engine, expire_on_commit=False)
    ledger = Ledger(Signer.generate(ORIGIN), ORIGIN, SystemClock(), bytes(32))
    async with maker() as db:
        base, _ = await ledger.tree_head(db)
        await db.rollback()
        committed: dict[int, dict[str, Any]] = {}
        for steps, rolls_back in plan:
            told: dict[int, dict[str, Any]] = {}
            try:
                async with db.begin():
                    for kind, count in steps:
                        if kind == "append":
                            for _ in range(count):
                                data = {"n": len(told), "of": base}
                                told[(await ledger.append(db, "batch", data)).index] = data
                        elif kind == "read" and told:
                            index = max(told)
                            entry = await db.get(LedgerEntry, index)
                            assert entry is not None
                            assert json.loads(entry.body)["data"] == told[index]
                        elif kind == "proof" and told:
                            # As a bid receipt does: a proof in the transaction that appended.
                            index = max(told)
                            size, root = await ledger.tree_head(db)
                            proof = await ledger.inclusion_proof(db, index, size)
                            entry = await db.get(LedgerEntry, index)
                            assert entry is not None
                            assert merkle.verify_inclusion(entry.leaf_hash, index, size, proof, root)
                    if rolls_back:
                        raise Boom
            except Boom:
                continue
            committed.update(told)
            base = base + len(told)
        size, _ = await ledger.tree_head(db)
        assert size == base
        entries, nodes, head = await stored_tree(db)
        await db.rollback()
    # Indices were contiguous and each names the event its caller appended.
    for index, data in committed.items():
        assert json.loads(entries[index][1])["data"] == data
    assert [i for i, _ in entries] == list(range(len(entries)))
    want_nodes, frontier = reference_tree([body for _, body in entries])
    assert nodes == want_nodes
    assert head == (frontier.size, frontier.to_bytes())


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=TRANSACTIONS)
def test_batches_make_the_tree_one_by_one_appends_make(
    database_url: str, plan: list[tuple[list[tuple[str, int]], bool]]
) -> None:
    """Random splits into transactions, random reads and proofs inside them, random rollbacks: the
    stored entries, nodes and head equal the pure reference fed the committed events one by one.
    The ledger grows across examples, so later ones append to a tree of any size."""

    async def scenario() -> None:
        engine = make_engine(database_url)
        try:
            await run_transactions(engine, plan)
        finally:
            await engine.dispose()

    asyncio.run(scenario())


async def counts(services: Services) -> tuple[int, int, tuple[int, bytes]]:
    async with services.sessionmaker() as db:
        entries = await db.scalar(select(func.count()).select_from(LedgerEntry))
        nodes = await db.scalar(select(func.count()).select_from(LedgerNode))
        head = (await db.execute(select(LedgerHead.size, LedgerHead.frontier))).one()
    return int(entries or 0), int(nodes or 0), (head.size, head.frontier)


@pytest.mark.parametrize("read_in_between", [False, True])
async def test_rolled_back_batch_leaves_no_entries_and_no_nodes(
    services: Services, read_in_between: bool
) -> None:
    async with services.transaction() as db:
        for i in range(7):
            await services.ledger.append(db, "before", {"i": i})
    before = await counts(services)

    async def doomed() -> None:
        async with services.transaction() as db:
            for i in range(50):
                await services.ledger.append(db, "doomed", {"i": i})
                if read_in_between and i == 30:
                    # Forces the first 31 rows out to the database inside the transaction.
                    assert await services.ledger.entry_count(db) == before[0] + 31
            raise Boom

    with pytest.raises(Boom):
        await doomed()
    assert await counts(services) == before
    async with services.transaction() as db:
        appended = await services.ledger.append(db, "after", {})
    assert appended.index == before[0]  # no index was burnt
    async with services.sessionmaker() as db:
        assert (await verify_log(db, services.ledger.verifier, services.ledger.origin)).ok


async def test_rolled_back_savepoint_keeps_the_enclosing_appends(services: Services) -> None:
    before, _, _ = await counts(services)

    async def dropped(db: AsyncSession) -> None:
        async with db.begin_nested():
            for i in range(4):
                await services.ledger.append(db, "dropped", {"i": i})
            raise Boom

    async with services.transaction() as db:
        kept = [(await services.ledger.append(db, "kept", {"i": i})).index for i in range(3)]
        with pytest.raises(Boom):
            await dropped(db)
        async with db.begin_nested():
            kept.append((await services.ledger.append(db, "kept", {"i": 3})).index)
        kept.append((await services.ledger.append(db, "kept", {"i": 4})).index)
    assert kept == list(range(before, before + 5))
    async with services.sessionmaker() as db:
        entries = await services.ledger.entries(db, before, before + 10)
        assert [(e.id, e.kind, json.loads(e.body)["data"]["i"]) for e in entries] == [
            (before + i, "kept", i) for i in range(5)
        ]
        assert (await verify_log(db, services.ledger.verifier, services.ledger.origin)).ok


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql.split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_statements_per_batch_do_not_grow_with_the_batch(services: Services) -> None:
    async with services.transaction() as db:
        await services.ledger.append(db, "warm", {})  # a non-empty tree, so batches complete nodes
    per_batch = {}
    for n in (1, 10, 100):
        with statements(services.engine) as seen:
            async with services.transaction() as db:
                for i in range(n):
                    await services.ledger.append(db, "batch", {"i": i})
        per_batch[n] = seen
    assert per_batch[1] == per_batch[10] == per_batch[100]
    inserts = [s for s in per_batch[100] if s == "INSERT"]
    updates = [s for s in per_batch[100] if s == "UPDATE"]
    assert (len(inserts), len(updates)) == (2, 1), per_batch[100]  # entries, nodes; the head
    async with services.sessionmaker() as db:
        assert (await verify_log(db, services.ledger.verifier, services.ledger.origin)).ok
