"""The ledger's database side: appends in the caller's transaction, roots and proofs served from the
stored perfect subtrees, signed checkpoints, and the full-log verifier.  Runs on every backend."""

from __future__ import annotations

import json
import random

import pytest
import rfc8785
from pymerkle import InmemoryTree
from sqlalchemy import delete, func, select, text

from tenderhall.auth.models import User
from tenderhall.auth.roles import Role
from tenderhall.ledger import merkle
from tenderhall.ledger.checkpoint import CheckpointError, open_checkpoint
from tenderhall.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode
from tenderhall.ledger.note import NoteError, Signer
from tenderhall.ledger.service import LedgerError, verify_log
from tenderhall.services import Services

N = 300  # crosses 256, so roots fold a deep perfect subtree with a ragged right edge


class Boom(Exception):
    """Raised after an append to force the surrounding transaction to roll back."""


async def append_many(services: Services, n: int, per_tx: int = 10, kind: str = "test.event") -> list[int]:
    indices: list[int] = []
    for start in range(0, n, per_tx):
        async with services.transaction() as db:
            for i in range(start, min(start + per_tx, n)):
                appended = await services.ledger.append(db, kind, {"i": i, "名": "投标"}, subject=f"t:{i}")
                indices.append(appended.index)
    return indices


async def leaf_hashes(services: Services) -> list[bytes]:
    async with services.sessionmaker() as db:
        rows = await db.execute(select(LedgerEntry.leaf_hash).order_by(LedgerEntry.id))
        return list(rows.scalars())


async def ledger_size(services: Services) -> int:
    async with services.sessionmaker() as db:
        return (await services.ledger.tree_head(db))[0]


async def test_appends_are_contiguous_and_bodies_canonical(services: Services) -> None:
    base = await ledger_size(services)
    indices = await append_many(services, 37, per_tx=4)
    assert indices == list(range(base, base + 37))
    async with services.sessionmaker() as db:
        entries = await services.ledger.entries(db, 0, base + 37)
        size, root = await services.ledger.tree_head(db)
        head = (await db.execute(select(LedgerHead))).scalar_one()
    assert size == head.size == base + 37 == len(entries)
    assert [e.id for e in entries] == list(range(size))
    for e in entries:
        value = json.loads(e.body)
        assert rfc8785.dumps(value) == e.body, "bodies must be RFC 8785 canonical JSON"
        assert value["index"] == e.id
        assert value["kind"] == e.kind
        assert value["subject"] == e.subject
        assert e.leaf_hash == merkle.leaf_hash(e.body)
    assert json.loads(entries[-1].body)["data"] == {"i": 36, "名": "投标"}
    assert root == merkle.root_of(e.leaf_hash for e in entries)


async def test_rolled_back_transaction_leaves_no_trace(services: Services) -> None:
    await append_many(services, 5)
    async with services.sessionmaker() as db:
        before_head = (await db.execute(select(LedgerHead.size, LedgerHead.frontier))).one()
        before_nodes = await db.scalar(select(func.count()).select_from(LedgerNode))
    created: list[User] = []

    async def create_then_fail() -> None:
        # A real use case appends its event, then something later in the transaction fails.
        async with services.transaction() as db:
            created.append(
                await services.accounts.create_user(
                    db, username="ghost", password="long-enough-pw", role=Role.ADMIN, display_name="ghost"
                )
            )
            assert (await db.get(LedgerEntry, before_head.size)) is not None  # the event was written
            raise Boom

    with pytest.raises(Boom):
        await create_then_fail()
    user = created[0]
    async with services.sessionmaker() as db:
        assert await db.scalar(select(User).where(User.username == "ghost")) is None
        assert await db.scalar(select(LedgerEntry).where(LedgerEntry.subject == f"user:{user.id}")) is None
        assert (await db.execute(select(LedgerHead.size, LedgerHead.frontier))).one() == before_head
        assert await db.scalar(select(func.count()).select_from(LedgerNode)) == before_nodes
        assert await services.ledger.entry_count(db) == before_head.size
    # The index is not burnt: the next committed event takes it, and carries the change it records.
    async with services.transaction() as db:
        user = await services.accounts.create_user(
            db, username="real", password="long-enough-pw", role=Role.ADMIN, display_name="real"
        )
    async with services.sessionmaker() as db:
        entry = await db.get(LedgerEntry, before_head.size)
        assert entry is not None
        assert entry.kind == "user.created"
        assert json.loads(entry.body)["data"]["user"] == str(user.id)
        report = await verify_log(db, services.ledger.verifier, services.ledger.origin)
    assert report.ok, report.problem


async def test_failed_append_undoes_the_change(services: Services) -> None:
    """No change without its event: if the append itself fails, the use case's change goes too."""

    async def create_with_broken_ledger() -> None:
        async with services.transaction() as db:
            # Removing the head inside this transaction makes the append fail for real.
            await db.execute(delete(LedgerHead))
            await services.accounts.create_user(
                db, username="orphan", password="long-enough-pw", role=Role.ADMIN, display_name="o"
            )

    with pytest.raises(LedgerError):
        await create_with_broken_ledger()
    async with services.sessionmaker() as db:
        assert await db.scalar(select(User).where(User.username == "orphan")) is None
        assert (await db.execute(select(LedgerHead))).scalar_one().size == await services.ledger.entry_count(
            db
        )


