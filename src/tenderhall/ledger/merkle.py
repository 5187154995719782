"""RFC 9162 Merkle tree hashing, proofs over stored perfect subtrees, and proof verification.

Storage model: the caller persists the hash of every *perfect* subtree as a node
``NodeRef(level, index)`` covering leaves ``[index * 2**level, (index + 1) * 2**level)``;
level 0 holds the leaf hashes. Such nodes never change once complete, so they can be
written once and read forever. Any subtree hash an RFC 9162 proof needs that is not
perfect lies on the right edge of the tree, and is folded here from the perfect
subtrees it decomposes into; every plan is therefore O(log n) node references, and the
caller can fetch all of them in one query before assembling the proof.

Proof ordering is that of RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (PROOF/SUBPROOF):
from the bottom of the tree upwards.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "Frontier",
    "MissingNodeError",
    "NodeRef",
    "consistency_plan",
    "consistency_proof",
    "inclusion_plan",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_nodes",
    "root_of",
    "root_plan",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
# RFC 9162 tree sizes are uint64; bounding them also bounds proof lengths to 64 hashes.
MAX_TREE_SIZE = (1 << 64) - 1

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH of a one-leaf tree: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


EMPTY_ROOT: bytes = _sha256(b"").digest()
"""MTH of the empty tree (RFC 9162 §2.1.1)."""


class NodeRef(NamedTuple):
    """A perfect subtree: ``2**level`` leaves starting at leaf ``index * 2**level``."""

    level: int
    # Shadows tuple.index on purpose: the name is the storage schema's.
    index: int  # type: ignore[assignment]

    @property
    def start(self) -> int:
        """First leaf covered (inclusive)."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """Last leaf covered (exclusive)."""
        return (self.index + 1) << self.level


class MissingNodeError(LookupError):
    """A node required by a plan was not supplied in the ``nodes`` mapping."""

    def __init__(self, ref: NodeRef) -> None:
        super().__init__(f"missing Merkle node {ref!r}")
        self.ref = ref


# ---------------------------------------------------------------------------
# Frontier (compact range)


class Frontier:
    """Hashes of the maximal perfect subtrees of a tree of ``size`` leaves, left to right.

    One hash per set bit of ``size``, so at most 64 of them; appending costs O(1)
    amortised hashes and needs no reads from storage.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        hs = list(hashes)
        if not 0 <= size <= MAX_TREE_SIZE:
            raise ValueError(f"tree size out of range: {size}")
        if len(hs) != size.bit_count():
            raise ValueError(f"a frontier of size {size} needs {size.bit_count()} hashes, got {len(hs)}")
        for h in hs:
            _check_hash(h, "frontier hash")
        self._size = size
        self._hashes = hs

    @classmethod
    def from_nodes(cls, size: int, nodes: Mapping[NodeRef, bytes]) -> Frontier:
        """Rebuild the frontier of a past size from stored nodes (fetch ``root_plan(size)``)."""
        return cls(size, [_get(nodes, ref) for ref in root_plan(size)])

    @property
    def size(self) -> int:
        return self._size

    def nodes(self) -> list[tuple[NodeRef, bytes]]:
        """The perfect subtrees of this frontier with their positions, left to right."""
        return list(zip(root_plan(self._size), self._hashes, strict=True))

    def copy(self) -> Frontier:
        clone = Frontier()
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def append(self, leaf: bytes) -> list[tuple[NodeRef, bytes]]:
        """Append one leaf, given as its *leaf hash* (see ``leaf_hash``).

        Returns every node completed by this append, bottom-up: the leaf at level 0,
        then each parent that became perfect. The caller stores all of them.
        """
        _check_hash(leaf, "leaf hash")
        n = self._size
        if n >= MAX_TREE_SIZE:
            raise ValueError("tree is full")
        hashes = self._hashes
        created = [(NodeRef(0, n), leaf)]
        h = leaf
        level = 0
        # Each trailing one bit of n is a perfect subtree of the same level to merge with.
        while (n >> level) & 1:
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            level += 1
            created.append((NodeRef(level, n >> level), h))
        hashes.append(h)
        self._size = n + 1
        return created

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append many leaf hashes without reporting the nodes (e.g. to compute a root)."""
        hashes = self._hashes
        n = self._size
        for leaf in leaves:
            _check_hash(leaf, "leaf hash")
            if n >= MAX_TREE_SIZE:
                raise ValueError("tree is full")
            h = leaf
            m = n
            while m & 1:
                h = _sha256(b"\x01" + hashes.pop() + h).digest()
                m >>= 1
            hashes.append(h)
            n += 1
        self._size = n

    def root(self) -> bytes:
        """RFC 9162 MTH of the current tree."""
        return _fold(self._hashes)

    def to_bytes(self) -> bytes:
        """Compact form: 8-byte big-endian size followed by the frontier hashes."""
        return self._size.to_bytes(8, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> Frontier:
        if len(data) < 8:
            raise ValueError("truncated frontier")
        size = int.from_bytes(data[:8], "big")
        body = data[8:]
        if len(body) != HASH_SIZE * size.bit_count():
            raise ValueError("frontier length does not match its size")
        return cls(size, [body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH of a stream of leaf hashes in O(log n) memory."""
    frontier = Frontier()
    frontier.extend(leaf_hashes)
    return frontier.root()


