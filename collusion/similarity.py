"""Near-identical bid documents and identical unusual errors.

Documents: character n-gram shingles (Chinese has no spaces), template text removed, then a one-permutation
MinHash (Li, Owen & Zhang 2012, with rotation densification) so a whole batch of documents is hashed in a
few numpy passes instead of one Python loop per document and permutation; banded LSH gives candidates,
the signatures then estimate Jaccard similarity.

Template removal: a shingle is boilerplate when it occurs in the tender's own document (the text every
bidder quotes) or more than max(template_min_docs, template_frac * documents) times region-wide (public
templates). Counting occurrences rather than distinct firms keeps it one bincount; the price is that a
cartel recycling the same text in more than template_min_docs bids loses that text (other evidence remains).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collusion.records import LineItem

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]

SHINGLE = 5
BINS = 64  # signature length; power of two
BANDS = 16  # LSH bands of BINS // BANDS rows; P(candidate | J=0.7) ~ 0.99
MIN_SHINGLES = 20  # fewer distinctive shingles than this: nothing to compare
COUNTER_BITS = 22
_MAX32 = np.uint32(0xFFFFFFFF)
_P = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_NOISE = re.compile(r"[\s\u3000\W_]+")


def normalize(text: str) -> str:
    """NFKC, then drop whitespace and punctuation so layout changes do not hide a copy."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def _mix(h: U64) -> U64:
    h = h ^ (h >> np.uint64(31))
    h = h * _MIX
    return h ^ (h >> np.uint64(29))