async def test_session_reused_across_transactions(services: Services) -> None:
    """A session kept across transactions (expire_on_commit=False) must not append from a stale head,
    even while the session still holds the head object (the identity map would otherwise win)."""
    async with services.sessionmaker() as mine:
        async with mine.begin():
            first = await services.ledger.append(mine, "mine", {"n": 1})
            held = await mine.get(LedgerHead, 1)  # e.g. a page that showed the tree size
        async with services.transaction() as other:
            await services.ledger.append(other, "other", {"n": 2})
        async with mine.begin():
            third = await services.ledger.append(mine, "mine", {"n": 3})
    assert third.index == first.index + 2
    assert held is not None  # the held (now stale) ORM copy does not steer appends
    async with services.sessionmaker() as db:
        assert (await verify_log(db, services.ledger.verifier, services.ledger.origin)).ok


async def test_roots_and_proofs_from_the_database(services: Services) -> None:
    await append_many(services, N, per_tx=25)
    leaves = await leaf_hashes(services)
    n = len(leaves)
    assert n >= N
    async with services.sessionmaker() as db:
        bodies = [e.body for e in await services.ledger.entries(db, 0, n)]
    # pymerkle is an independent RFC 9162 implementation (test-only dependency).
    reference = InmemoryTree(algorithm="sha256")
    for body in bodies:
        reference.append_entry(body)
    roots = [merkle.EMPTY_ROOT] + [merkle.root_of(leaves[:s]) for s in range(1, n + 1)]
    rnd = random.Random(9162)
    sizes = sorted({*range(1, 20), 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, n - 1, n})
    async with services.sessionmaker() as db:
        for size in range(1, n + 1):
            assert await services.ledger.root_at(db, size) == roots[size]
        for size in sizes:
            assert roots[size] == reference.get_root(size)
            for index in {0, size // 2, size - 1, rnd.randrange(size)}:
                proof = await services.ledger.inclusion_proof(db, index, size)
                assert merkle.verify_inclusion(leaves[index], index, size, proof, roots[size])
                if size > 1:  # a proof must not verify for a neighbouring leaf
                    other = (index + 1) % size
                    assert not merkle.verify_inclusion(leaves[other], index, size, proof, roots[size])
            for first in {1, size // 2 or 1, size - 1 or 1, rnd.randrange(1, size + 1), size}:
                proof = await services.ledger.consistency_proof(db, first, size)
                assert merkle.verify_consistency(first, size, proof, roots[first], roots[size])
                if first < size:
                    assert not merkle.verify_consistency(first, size, proof, roots[first - 1], roots[size])
        size, root = await services.ledger.tree_head(db)
    assert (size, root) == (n, roots[n])


async def test_proof_requests_out_of_range(services: Services) -> None:
    await append_many(services, 8)
    async with services.sessionmaker() as db:
        size, _ = await services.ledger.tree_head(db)
        for call in (
            services.ledger.root_at(db, 0),
            services.ledger.root_at(db, size + 1),
            services.ledger.inclusion_proof(db, size, size),
            services.ledger.inclusion_proof(db, -1, size),
            services.ledger.inclusion_proof(db, 0, size + 1),
            services.ledger.consistency_proof(db, 0, size),
            services.ledger.consistency_proof(db, size, size - 1),
            services.ledger.consistency_proof(db, 1, size + 1),
        ):
            with pytest.raises(LedgerError):
                await call


async def test_checkpoints_verify_with_the_platform_key(services: Services) -> None:
    await append_many(services, 20)
    async with services.transaction() as db:
        row = await services.ledger.checkpoint(db, "milestone: test")
    leaves = await leaf_hashes(services)
    assert (row.size, row.root) == (len(leaves), merkle.root_of(leaves))
    cp = open_checkpoint(row.note, services.ledger.verifier, services.ledger.origin)
    assert (cp.size, cp.root) == (row.size, row.root)
    # The verifier is the one whose key lives in the secrets folder, not just any object in memory.
    stored_key = (services.settings.secrets_dir / "ledger-signing.key").read_text().strip()
    assert Signer.from_key_string(stored_key).verifier().key_string() == services.ledger.verifier.key_string()
    with pytest.raises(NoteError):
        open_checkpoint(row.note, Signer.generate(services.ledger.origin).verifier(), services.ledger.origin)
    with pytest.raises(CheckpointError):
        open_checkpoint(row.note, services.ledger.verifier, "elsewhere.example/ledger")
    # A checkpoint signed later proves the earlier one is a prefix.
    await append_many(services, 13)
    async with services.transaction() as db:
        later = await services.ledger.checkpoint(db, "milestone: later")
        proof = await services.ledger.consistency_proof(db, row.size, later.size)
    assert merkle.verify_consistency(row.size, later.size, proof, row.root, later.root)
    async with services.sessionmaker() as db:
        report = await verify_log(db, services.ledger.verifier, services.ledger.origin, [row.note])
        stored = (await db.execute(select(func.count()).select_from(LedgerCheckpoint))).scalar_one()
    assert report.ok, report.problem
    assert report.checkpoints_checked == stored + 1 >= 3
    assert (report.size, report.root) == (later.size, later.root)


async def test_verify_log_accepts_a_good_log(services: Services) -> None:
    await append_many(services, 12_345 // 100, per_tx=41)
    async with services.sessionmaker() as db:
        seen: list[int] = []
        report = await verify_log(db, services.ledger.verifier, services.ledger.origin, progress=seen.append)
        size, root = await services.ledger.tree_head(db)
        # A sanity check that the test looks at the migrated schema, triggers included.
        if services.settings.is_sqlite:
            triggers = await db.scalar(text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"))
            assert triggers == 6
    assert report.ok
    assert report.first_bad_index is None
    assert (report.size, report.root) == (size, root)
    assert seen == list(range(1, size + 1))