# ---------------------------------------------------------------------------
# Planning: which stored nodes a proof needs


def _check_hash(h: object, what: str) -> None:
    if not isinstance(h, bytes) or len(h) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")


def _check_size(size: int, *, allow_zero: bool) -> None:
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError("tree sizes and indices must be int")
    if not (0 if allow_zero else 1) <= size <= MAX_TREE_SIZE:
        raise ValueError(f"tree size out of range: {size}")


def _largest_power_below(n: int) -> int:
    """Largest power of two strictly less than n (n >= 2): the RFC 9162 split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_refs(start: int, width: int) -> list[NodeRef]:
    """Perfect subtrees, left to right, whose fold is MTH(D[start:start+width]).

    Valid for every subtree of an RFC 9162 tree: ``start`` is then a multiple of a power
    of two >= ``width``, so the binary decomposition of ``width`` stays aligned.
    """
    refs = []
    for level in range(width.bit_length() - 1, -1, -1):
        if (width >> level) & 1:
            refs.append(NodeRef(level, start >> level))
            start += 1 << level
    return refs


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of perfect-subtree hashes into the MTH of the range they cover."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(b"\x01" + h + acc).digest()
    return acc


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """(start, width) of each PATH element, bottom-up (RFC 9162 §2.1.3.1)."""
    _check_size(size, allow_zero=False)
    _check_size(index, allow_zero=True)
    if index >= size:
        raise ValueError(f"leaf index {index} not below tree size {size}")
    ranges = []
    start, width = 0, size
    while width > 1:
        k = _largest_power_below(width)
        if index - start < k:
            ranges.append((start + k, width - k))
            width = k
        else:
            ranges.append((start, k))
            start += k
            width -= k
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """(start, width) of each PROOF element, bottom-up (RFC 9162 §2.1.4.1)."""
    _check_size(size1, allow_zero=True)
    _check_size(size2, allow_zero=True)
    if size1 > size2:
        raise ValueError(f"first size {size1} exceeds second size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    ranges = []
    start, m, width, whole = 0, size1, size2, True
    while m != width:
        k = _largest_power_below(width)
        if m <= k:
            ranges.append((start + k, width - k))
            width = k
        else:
            ranges.append((start, k))
            start += k
            m -= k
            width -= k
            whole = False
    if not whole:
        # SUBPROOF(m, D[m], false): the old tree's subtree itself is part of the proof.
        ranges.append((start, width))
    ranges.reverse()
    return ranges


def _plan(ranges: list[tuple[int, int]]) -> list[NodeRef]:
    return [ref for start, width in ranges for ref in _subtree_refs(start, width)]


def _assemble(ranges: list[tuple[int, int]], nodes: Mapping[NodeRef, bytes]) -> list[bytes]:
    return [_fold([_get(nodes, ref) for ref in _subtree_refs(s, w)]) for s, w in ranges]


def _get(nodes: Mapping[NodeRef, bytes], ref: NodeRef) -> bytes:
    try:
        h = nodes[ref]
    except KeyError:
        raise MissingNodeError(ref) from None
    _check_hash(h, f"node {ref!r}")
    return h


def inclusion_plan(index: int, size: int) -> list[NodeRef]:
    """Stored nodes needed for the inclusion proof of leaf ``index`` in a tree of ``size``."""
    return _plan(_inclusion_ranges(index, size))


def inclusion_proof(index: int, size: int, nodes: Mapping[NodeRef, bytes]) -> list[bytes]:
    """RFC 9162 PATH(index, D[0:size]) from the nodes listed by ``inclusion_plan``."""
    return _assemble(_inclusion_ranges(index, size), nodes)


def consistency_plan(size1: int, size2: int) -> list[NodeRef]:
    """Stored nodes needed for the consistency proof from ``size1`` to ``size2``."""
    return _plan(_consistency_ranges(size1, size2))


def consistency_proof(size1: int, size2: int, nodes: Mapping[NodeRef, bytes]) -> list[bytes]:
    """RFC 9162 PROOF(size1, D[0:size2]); empty when size1 is 0 or equals size2."""
    return _assemble(_consistency_ranges(size1, size2), nodes)


def root_plan(size: int) -> list[NodeRef]:
    """Stored nodes whose fold is the MTH of the tree of ``size`` leaves (its frontier)."""
    _check_size(size, allow_zero=True)
    return _subtree_refs(0, size)


def root_from_nodes(size: int, nodes: Mapping[NodeRef, bytes]) -> bytes:
    """MTH of the tree of ``size`` leaves from the nodes listed by ``root_plan``."""
    return _fold([_get(nodes, ref) for ref in root_plan(size)])


# ---------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2 and §2.1.4.2). Never raises on hostile input.


def _is_hash(h: object) -> bool:
    return isinstance(h, bytes) and len(h) == HASH_SIZE


def _is_size(n: object) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_TREE_SIZE


def _is_proof(p: object) -> bool:
    # Proofs often come from decoded JSON: anything but a list/tuple-like of hashes fails.
    return isinstance(p, Sequence) and not isinstance(p, (str, bytes, bytearray))


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True iff ``proof`` shows the leaf with hash ``leaf_hash`` at ``index`` in the tree ``root``."""
    if not (_is_size(index) and _is_size(size) and _is_hash(leaf_hash) and _is_hash(root)):
        return False
    if not _is_proof(proof):
        return False
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0 or not _is_hash(p):
            return False
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """True iff ``proof`` shows the tree (size1, root1) is a prefix of the tree (size2, root2).

    Beyond RFC 9162 (which covers 0 < size1 < size2): equal sizes need an empty proof and
    equal roots; size1 == 0 needs an empty proof and root1 == EMPTY_ROOT.
    """
    if not (_is_size(size1) and _is_size(size2) and _is_hash(root1) and _is_hash(root2)):
        return False
    if not _is_proof(proof):
        return False
    if size1 > size2:
        return False
    if size1 == 0:
        return len(proof) == 0 and hmac.compare_digest(root1, EMPTY_ROOT)
    if size1 == size2:
        return len(proof) == 0 and hmac.compare_digest(root1, root2)
    if len(proof) == 0 or not all(_is_hash(p) for p in proof):
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        # The old tree is a perfect subtree of the new one, so the proof omits its root.
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, root1) and hmac.compare_digest(sr, root2)
