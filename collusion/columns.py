"""Bids as columns: the unit the graph index ingests (one Python pass per field, not per bid).

``BidColumns`` holds the fields the evidence graph and the screens read, a tender's bids contiguous and
in their original order.  ``from_records`` builds it from ``BidRecord`` objects; a producer with columns
at hand (the synthetic region generator) can fill it directly and never make a record per bid.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from collusion import similarity as sim
from collusion.records import BidRecord, DocumentMeta

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


def meta_value(m: DocumentMeta) -> str:
    """The document-metadata value two bids must share; "" when there is nothing distinctive."""
    if m.created is None or not (m.author or m.tool):
        return ""  # author alone ("Administrator") is far too common to mean anything
    return f"{m.author} / {m.tool} / {m.created.isoformat(' ', 'seconds')}"


@dataclass(frozen=True, slots=True)
class Multi:
    """A variable number of values per bid: ``values`` flattened in bid order, ``counts`` per bid."""

    values: list[str]
    counts: I64

    @classmethod
    def of(cls, per_bid: Sequence[Sequence[str]]) -> Multi:
        counts = np.fromiter((len(v) for v in per_bid), np.int64, count=len(per_bid))
        return cls([x for v in per_bid for x in v], counts)

    def offsets(self) -> I64:
        """Position of each value inside its bid's list (0, 1, ...)."""
        starts = np.cumsum(self.counts) - self.counts
        return np.arange(len(self.values), dtype=np.int64) - np.repeat(starts, self.counts)


@dataclass(frozen=True, slots=True)
class BidColumns:
    tender: list[str]
    bidder: list[str]
    price: F64
    winner: B
    ip: list[str]
    device: list[str]
    bond: list[str]
    agent: list[str]
    meta: list[str]  # meta_value() of each bid's document metadata
    project_managers: Multi
    contacts: Multi
    errors: Multi  # error signatures given with the bid, then those derived from its line items
    # Documents (None: no bid has one): extracted text and precomputed signature, per bid.
    doc_text: list[str] | None = None
    doc_signature: list[tuple[int, ...]] | None = field(default=None)

    def __len__(self) -> int:
        return len(self.tender)

    def runs(self) -> Iterator[tuple[str, int, int]]:
        """(tender id, first row, end row) of each run of consecutive rows of one tender."""
        lo = 0
        for i in range(1, len(self.tender) + 1):
            if i == len(self.tender) or self.tender[i] != self.tender[lo]:
                yield self.tender[lo], lo, i
                lo = i

    @classmethod
    def concat(cls, parts: Sequence[BidColumns]) -> BidColumns:
        """Rows of ``parts`` one after the other (each tender's bids must sit in one part)."""

        def strs(name: str) -> list[str]:
            return [x for p in parts for x in getattr(p, name)]

        def multi(name: str) -> Multi:
            ms: list[Multi] = [getattr(p, name) for p in parts]
            return Multi([x for m in ms for x in m.values], np.concatenate([m.counts for m in ms]))

        docs = any(p.doc_text is not None for p in parts)
        return cls(
            tender=strs("tender"),
            bidder=strs("bidder"),
            price=np.concatenate([p.price for p in parts]),
            winner=np.concatenate([p.winner for p in parts]),
            ip=strs("ip"),
            device=strs("device"),
            bond=strs("bond"),
            agent=strs("agent"),
            meta=strs("meta"),
            project_managers=multi("project_managers"),
            contacts=multi("contacts"),
            errors=multi("errors"),
            doc_text=[x for p in parts for x in p.doc_text or [""] * len(p)] if docs else None,
            doc_signature=[x for p in parts for x in p.doc_signature or [()] * len(p)] if docs else None,
        )

    @classmethod
    def from_records(cls, bids: Sequence[BidRecord], *, group: bool = True) -> BidColumns:
        """Columns of the bids; with ``group`` the bids are first grouped by tender (order of first bid)."""
        if group:
            ids: dict[str, int] = {}
            code = np.fromiter((ids.setdefault(b.tender_id, len(ids)) for b in bids), np.int64, len(bids))
            if code.size and np.any(code[1:] < code[:-1]):
                bids = [bids[i] for i in np.argsort(code, kind="stable").tolist()]
        has_docs = any(b.doc_text or b.doc_signature for b in bids)
        errors = Multi.of(
            [
                (*b.error_signatures, *sim.line_item_errors(b.line_items, b.price))
                if b.line_items
                else b.error_signatures
                for b in bids
            ]
        )
        return cls(
            tender=[b.tender_id for b in bids],
            bidder=[b.bidder_id for b in bids],
            price=np.fromiter((b.price for b in bids), np.float64, len(bids)),
            winner=np.fromiter((b.is_winner for b in bids), np.bool_, len(bids)),
            ip=[b.ip for b in bids],
            device=[b.device for b in bids],
            bond=[b.bond_account for b in bids],
            agent=[b.agent for b in bids],
            meta=[meta_value(b.doc_meta) for b in bids],
            project_managers=Multi.of([b.project_managers for b in bids]),
            contacts=Multi.of([b.contacts for b in bids]),
            errors=errors,
            doc_text=[b.doc_text for b in bids] if has_docs else None,
            doc_signature=[b.doc_signature for b in bids] if has_docs else None,
        )


__all__ = ["BidColumns", "Multi", "meta_value"]