def shingle_hashes(texts: Sequence[str], k: int = SHINGLE) -> tuple[U64, I64]:
    """Stable 64-bit hashes of all k-character shingles of all texts, with the owning text index."""
    norm = [normalize(t) for t in texts]
    lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
    cp = np.frombuffer("".join(norm).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = cp.size - k + 1
    if n <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    with np.errstate(over="ignore"):
        h = np.zeros(n, np.uint64)
        for j in range(k):
            h = h * _P + cp[j : j + n]
        h = _mix(h)
    owner = np.repeat(np.arange(len(norm), dtype=np.int64), lengths)
    valid = owner[:n] == owner[k - 1 :]  # windows that do not straddle two texts
    return h[valid], owner[:n][valid]


class ShingleCounter:
    """Region-wide occurrence counts of shingles (hashed into 2**COUNTER_BITS buckets)."""

    def __init__(self, template_min_docs: int = 50, template_frac: float = 0.002) -> None:
        self.counts = np.zeros(1 << COUNTER_BITS, np.int32)
        self.docs = 0
        self.template_min_docs = template_min_docs
        self.template_frac = template_frac

    def add(self, h: U64, n_docs: int) -> None:
        self.counts += np.bincount(_bucket(h), minlength=self.counts.size).astype(np.int32)
        self.docs += n_docs

    def common(self, h: U64) -> npt.NDArray[np.bool_]:
        limit = max(self.template_min_docs, self.template_frac * self.docs)
        return np.asarray(self.counts[_bucket(h)] > limit)


def _bucket(h: U64) -> I64:
    return (h & np.uint64((1 << COUNTER_BITS) - 1)).astype(np.int64)


def signatures(h: U64, owner: I64, n_docs: int) -> tuple[U32, npt.NDArray[np.bool_]]:
    """One-permutation MinHash per document; returns (signatures, comparable flags)."""
    shift = np.uint64(64 - (BINS.bit_length() - 1))
    bins = (h >> shift).astype(np.int64)
    vals = (h & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    flat = np.full(n_docs * BINS, _MAX32, np.uint32)
    np.minimum.at(flat, owner * BINS + bins, vals)
    sig = flat.reshape(n_docs, BINS)
    sizes = np.bincount(owner, minlength=n_docs)
    # Rotation densification: an empty bin borrows the next non-empty bin to its right, offset by distance.
    col = np.arange(BINS, dtype=np.int64)
    idx = np.where(sig != _MAX32, col, 4 * BINS)
    idx2 = np.concatenate([idx, idx + BINS], axis=1)
    nxt = np.minimum.accumulate(idx2[:, ::-1], axis=1)[:, ::-1][:, :BINS]
    ok = nxt < 2 * BINS
    src = np.where(ok, nxt % BINS, 0)
    dist = np.where(ok, nxt - col, 0).astype(np.uint32)
    with np.errstate(over="ignore"):
        dense = np.take_along_axis(sig, src, axis=1) + dist * np.uint32(0x9E3779B1)
    dense[~ok] = _MAX32
    return dense, sizes >= MIN_SHINGLES


def band_keys(sig: U32) -> U32:
    """One 32-bit key per LSH band; equal keys make a candidate pair (verified on the signatures)."""
    r = BINS // BANDS
    s = sig.reshape(sig.shape[0], BANDS, r).astype(np.uint64)
    key = np.zeros((sig.shape[0], BANDS), np.uint64)
    with np.errstate(over="ignore"):
        for j in range(r):
            key = (key ^ s[:, :, j]) * _MIX
    return (key >> np.uint64(32)).astype(np.uint32)


@dataclass(frozen=True, slots=True)
class DocBatch:
    sig: U32  # (n, BINS)
    comparable: npt.NDArray[np.bool_]


def doc_signatures(
    texts: Sequence[str],
    counter: ShingleCounter | None = None,
    tender_texts: Sequence[str] | None = None,
    *,
    update: bool = True,
) -> DocBatch:
    """Signatures for a batch of texts with template shingles removed.

    tender_texts[i] is the tender document text for texts[i] ('' if unknown); its shingles are
    boilerplate for that bid. With update=True the counter learns this batch first (batch mode).
    """
    h, owner = shingle_hashes(texts)
    if counter is not None:
        if update:
            counter.add(h, len(texts))
        keep = ~counter.common(h)
        h, owner = h[keep], owner[keep]
    if tender_texts is not None and any(tender_texts):
        uniq = sorted(set(t for t in tender_texts if t))
        pos = {t: i for i, t in enumerate(uniq)}
        th, towner = shingle_hashes(uniq)
        # Drop (doc, shingle) pairs that occur in that doc's tender text: a bitmap keyed by
        # (tender text, shingle) instead of a sort; ~1 % false drops at 2**24 bits are harmless.
        tid = np.fromiter((pos.get(t, -1) for t in tender_texts), np.int64, count=len(tender_texts))
        mask = np.uint64((1 << 24) - 1)
        seen = np.zeros(1 << 24, np.bool_)
        with np.errstate(over="ignore"):
            seen[(_mix(th ^ (towner.astype(np.uint64) * _P)) & mask).astype(np.int64)] = True
            doc_t = tid[owner]
            dkeys = (_mix(h ^ (doc_t.astype(np.uint64) * _P)) & mask).astype(np.int64)
        keep = ~((doc_t >= 0) & seen[dkeys])
        h, owner = h[keep], owner[keep]
    sig, comparable = signatures(h, owner, len(texts))
    return DocBatch(sig, comparable)


def similarity(sig_a: U32, sig_b: U32) -> float:
    return float(np.mean(sig_a == sig_b))


def candidate_pairs(keys: U32, max_bucket: int = 64) -> I64:
    """Index pairs (i < j) sharing a band key in any band; huge buckets are skipped as degenerate."""
    out: list[I64] = []
    n = keys.shape[0]
    for band in range(keys.shape[1]):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        sc = col[order]
        starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
        ends = np.r_[starts[1:], n]
        for s, e in zip(starts[ends - starts >= 2], ends[ends - starts >= 2], strict=True):
            if e - s > max_bucket:
                continue
            members = np.sort(order[s:e])
            ii, jj = np.triu_indices(e - s, k=1)
            out.append(np.stack([members[ii], members[jj]], axis=1))
    if not out:
        return np.zeros((0, 2), np.int64)
    return np.unique(np.concatenate(out), axis=0).astype(np.int64)


class SignatureIndex:
    """Append-only store of document signatures for incremental checks.

    Rows are also listed per owner and per tender, so checking a new tender only touches the documents of
    its own bidders instead of scanning the whole history.
    """

    def __init__(self) -> None:
        self._sig: list[U32] = []
        self._owner: list[npt.NDArray[np.int32]] = []
        self._tender: list[npt.NDArray[np.int32]] = []
        self._cache: tuple[U32, npt.NDArray[np.int32], npt.NDArray[np.int32]] | None = None
        self._rows = 0
        self.by_owner: dict[int, list[int]] = {}
        self.by_tender: dict[int, list[int]] = {}

    def add(self, sig: U32, owners: Iterable[int], tenders: Iterable[int]) -> None:
        n = sig.shape[0]
        if n == 0:
            return
        own = np.fromiter(owners, np.int32, count=n)
        ten = np.fromiter(tenders, np.int32, count=n)
        for r, (o, t) in enumerate(zip(own.tolist(), ten.tolist(), strict=True), start=self._rows):
            self.by_owner.setdefault(o, []).append(r)
            self.by_tender.setdefault(t, []).append(r)
        self._sig.append(sig)
        self._owner.append(own)
        self._tender.append(ten)
        self._rows += n
        self._cache = None

    def arrays(self) -> tuple[U32, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        if self._cache is None:
            if not self._sig:
                z = np.zeros(0, np.int32)
                self._cache = (np.zeros((0, BINS), np.uint32), z, z)
            else:
                self._sig = [np.concatenate(self._sig)]
                self._owner = [np.concatenate(self._owner)]
                self._tender = [np.concatenate(self._tender)]
                self._cache = (self._sig[0], self._owner[0], self._tender[0])
        return self._cache

    def query(
        self, sig: U32, threshold: float, owners: Iterable[int] | None = None
    ) -> list[tuple[int, int, float]]:
        """(owner, tender, similarity) of stored documents near `sig`, optionally only of given owners."""
        allsig, own, ten = self.arrays()
        if owners is None:
            rows = np.arange(own.size)
        else:
            rows = np.fromiter(
                itertools.chain.from_iterable(self.by_owner.get(o, ()) for o in owners), np.int64
            )
        if rows.size == 0:
            return []
        sims = (allsig[rows] == sig[None, :]).mean(axis=1)
        ok = rows[sims >= threshold]
        return [
            (int(own[r]), int(ten[r]), float(x)) for r, x in zip(ok, sims[sims >= threshold], strict=True)
        ]


def line_item_errors(items: Sequence[LineItem], price: float | None = None) -> tuple[str, ...]:
    """Signatures of arithmetic mistakes in a price schedule (quantity x unit price != amount, bad total).

    Honest bidders filling the same bill of quantities make different mistakes, if any; the same wrong
    amount on the same line in two bids points to one spreadsheet.
    """
    sigs: list[str] = []
    for it in items:
        expected = round(it.quantity * it.unit_price, 2)
        if abs(expected - it.amount) > max(0.011, 1e-6 * abs(it.amount)):
            sigs.append(f"{it.code}: {it.quantity:g} × {it.unit_price:.2f} ≠ {it.amount:.2f}")
    if price is not None and items:
        total = round(sum(it.amount for it in items), 2)
        if abs(total - price) > max(0.011, 1e-6 * abs(price)):
            sigs.append(f"Σ {total:.2f} ≠ {price:.2f}")
    return tuple(sigs)


CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


@functools.lru_cache(maxsize=65536)
def _norm_name(name: str) -> str:
    return normalize(name)


def mixed_document_hits(text: str, others: Sequence[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Which other bidders (id, name, credit code) are named in this bid's text: (other id, what matched).

    Names shorter than 4 characters are skipped (too likely to occur by accident).
    """
    if not text:
        return []
    norm = normalize(text)
    codes = set(CREDIT_CODE.findall(text.upper()))
    hits: list[tuple[str, str]] = []
    for oid, name, code in others:
        if code and code in codes:
            hits.append((oid, code))
        elif len(nn := _norm_name(name)) >= 4 and nn in norm:
            hits.append((oid, name))
    return hits
