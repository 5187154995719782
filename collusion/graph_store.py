"""Columnar storage behind the evidence graph: which firm used which attribute value in which tender.

An observation is (value id, firm, tender); REGISTRY (-1) as tender marks a value from the company
register.  Observations live in two parts:

* frozen: sorted by (value, note order) into CSR arrays, with a per-firm index of its values; built in a
  few numpy sorts after a batch load or before a region-wide run;
* pending: observations noted since (incremental adds), kept as small arrays and scanned on query.

Queries merge both, so an incremental check after ``add_tender`` sees the whole history without
re-sorting it. Every observation carries a global note sequence number; the "first seen" order of
values and firms it gives keeps results independent of how the data was split into loads.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

REGISTRY = -1
_NO_SEQ = np.iinfo(np.int64).max


S = TypeVar("S", bound=np.generic)


class Growable(Generic[S]):
    """An append-only numpy column (amortised doubling)."""

    __slots__ = ("_a", "_n")

    def __init__(self, dtype: type[S], fill: object = 0) -> None:
        self._a: npt.NDArray[S] = np.full(16, fill, dtype=dtype)
        self._n = 0

    def extend(self, values: npt.ArrayLike) -> None:
        v = np.asarray(values, dtype=self._a.dtype)
        need = self._n + v.size
        if need > self._a.size:
            grown = np.empty(max(need, 2 * self._a.size), dtype=self._a.dtype)
            grown[: self._n] = self._a[: self._n]
            self._a = grown
        self._a[self._n : need] = v
        self._n = need

    def grow_to(self, n: int, fill: object) -> None:
        if n > self._n:
            self.extend(np.full(n - self._n, fill, dtype=self._a.dtype))

    @property
    def view(self) -> npt.NDArray[S]:
        return self._a[: self._n]

    def __len__(self) -> int:
        return self._n


def _csr(keys: npt.NDArray[np.integer], n: int) -> I64:
    """Row pointers of a CSR index over sorted ``keys`` in [0, n)."""
    return np.searchsorted(keys, np.arange(n + 1, dtype=np.int64)).astype(np.int64)


class Observations:
    """(value, firm, tender) observations with the queries the evidence graph needs.

    Observations must be added in note order (chunk after chunk, each in order): a value's first
    observation defines its place in the "first seen" order, and a value's firms keep that order.
    """

    def __init__(self) -> None:
        self.first_seq = Growable(np.int64, _NO_SEQ)  # per value: position of its first observation
        self._count = 0  # observations ever added
        # frozen part
        self._ptr = np.zeros(1, np.int64)  # value -> rows of _firm/_tender, in note order
        self._firm = np.zeros(0, np.int32)
        self._tender = np.zeros(0, np.int32)
        self._nfirms = np.zeros(0, np.int64)  # distinct firms per value
        self._fptr = np.zeros(1, np.int64)  # firm -> its distinct values (sorted)
        self._fvals = np.zeros(0, np.int32)
        # pending part: chunks of (value, firm, tender)
        self._chunks: list[tuple[I32, I32, I32]] = []
        self._pending: tuple[I32, I32, I32] | None = None

    @property
    def n_values(self) -> int:
        return len(self.first_seq)

    def new_values(self, n: int) -> None:
        self.first_seq.extend(np.full(n, _NO_SEQ, np.int64))

    def add(self, value: I64, firm: I64, tender: I64) -> None:
        """Note observations (value -1 = no value, skipped); the values must exist already."""
        keep = np.flatnonzero(value >= 0)
        if keep.size == 0:
            return
        v = value[keep].astype(np.int32)
        np.minimum.at(self.first_seq.view, v, self._count + np.arange(v.size, dtype=np.int64))
        self._count += v.size
        self._chunks.append((v, firm[keep].astype(np.int32), tender[keep].astype(np.int32)))
        self._pending = None

    def pending(self) -> tuple[I32, I32, I32]:
        if self._pending is None:
            if not self._chunks:
                z = np.zeros(0, np.int32)
                self._pending = (z, z, z)
            else:
                vs, fs, ts = zip(*self._chunks, strict=True)
                self._pending = (np.concatenate(vs), np.concatenate(fs), np.concatenate(ts))
                self._chunks = [self._pending]
        return self._pending

    @property
    def n_pending(self) -> int:
        return sum(c[0].size for c in self._chunks)

    def freeze(self, n_firms: int) -> None:
        """Merge the pending observations into the sorted arrays.

        Sorting packed (value << 32 | position) keys instead of argsorting is several times faster, and
        the position keeps the note order within a value (pending positions follow the frozen ones).
        """
        pv, pf, pt = self.pending()
        n_vals = self.n_values
        frozen_v = np.repeat(np.arange(self._ptr.size - 1, dtype=np.int64), np.diff(self._ptr))
        key = np.concatenate([frozen_v, pv.astype(np.int64)])
        del frozen_v
        key <<= 32
        key |= np.arange(key.size, dtype=np.int64)
        key.sort()
        pos = key & 0xFFFFFFFF
        f = np.concatenate([self._firm, pf])[pos]
        self._tender = np.concatenate([self._tender, pt])[pos]
        self._firm = f
        del pos, pv, pf, pt
        self._chunks, self._pending = [], None
        key >>= 32
        v = key.astype(np.int32)
        del key
        self._ptr = _csr(v, n_vals)
        # Distinct (firm, value) pairs: drop consecutive repeats first (a firm re-using its own value).
        fresh = np.ones(v.size, bool)
        fresh[1:] = (v[1:] != v[:-1]) | (f[1:] != f[:-1])
        pairs = (f[fresh].astype(np.int64) << 32) | v[fresh]
        del v, fresh
        pairs.sort()
        keep = np.ones(pairs.size, bool)
        keep[1:] = pairs[1:] != pairs[:-1]
        pairs = pairs[keep]
        pv64 = pairs & 0xFFFFFFFF
        self._nfirms = np.bincount(pv64, minlength=n_vals).astype(np.int64)
        self._fptr = _csr(pairs >> 32, n_firms)
        self._fvals = pv64.astype(np.int32)

    # ---- queries ---------------------------------------------------------------------------------
    def firm_values(self, firm: int) -> set[int]:
        out: set[int] = set()
        if firm + 1 < self._fptr.size:
            out.update(self._fvals[self._fptr[firm] : self._fptr[firm + 1]].tolist())
        pv, pf, _ = self.pending()
        if pv.size:
            out.update(pv[pf == firm].tolist())
        return out

    def firm_tenders(self, value: int) -> dict[int, list[int]]:
        """firm -> tenders where it used the value (REGISTRY for the register), firms in first-use order."""
        out: dict[int, list[int]] = {}
        if value + 1 < self._ptr.size:
            lo, hi = int(self._ptr[value]), int(self._ptr[value + 1])
            _extend(out, self._firm[lo:hi].tolist(), self._tender[lo:hi].tolist())
        pv, pf, pt = self.pending()
        if pv.size:
            m = np.flatnonzero(pv == value)
            if m.size:
                _extend(out, pf[m].tolist(), pt[m].tolist())
        return out

    def n_firms(self, value: int) -> int:
        pv, _, _ = self.pending()
        if value < self._nfirms.size and not (pv == value).any():
            return int(self._nfirms[value])
        return len(self.firm_tenders(value))

    def shared_values(self, min_firms: int = 2) -> I64:
        """Values used by at least ``min_firms`` firms (frozen part only), in first-seen order."""
        vids = np.flatnonzero(self._nfirms >= min_firms)
        return vids[np.argsort(self.first_seq.view[vids], kind="stable")]


def _extend(out: dict[int, list[int]], firms: list[int], tenders: list[int]) -> None:
    for f, t in zip(firms, tenders, strict=True):
        lst = out.get(f)
        if lst is None:
            out[f] = [t]
        elif lst[-1] != t:
            lst.append(t)


class FirmTenders:
    """Per firm, the distinct tenders it bid in (ascending); frozen CSR plus pending bid rows."""

    def __init__(self) -> None:
        self._ptr = np.zeros(1, np.int64)
        self._tenders = np.zeros(0, np.int32)
        self.frozen_rows = 0

    def freeze(self, bidder: I64, tender: I64, n_firms: int) -> None:
        keys = (bidder.astype(np.int64) << 32) | tender
        keys.sort()
        keep = np.ones(keys.size, bool)
        keep[1:] = keys[1:] != keys[:-1]
        keys = keys[keep]
        self._ptr = _csr(keys >> 32, n_firms)
        self._tenders = (keys & 0xFFFFFFFF).astype(np.int32)
        self.frozen_rows = int(bidder.size)

    def of(self, firm: int, bidder: I64, tender: I64) -> list[int]:
        """Tenders of ``firm``; ``bidder``/``tender`` are the full bid columns (rows past the frozen
        ones are scanned)."""
        out: list[int] = []
        if firm + 1 < self._ptr.size:
            out = self._tenders[self._ptr[firm] : self._ptr[firm + 1]].tolist()
        tail = tender[self.frozen_rows :][bidder[self.frozen_rows :] == firm]
        if tail.size:
            out = sorted(set(out).union(tail.tolist()))
        return out

    def counts(self, bidder: I64, tender: I64, n_firms: int) -> I64:
        """Number of distinct tenders per firm."""
        n = np.zeros(n_firms, np.int64)
        base = np.diff(self._ptr)
        n[: base.size] = base[:n_firms]
        tb = bidder[self.frozen_rows :]
        if tb.size:
            for f in np.unique(tb).tolist():
                n[f] = len(self.of(f, bidder, tender))
        return n


__all__ = ["REGISTRY", "FirmTenders", "Growable", "Observations"]
