"""What an expert draw commits to before anyone sees the seed: the committee request, the draw
parameters (tender, city, date, request, avoidance rules) and the eligible pool snapshot, each
with its canonical JSON and digest.  Pure; `evaluation.draw` commits to them and draws from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from math import ceil
from typing import Any

from evaluation.avoidance import (
    Expert,
    IntArray,
    PoolIndex,
    RegionRules,
    RelationKind,
    TenderContext,
    eligible,
    snapshot_fragment,
)
from evaluation.hashrng import canonical_json, sha256_hex

PARAMS_FORMAT = "tenderhall.draw-params.v1"


# -- request and parameters ------------------------------------------------------------------------


class DrawError(ValueError):
    """Invalid draw request or inputs; the message says what to fix."""


@dataclass(frozen=True)
class Shortfall:
    quota: str  # "specialty:A01", "specialty:A01+B02", "remote" or "committee"
    needed: int
    available: int

    def __str__(self) -> str:
        short = self.needed - self.available
        return f"{self.quota}: needs {self.needed}, only {self.available} possible (short by {short})"


class QuotaError(DrawError):
    """The eligible pool cannot satisfy the quotas; `shortfalls` names each and by how many."""

    def __init__(self, shortfalls: Sequence[Shortfall], detail: str) -> None:
        self.shortfalls = tuple(shortfalls)
        super().__init__(detail)


@dataclass(frozen=True)
class CommitteeRequest:
    """Expert seats per specialty code, committee size, 异地 share and reserve-list length.

    Members other than drawn experts are tenderer representatives (招标人代表).  Law: the committee
    is odd, at least 5, and experts are at least two thirds of it (招标投标法 第三十七条).
    `remote_fraction` of the drawn experts, rounded up, must come from outside the tenderer's city.
    """

    seats: Mapping[str, int]
    committee_size: int
    reserves: int = 3
    remote_fraction: Fraction = Fraction(0)

    def __post_init__(self) -> None:
        errors = []
        if not self.seats:
            errors.append("at least one specialty seat is required")
        for code, n in self.seats.items():
            if not isinstance(code, str) or not code:
                errors.append(f"specialty code {code!r} must be a non-empty string")
            if not isinstance(n, int) or n < 1:
                errors.append(f"seats for specialty {code!r} must be a positive integer, got {n!r}")
        size = self.committee_size
        if size < 5 or size % 2 == 0:
            errors.append(f"committee size must be odd and at least 5, got {size}")
        experts = sum(n for n in self.seats.values() if isinstance(n, int))
        if experts > size:
            errors.append(f"{experts} expert seats do not fit a committee of {size}")
        elif 3 * experts < 2 * size:
            errors.append(
                f"experts must be at least 2/3 of the committee: {experts} of {size} "
                f"(need at least {ceil(Fraction(2 * size, 3))})"
            )
        if self.reserves < 0:
            errors.append(f"reserves must not be negative, got {self.reserves}")
        if not 0 <= self.remote_fraction <= 1:
            errors.append(f"remote_fraction must be within [0, 1], got {self.remote_fraction}")
        if errors:
            raise DrawError("invalid committee request: " + "; ".join(errors))

    @property
    def expert_seats(self) -> int:
        return sum(self.seats.values())

    @property
    def tenderer_representatives(self) -> int:
        return self.committee_size - self.expert_seats

    @property
    def min_remote(self) -> int:
        return ceil(self.remote_fraction * self.expert_seats)


@dataclass(frozen=True)
class DrawParams:
    tender_id: str
    tender_city: str
    evaluation_date: date
    request: CommitteeRequest
    rules: RegionRules

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(sorted(self.request.seats))

    def to_json_obj(self) -> dict[str, Any]:
        r = self.request
        return {
            "committee_size": r.committee_size,
            "evaluation_date": self.evaluation_date.isoformat(),
            "expert_seats": r.expert_seats,
            "format": PARAMS_FORMAT,
            "min_remote": r.min_remote,
            "remote_fraction": [r.remote_fraction.numerator, r.remote_fraction.denominator],
            "reserves": r.reserves,
            "rules": self.rules.to_json_obj(),
            "seats": dict(sorted(r.seats.items())),
            "tender_city": self.tender_city,
            "tender_id": self.tender_id,
            "tenderer_representatives": r.tenderer_representatives,
        }

    @classmethod
    def from_json_obj(cls, obj: Mapping[str, Any]) -> DrawParams:
        if obj.get("format") != PARAMS_FORMAT:
            raise DrawError(f"unknown parameters format {obj.get('format')!r}")
        num, den = obj["remote_fraction"]
        rules = obj["rules"]
        params = cls(
            tender_id=obj["tender_id"],
            tender_city=obj["tender_city"],
            evaluation_date=date.fromisoformat(obj["evaluation_date"]),
            request=CommitteeRequest(
                seats=dict(obj["seats"]),
                committee_size=obj["committee_size"],
                reserves=obj["reserves"],
                remote_fraction=Fraction(num, den),
            ),
            rules=RegionRules(
                yearly_evaluation_cap=rules["yearly_evaluation_cap"],
                same_tenderer_cap=rules["same_tenderer_cap"],
                former_relation_years=rules["former_relation_years"],
                conflict_kinds=frozenset(RelationKind(k) for k in rules["conflict_kinds"]),
            ),
        )
        if params.to_json_obj() != dict(obj):
            raise DrawError("parameters are inconsistent (derived fields do not match the request)")
        return params

    def digest(self) -> str:
        return sha256_hex(canonical_json(self.to_json_obj()))


# -- pool snapshot ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolSnapshot:
    """The eligible experts as the draw sees them: id, home city, specialties; sorted by id.

    Column-wise, so a 100,000-expert snapshot is three lists, not 100,000 objects.  Its canonical
    form is the JSON array of ``{"city", "expert_id", "specialties"}`` records.
    """

    expert_ids: tuple[str, ...]
    cities: tuple[str, ...]
    specialties: tuple[tuple[str, ...], ...]
    # Caches filled by `from_index` only; `verify_draw` always works from the plain columns.
    _fragments: tuple[bytes, ...] | None = field(default=None, compare=False, repr=False)
    _rows: tuple[PoolIndex, IntArray] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.expert_ids)
        if len(self.cities) != n or len(self.specialties) != n:
            raise DrawError("pool snapshot columns differ in length")

    @classmethod
    def from_index(cls, index: PoolIndex, positions: IntArray) -> PoolSnapshot:
        """Snapshot of index rows `positions` (ascending), reusing the index's precomputed columns."""
        pos = positions.tolist()
        return cls(
            expert_ids=tuple(map(index.expert_ids.__getitem__, pos)),
            cities=tuple(map(index.cities.__getitem__, pos)),
            specialties=tuple(map(index.specialties.__getitem__, pos)),
            _fragments=tuple(map(index.fragments.__getitem__, pos)),
            _rows=(index, positions),
        )

    def plain(self) -> PoolSnapshot:
        """The same snapshot without caches (what a verifier rebuilt from JSON would hold)."""
        return PoolSnapshot(self.expert_ids, self.cities, self.specialties)

    def type_columns(self, codes: Sequence[str], tender_city: str) -> tuple[list[int], list[bool]]:
        """Per expert: bit mask of the requested `codes` it holds, and whether it is from outside."""
        if self._rows is not None:
            index, positions = self._rows
            return index.type_columns(codes, tender_city, positions)
        bit = {c: 1 << k for k, c in enumerate(codes)}
        masks: dict[tuple[str, ...], int] = {}
        out = []
        for specs in self.specialties:
            m = masks.get(specs)
            if m is None:
                m = masks[specs] = sum(bit.get(c, 0) for c in set(specs))
            out.append(m)
        return out, [c != tender_city for c in self.cities]

    @classmethod
    def from_experts(cls, experts: Sequence[Expert], eligible_ids: Sequence[str]) -> PoolSnapshot:
        wanted = set(eligible_ids)
        chosen = sorted((e for e in experts if e.expert_id in wanted), key=lambda e: e.expert_id)
        return cls(
            expert_ids=tuple(e.expert_id for e in chosen),
            cities=tuple(e.home_city for e in chosen),
            specialties=tuple(tuple(sorted(e.specialties)) for e in chosen),
        )

    def __len__(self) -> int:
        return len(self.expert_ids)

    def canonical_bytes(self, *, use_cache: bool = True) -> bytes:
        """RFC 8785 JSON of the records; checks the ids are strictly ascending (hence unique)."""
        ids = self.expert_ids
        if list(ids) != sorted(ids) or len(set(ids)) != len(ids):
            raise DrawError("pool snapshot is not sorted by expert_id or has duplicates")
        frags: Sequence[bytes] | None = self._fragments if use_cache else None
        if frags is None:
            frags = [
                snapshot_fragment(i, c, s) for i, c, s in zip(ids, self.cities, self.specialties, strict=True)
            ]
        return b"[" + b",".join(frags) + b"]"

    def digest(self, *, use_cache: bool = True) -> str:
        return sha256_hex(self.canonical_bytes(use_cache=use_cache))

    def to_json_obj(self) -> list[dict[str, Any]]:
        return [
            {"city": c, "expert_id": i, "specialties": list(s)}
            for i, c, s in zip(self.expert_ids, self.cities, self.specialties, strict=True)
        ]

    @classmethod
    def from_json_obj(cls, records: Sequence[Mapping[str, Any]]) -> PoolSnapshot:
        return cls(
            expert_ids=tuple(r["expert_id"] for r in records),
            cities=tuple(r["city"] for r in records),
            specialties=tuple(tuple(r["specialties"]) for r in records),
        )


def eligible_snapshot(
    pool: Sequence[Expert] | PoolIndex, ctx: TenderContext, rules: RegionRules
) -> tuple[PoolSnapshot, dict[str, int]]:
    """Apply the avoidance rules and return the eligible pool snapshot with the exclusion counts."""
    if isinstance(pool, PoolIndex):
        positions, counts = pool.eligible_indices(ctx, rules)
        return PoolSnapshot.from_index(pool, positions), counts
    ids, counts = eligible(pool, ctx, rules)
    return PoolSnapshot.from_experts(pool, ids), counts


def params_for(ctx: TenderContext, request: CommitteeRequest, rules: RegionRules) -> DrawParams:
    """Draw parameters of a tender; its required specialties must be exactly the requested seats."""
    if set(request.seats) != set(ctx.required_specialties):
        raise DrawError(
            f"requested seat codes {sorted(request.seats)} differ from the tender's required "
            f"specialties {sorted(ctx.required_specialties)}"
        )
    return DrawParams(ctx.tender_id, ctx.city, ctx.evaluation_date, request, rules)
