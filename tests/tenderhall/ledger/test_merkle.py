"""RFC 9162 Merkle hashing and proofs, cross-checked against pymerkle (an independent implementation)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import ConsistencyProof, InclusionProof, InmemoryTree

from tenderhall.ledger.merkle import (
    EMPTY_ROOT,
    MAX_TREE_SIZE,
    Frontier,
    MissingNodeError,
    NodeRef,
    consistency_plan,
    consistency_proof,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_nodes,
    root_of,
    root_plan,
    verify_consistency,
    verify_inclusion,
)

DENSE = 300  # every size, index and size pair up to here
LARGE = 4096  # hypothesis samples up to here


def data(i: int) -> bytes:
    return f"event-{i}".encode()


class Store:
    """Our tree plus a pymerkle tree over the same leaves (RFC 9162 hashing: SHA-256, 0x00/0x01)."""

    def __init__(self, n: int) -> None:
        self.frontier = Frontier()
        self.nodes: dict[NodeRef, bytes] = {}
        self.leaves: list[bytes] = []
        self.ref = InmemoryTree(algorithm="sha256")  # security mode (prefixes) is on by default
        for i in range(n):
            lh = leaf_hash(data(i))
            self.leaves.append(lh)
            self.nodes.update(self.frontier.append(lh))
            self.ref.append_entry(data(i))
        self.roots = [EMPTY_ROOT] + [self.ref.get_root(s) for s in range(1, n + 1)]


@cache
def store(n: int) -> Store:
    return Store(n)


class Recording(Mapping[NodeRef, bytes]):
    """Mapping that records which nodes a proof assembly reads."""

    def __init__(self, nodes: Mapping[NodeRef, bytes]) -> None:
        self.nodes = nodes
        self.read: list[NodeRef] = []

    def __getitem__(self, key: NodeRef) -> bytes:
        self.read.append(key)
        return self.nodes[key]

    def __iter__(self) -> Iterator[NodeRef]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)


def pymerkle_consistency_as_rfc(proof: ConsistencyProof) -> list[bytes]:
    """Convert pymerkle's consistency path into RFC 9162 PROOF form.

    pymerkle starts from the leftmost leaf of the first new subtree and lists the old
    tree's left siblings; RFC 9162 gives that new subtree as one hash and omits the old
    root when it is the left edge of the new tree. Fold and trim accordingly.
    """
    path, subset, rule = proof.path, proof.subset, proof.rule
    if proof.prior_size == proof.size:
        return []
    j = next(i for i in range(1, len(path)) if subset[i])
    folded = path[0]
    for i in range(1, j):
        folded = node_hash(folded, path[i]) if rule[i - 1] == 0 else node_hash(path[i], folded)
    head = [path[j]] if any(subset[j + 1 :]) else []
    return [*head, folded, *path[j + 1 :]]


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, transcribed recursively (over leaf hashes)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


# ---------------------------------------------------------------------------
# hashing basics


def test_known_hashes() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_of([]) == EMPTY_ROOT == Frontier().root()
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    # Certificate Transparency test vector (RFC 6962 hashing): 8 leaves, root at size 8.
    vector = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    leaves = [leaf_hash(bytes.fromhex(x)) for x in vector]
    assert root_of(leaves[:1]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert root_of(leaves).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_empty_tree_against_pymerkle() -> None:
    assert InmemoryTree(algorithm="sha256").get_root(0) == EMPTY_ROOT


# ---------------------------------------------------------------------------
# Frontier


def test_frontier_roots_and_nodes_dense() -> None:
    s = store(DENSE)
    f = Frontier()
    for n in range(1, DENSE + 1):
        created = f.append(s.leaves[n - 1])
        assert f.size == n
        assert f.root() == s.roots[n] == root_of(s.leaves[:n]) == mth(s.leaves[:n])
        # The leaf first, then each parent that became perfect, each hashing its leaf range.
        assert created[0] == (NodeRef(0, n - 1), s.leaves[n - 1])
        assert [ref.level for ref, _ in created] == list(range(len(created)))
        assert len(created) == 1 + ((n ^ (n - 1)).bit_length() - 1)
        for ref, h in created:
            assert ref.end == n
            assert h == mth(s.leaves[ref.start : ref.end])
        assert Frontier.from_bytes(f.to_bytes()) == f
        assert Frontier.from_nodes(n, s.nodes) == f
        assert root_from_nodes(n, s.nodes) == s.roots[n]
        assert [ref for ref, _ in f.nodes()] == root_plan(n)


def test_every_perfect_subtree_is_stored_once() -> None:
    s = store(DENSE)
    expected = {NodeRef(level, i) for level in range(9) for i in range(DENSE >> level)}
    assert set(s.nodes) == expected


def test_frontier_serialisation_is_strict() -> None:
    f = Frontier()
    assert f.to_bytes() == bytes(8)
    f.extend(store(DENSE).leaves[:13])
    raw = f.to_bytes()
    assert len(raw) == 8 + 32 * 3
    for bad in (raw[:-1], raw + b"\x00", raw[:7], (15).to_bytes(8, "big") + raw[8:]):
        with pytest.raises(ValueError, match="frontier"):
            Frontier.from_bytes(bad)


def test_frontier_copy_and_validation() -> None:
    f = Frontier()
    f.append(leaf_hash(b"x"))
    g = f.copy()
    g.append(leaf_hash(b"y"))
    assert f.size == 1
    assert g.size == 2
    with pytest.raises(ValueError, match="32 bytes"):
        f.append(b'{"kind": "raw event, not its leaf hash"}')
    with pytest.raises(ValueError, match="needs 2 hashes"):
        Frontier(3, [EMPTY_ROOT])
    with pytest.raises(ValueError, match="out of range"):
        Frontier(-1)
    with pytest.raises(ValueError, match="out of range"):
        Frontier(1 << 64)
    full = Frontier(MAX_TREE_SIZE, [EMPTY_ROOT] * 64)
    with pytest.raises(ValueError, match="full"):
        full.append(EMPTY_ROOT)


# ---------------------------------------------------------------------------
# inclusion


def test_inclusion_all_indices_dense() -> None:
    s = store(DENSE)
    for n in range(1, DENSE + 1):
        root = s.roots[n]
        for i in range(n):
            plan = inclusion_plan(i, n)
            rec = Recording(s.nodes)
            proof = inclusion_proof(i, n, rec)
            assert rec.read == plan  # the plan is exactly what assembly reads
            assert all(ref.end <= n for ref in plan)
            assert len(plan) <= 2 * n.bit_length()
            ref_proof = s.ref.prove_inclusion(i + 1, n)
            assert proof == ref_proof.path[1:]
            assert verify_inclusion(s.leaves[i], i, n, proof, root)
            # and pymerkle accepts our proof
            InclusionProof("sha256", True, n, i + 1, ref_proof.rule, [s.leaves[i], *proof]).verify(
                s.leaves[i], root, index=i + 1, size=n
            )


def assert_inclusion_tampering_fails(s: Store, i: int, n: int) -> None:
    proof = inclusion_proof(i, n, s.nodes)
    leaf, root = s.leaves[i], s.roots[n]
    assert verify_inclusion(leaf, i, n, proof, root)
    for k in range(len(proof)):
        for bit in (0, 7):
            bad = list(proof)
            bad[k] = flip(bad[k], bit)
            assert not verify_inclusion(leaf, i, n, bad, root)
    assert not verify_inclusion(flip(leaf), i, n, proof, root)
    assert not verify_inclusion(leaf, i, n, proof, flip(root))
    for j in {i - 1, i + 1, i ^ 1, 0, n - 1} - {i}:
        if 0 <= j < n:
            assert not verify_inclusion(leaf, j, n, proof, root)
    for m in (n - 1, n + 1, 2 * n):
        if 1 <= m < len(s.roots):
            assert not verify_inclusion(leaf, i, m, proof, s.roots[m])
    assert not verify_inclusion(leaf, i, n, proof[:-1], root) or not proof
    assert not verify_inclusion(leaf, i, n, [*proof, root], root)
    assert not verify_inclusion(leaf, i, n, [root, *proof], root)
    assert not verify_inclusion(leaf, n, n, proof, root)


def test_inclusion_tampering_dense() -> None:
    s = store(DENSE)
    for n in range(1, 65):
        for i in range(n):
            assert_inclusion_tampering_fails(s, i, n)
    for n in range(65, DENSE + 1, 7):
        for i in sorted({0, 1, n // 3, n // 2, n - 2, n - 1}):
            assert_inclusion_tampering_fails(s, i, n)


def test_single_leaf_tree() -> None:
    lh = leaf_hash(b"only")
    assert inclusion_plan(0, 1) == []
    assert inclusion_proof(0, 1, {}) == []
    assert verify_inclusion(lh, 0, 1, [], lh)
    assert not verify_inclusion(lh, 0, 1, [lh], lh)


# ---------------------------------------------------------------------------
# consistency


def test_consistency_all_pairs_dense() -> None:
    s = store(DENSE)
    for n in range(1, DENSE + 1):
        for m in range(1, n + 1):
            plan = consistency_plan(m, n)
            rec = Recording(s.nodes)
            proof = consistency_proof(m, n, rec)
            assert rec.read == plan
            assert all(ref.end <= n for ref in plan)
            assert len(plan) <= 2 * n.bit_length()
            assert proof == pymerkle_consistency_as_rfc(s.ref.prove_consistency(m, n))
            assert verify_consistency(m, n, proof, s.roots[m], s.roots[n])


def assert_consistency_tampering_fails(s: Store, m: int, n: int) -> None:
    proof = consistency_proof(m, n, s.nodes)
    r1, r2 = s.roots[m], s.roots[n]
    assert verify_consistency(m, n, proof, r1, r2)
    for k in range(len(proof)):
        bad = list(proof)
        bad[k] = flip(bad[k], 3)
        assert not verify_consistency(m, n, bad, r1, r2)
    assert not verify_consistency(m, n, proof, flip(r1), r2)
    assert not verify_consistency(m, n, proof, r1, flip(r2))
    for m2, n2 in ((m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1)):
        if 1 <= m2 <= n2 < len(s.roots) and (m2, n2) != (m, n):
            assert not verify_consistency(m2, n2, proof, s.roots[m2], s.roots[n2])
    if proof:
        assert not verify_consistency(m, n, proof[:-1], r1, r2)
    assert not verify_consistency(m, n, [*proof, r2], r1, r2)
    assert not verify_consistency(m, n, [r1, *proof], r1, r2)
    if m < n:
        assert not verify_consistency(n, m, proof, r2, r1)


def test_consistency_tampering_dense() -> None:
    s = store(DENSE)
    for n in range(1, 65):
        for m in range(1, n + 1):
            assert_consistency_tampering_fails(s, m, n)
    for n in range(65, DENSE + 1, 5):
        for m in sorted({1, 2, n // 4, n // 2, n - 1, n, 64, 128} & set(range(1, n + 1))):
            assert_consistency_tampering_fails(s, m, n)


def test_consistency_edge_sizes() -> None:
    s = store(DENSE)
    assert consistency_plan(0, 5) == []
    assert consistency_proof(0, 5, {}) == []
    assert consistency_plan(5, 5) == []
    assert consistency_proof(5, 5, {}) == []
    assert consistency_plan(0, 0) == []
    assert verify_consistency(0, 5, [], EMPTY_ROOT, s.roots[5])
    assert verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    assert not verify_consistency(0, 5, [], s.roots[1], s.roots[5])
    assert not verify_consistency(0, 5, [s.roots[5]], EMPTY_ROOT, s.roots[5])
    assert verify_consistency(5, 5, [], s.roots[5], s.roots[5])
    assert not verify_consistency(5, 5, [], s.roots[5], s.roots[6])
    assert not verify_consistency(5, 5, [s.roots[5]], s.roots[5], s.roots[5])
    assert not verify_consistency(1, 2, [], s.roots[1], s.roots[2])


# ---------------------------------------------------------------------------
# larger random trees


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_random_large_trees(drawn: st.DataObject) -> None:
    s = store(LARGE)
    n = drawn.draw(st.integers(1, LARGE), label="size")
    i = drawn.draw(st.integers(0, n - 1), label="index")
    m = drawn.draw(st.integers(1, n), label="size1")
    proof = inclusion_proof(i, n, s.nodes)
    assert proof == s.ref.prove_inclusion(i + 1, n).path[1:]
    assert_inclusion_tampering_fails(s, i, n)
    cproof = consistency_proof(m, n, s.nodes)
    assert cproof == pymerkle_consistency_as_rfc(s.ref.prove_consistency(m, n))
    assert_consistency_tampering_fails(s, m, n)
    assert root_from_nodes(n, s.nodes) == s.roots[n]


@given(st.integers(0, 1 << 40), st.integers(0, 1 << 40))
def test_plans_stay_logarithmic_for_huge_trees(a: int, b: int) -> None:
    size1, size2 = sorted((a, b))
    if size2 == 0:
        return
    index = size1 % size2
    for plan in (inclusion_plan(index, size2), consistency_plan(size1, size2), root_plan(size2)):
        assert len(plan) <= 2 * size2.bit_length()
        assert all(ref.end <= size2 for ref in plan)
        assert len(set(plan)) == len(plan)


# ---------------------------------------------------------------------------
# argument checking


def test_plans_reject_bad_arguments() -> None:
    for args in ((0, 0), (5, 5), (-1, 5), (0, MAX_TREE_SIZE + 1)):
        with pytest.raises(ValueError, match=r"size|index"):
            inclusion_plan(*args)
    with pytest.raises(ValueError, match="exceeds"):
        consistency_plan(6, 5)
    with pytest.raises(ValueError, match="out of range"):
        root_plan(-1)
    with pytest.raises(TypeError):
        inclusion_plan(True, 2)


def test_missing_node_is_named() -> None:
    s = store(DENSE)
    nodes = dict(s.nodes)
    missing = inclusion_plan(3, 200)[-1]
    del nodes[missing]
    with pytest.raises(MissingNodeError) as info:
        inclusion_proof(3, 200, nodes)
    assert info.value.ref == missing
    with pytest.raises(ValueError, match="32 bytes"):
        inclusion_proof(3, 200, {**s.nodes, missing: b"short"})


def test_verifiers_never_raise_on_garbage() -> None:
    h = EMPTY_ROOT
    junk: list[object] = [None, "str", b"", b"x" * 31, 3.0, -1, True, 1 << 64]
    for x in junk:
        assert not verify_inclusion(x, 0, 1, [], h)  # type: ignore[arg-type]
        assert not verify_inclusion(h, x, 2, [h], h)  # type: ignore[arg-type]
        assert not verify_inclusion(h, 0, x, [h], h)  # type: ignore[arg-type]
        assert not verify_inclusion(h, 0, 2, [x], h)  # type: ignore[list-item]
        assert not verify_consistency(x, 2, [h], h, h)  # type: ignore[arg-type]
        assert not verify_consistency(1, x, [h], h, h)  # type: ignore[arg-type]
        assert not verify_consistency(1, 2, [x], h, h)  # type: ignore[list-item]
        assert not verify_consistency(1, 2, [h], x, h)  # type: ignore[arg-type]
    for proof in (None, h, "ab", 7, {h}):
        assert not verify_inclusion(h, 0, 2, proof, h)  # type: ignore[arg-type]
        assert not verify_consistency(1, 2, proof, h, h)  # type: ignore[arg-type]
    assert not verify_inclusion(h, 0, 2, [h] * 200, h)
    assert not verify_consistency(3, 1 << 63, [h] * 200, h, h)


# ---------------------------------------------------------------------------
# performance at 1,000,000 leaves (numbers printed for the report; bounds are generous)


@pytest.mark.slow
def test_million_leaf_tree_performance(capsys: pytest.CaptureFixture[str]) -> None:
    n = 1_000_000
    leaves = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]
    f = Frontier()
    t0 = time.perf_counter()
    f.extend(leaves)
    pure = time.perf_counter() - t0
    f = Frontier()
    nodes: dict[NodeRef, bytes] = {}
    t0 = time.perf_counter()
    for lh in leaves:
        nodes.update(f.append(lh))
    stored = time.perf_counter() - t0
    assert len(nodes) == 2 * n - n.bit_count()
    root = f.root()

    rounds = 2000
    t0 = time.perf_counter()
    for k in range(rounds):
        i = (k * 7919) % n
        plan = inclusion_plan(i, n)
        fetched = {ref: nodes[ref] for ref in plan}  # stands in for the one SQL query
        proof = inclusion_proof(i, n, fetched)
        assert verify_inclusion(leaves[i], i, n, proof, root)
    per_proof = (time.perf_counter() - t0) / rounds

    t0 = time.perf_counter()
    for k in range(rounds):
        m = 1 + (k * 104729) % (n - 1)
        proof = consistency_proof(m, n, {ref: nodes[ref] for ref in consistency_plan(m, n)})
    per_cons = (time.perf_counter() - t0) / rounds

    with capsys.disabled():
        print(
            f"\n[merkle 1M] Frontier.extend {n / pure:,.0f} appends/s; "
            f"Frontier.append+store {n / stored:,.0f} appends/s; "
            f"inclusion plan+assemble+verify {per_proof * 1e6:.1f} µs; "
            f"consistency plan+assemble {per_cons * 1e6:.1f} µs"
        )
    assert per_proof < 0.01
