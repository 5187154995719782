"""Avoidance (回避) rules: which experts of the regional pool may sit on a tender's committee.

Rules are data (`RegionRules`), applied in the fixed order `RULE_ORDER`.  An excluded expert is
counted under the *first* rule that excludes it, so the counts add up to the pool size minus the
eligible experts; the draw record publishes only these counts, never who was excluded.

Two implementations of one rule set:

- `exclusion_rule(expert, context, rules)`: the reference, one expert at a time, easy to read;
- `PoolIndex`: the pool compiled once into numpy columns and inverted indexes, so that a draw over
  100,000 experts costs a few vectorised passes instead of 100,000 Python calls.

`eligible()` accepts either; the tests prove both agree on random pools.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class RelationKind(StrEnum):
    EMPLOYMENT = "employment"
    SHAREHOLDING = "shareholding"
    RELATIVE = "relative"  # near relative (近亲属) of the party's representative or key staff


class Rule(StrEnum):
    SPECIALTY = "specialty"
    STATUS = "status"
    LEAVE = "leave"
    CONFLICT = "conflict"
    YEARLY_CAP = "yearly_cap"
    SAME_TENDERER = "same_tenderer"


# Specialty comes first so that the other counts speak only of experts who could have sat on this
# committee ("3 excluded for conflict" means 3 relevant experts, not every employee of a bidder).
RULE_ORDER: tuple[Rule, ...] = (
    Rule.SPECIALTY,
    Rule.STATUS,
    Rule.LEAVE,
    Rule.CONFLICT,
    Rule.YEARLY_CAP,
    Rule.SAME_TENDERER,
)


@dataclass(frozen=True)
class RegionRules:
    """Avoidance settings of one region; every default can be overridden per region.

    - `yearly_evaluation_cap` (30): an expert who already took part in this many evaluations in the
      calendar year of the evaluation date (up to and including that date) is not drawn again.
      Platform default, not a statutory number: regions set their own.
    - `same_tenderer_cap` (3): an expert who already evaluated this many tenders of the same
      tenderer in the twelve months ending on the evaluation date is not drawn, so nobody
      evaluates for one tenderer more than this many times a year.
    - `former_relation_years` (3): a declared relation that ended less than this many years before
      the evaluation date still excludes (政府采购法实施条例 第九条: employment in the previous three
      years).  0 means only current relations count.
    - `conflict_kinds` (all): which declared relation kinds exclude.
    """

    yearly_evaluation_cap: int = 30
    same_tenderer_cap: int = 3
    former_relation_years: int = 3
    conflict_kinds: frozenset[RelationKind] = frozenset(RelationKind)

    def __post_init__(self) -> None:
        for name in ("yearly_evaluation_cap", "same_tenderer_cap"):
            if getattr(self, name) < 1:
                raise ValueError(f"RegionRules.{name} must be at least 1")
        if self.former_relation_years < 0:
            raise ValueError("RegionRules.former_relation_years must not be negative")

    def to_json_obj(self) -> dict[str, object]:
        return {
            "conflict_kinds": sorted(k.value for k in self.conflict_kinds),
            "former_relation_years": self.former_relation_years,
            "same_tenderer_cap": self.same_tenderer_cap,
            "yearly_evaluation_cap": self.yearly_evaluation_cap,
        }


@dataclass(frozen=True)
class DateRange:
    """Inclusive on both ends."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"date range ends ({self.end}) before it starts ({self.start})")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Relation:
    """A declared relation to a party (bidder, tenderer or agency), by the party's registry id."""

    kind: RelationKind
    party_id: str
    ended_on: date | None = None  # None: ongoing


@dataclass(frozen=True)
class PastEvaluation:
    on: date
    tenderer_id: str


@dataclass(frozen=True)
class Expert:
    expert_id: str
    home_city: str
    specialties: frozenset[str]
    employer_id: str | None = None
    removed_on: date | None = None  # removed from the pool from this day on
    suspensions: tuple[DateRange, ...] = ()
    leaves: tuple[DateRange, ...] = ()
    relations: tuple[Relation, ...] = ()
    history: tuple[PastEvaluation, ...] = ()


@dataclass(frozen=True)
class TenderContext:
    """What the avoidance rules need to know about the tender being evaluated."""

    tender_id: str
    tenderer_id: str
    agency_id: str | None
    bidder_ids: frozenset[str]
    city: str  # the tenderer's city: experts from elsewhere count towards the 异地 quota
    evaluation_date: date
    required_specialties: frozenset[str]

    @property
    def parties(self) -> frozenset[str]:
        extra = {self.tenderer_id} | ({self.agency_id} if self.agency_id else set())
        return self.bidder_ids | extra


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _relation_counts(rel: Relation, ctx: TenderContext, rules: RegionRules) -> bool:
    if rel.kind not in rules.conflict_kinds or rel.party_id not in ctx.parties:
        return False
    return rel.ended_on is None or rel.ended_on > years_before(
        ctx.evaluation_date, rules.former_relation_years
    )


def exclusion_rule(expert: Expert, ctx: TenderContext, rules: RegionRules) -> Rule | None:
    """Reference implementation: the first rule of `RULE_ORDER` that excludes `expert`, or None."""
    day = ctx.evaluation_date
    if not (expert.specialties & ctx.required_specialties):
        return Rule.SPECIALTY
    removed = expert.removed_on is not None and expert.removed_on <= day
    if removed or any(s.covers(day) for s in expert.suspensions):
        return Rule.STATUS
    if any(leave.covers(day) for leave in expert.leaves):
        return Rule.LEAVE
    employed = expert.employer_id is not None and expert.employer_id in ctx.parties
    if employed and RelationKind.EMPLOYMENT in rules.conflict_kinds:
        return Rule.CONFLICT
    if any(_relation_counts(r, ctx, rules) for r in expert.relations):
        return Rule.CONFLICT
    this_year = sum(1 for h in expert.history if h.on.year == day.year and h.on <= day)
    if this_year >= rules.yearly_evaluation_cap:
        return Rule.YEARLY_CAP
    window_start = years_before(day, 1)
    same = sum(1 for h in expert.history if h.tenderer_id == ctx.tenderer_id and window_start < h.on <= day)
    if same >= rules.same_tenderer_cap:
        return Rule.SAME_TENDERER
    return None


def snapshot_fragment(expert_id: str, home_city: str, specialties: Iterable[str]) -> bytes:
    """RFC 8785 canonical JSON of one pool-snapshot record.

    `json.dumps` with sorted keys, no spaces and ``ensure_ascii=False`` yields exactly RFC 8785 for
    objects of ASCII keys, integers and well-formed strings; strings are checked for lone
    surrogates (not encodable in UTF-8) here, and the tests compare against `rfc8785.dumps`.
    """
    for s in (expert_id, home_city, *specialties):
        if not s:
            raise ValueError(f"empty identifier in the record of expert {expert_id!r}")
        s.encode("utf-8")  # raises on lone surrogates, which RFC 8785 rejects
    record = {"city": home_city, "expert_id": expert_id, "specialties": sorted(specialties)}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


_FAR_FUTURE = date.max.toordinal() + 1
_FAR_PAST = -1


@dataclass
class _Party:
    experts: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)


class PoolIndex:
    """The expert pool compiled for fast repeated eligibility checks (build once, draw many times).

    Experts are stored in `expert_id` order, so any mask over the index yields a sorted snapshot.
    Each expert's snapshot record is serialised once here (`fragments`), so a draw only joins bytes.
    """

    def __init__(self, experts: Sequence[Expert]) -> None:
        ordered = sorted(experts, key=lambda e: e.expert_id)
        self.size = len(ordered)
        self.expert_ids: list[str] = [e.expert_id for e in ordered]
        if len(set(self.expert_ids)) != self.size:
            raise ValueError("duplicate expert_id in the pool")
        self.cities: list[str] = [e.home_city for e in ordered]
        self.specialties: list[tuple[str, ...]] = [tuple(sorted(e.specialties)) for e in ordered]
        self.fragments: list[bytes] = [
            snapshot_fragment(e.expert_id, e.home_city, sp)
            for e, sp in zip(ordered, self.specialties, strict=True)
        ]
        self.city_code = {c: i for i, c in enumerate(sorted(set(self.cities)))}
        self.city_of: IntArray = np.array([self.city_code[c] for c in self.cities], dtype=np.int64)

        by_specialty: dict[str, list[int]] = {}
        for i, sp in enumerate(self.specialties):
            for s in sp:
                by_specialty.setdefault(s, []).append(i)
        self.by_specialty = {s: np.array(v, dtype=np.int64) for s, v in by_specialty.items()}

        self.removed_on: IntArray = np.array(
            [e.removed_on.toordinal() if e.removed_on else _FAR_FUTURE for e in ordered], dtype=np.int64
        )
        self.suspensions = self._ranges([(i, e.suspensions) for i, e in enumerate(ordered)])
        self.leaves = self._ranges([(i, e.leaves) for i, e in enumerate(ordered)])

        parties: dict[tuple[str, str], _Party] = {}
        for i, e in enumerate(ordered):
            if e.employer_id is not None:
                p = parties.setdefault((RelationKind.EMPLOYMENT.value, e.employer_id), _Party())
                p.experts.append(i)
                p.ended.append(_FAR_FUTURE)
            for r in e.relations:
                p = parties.setdefault((r.kind.value, r.party_id), _Party())
                p.experts.append(i)
                p.ended.append(r.ended_on.toordinal() if r.ended_on else _FAR_FUTURE)
        self.relations = {
            k: (np.array(p.experts, dtype=np.int64), np.array(p.ended, dtype=np.int64))
            for k, p in parties.items()
        }

        rows = sorted((h.on.toordinal(), i, h.tenderer_id) for i, e in enumerate(ordered) for h in e.history)
        tenderers = {t: n for n, t in enumerate(sorted({r[2] for r in rows}))}
        self.tenderer_code = tenderers
        self.hist_day: IntArray = np.array([r[0] for r in rows], dtype=np.int64)
        self.hist_expert: IntArray = np.array([r[1] for r in rows], dtype=np.int64)
        self.hist_tenderer: IntArray = np.array([tenderers[r[2]] for r in rows], dtype=np.int64)

    @staticmethod
    def _ranges(items: list[tuple[int, tuple[DateRange, ...]]]) -> tuple[IntArray, IntArray, IntArray]:
        flat = [(i, r.start.toordinal(), r.end.toordinal()) for i, rs in items for r in rs]
        cols = np.array(flat, dtype=np.int64).reshape(-1, 3)
        return cols[:, 0].copy(), cols[:, 1].copy(), cols[:, 2].copy()

    def _covering(self, ranges: tuple[IntArray, IntArray, IntArray], day: int) -> BoolArray:
        who, start, end = ranges
        out = np.zeros(self.size, dtype=np.bool_)
        out[who[(start <= day) & (day <= end)]] = True
        return out

    def _history_counts(self, lo: int, hi: int, tenderer: int | None) -> IntArray:
        """Evaluations per expert with lo <= day <= hi (optionally of one tenderer)."""
        a, b = np.searchsorted(self.hist_day, [lo, hi + 1])
        who = self.hist_expert[a:b]
        if tenderer is not None:
            who = who[self.hist_tenderer[a:b] == tenderer]
        return np.bincount(who, minlength=self.size)

    def exclusion_masks(self, ctx: TenderContext, rules: RegionRules) -> dict[Rule, BoolArray]:
        """For each rule, the experts it would exclude on its own (before the first-rule attribution)."""
        day = ctx.evaluation_date.toordinal()
        has_specialty = np.zeros(self.size, dtype=np.bool_)
        for s in ctx.required_specialties:
            if s in self.by_specialty:
                has_specialty[self.by_specialty[s]] = True

        conflict = np.zeros(self.size, dtype=np.bool_)
        cutoff = years_before(ctx.evaluation_date, rules.former_relation_years).toordinal()
        for party in ctx.parties:
            for kind in rules.conflict_kinds:
                found = self.relations.get((kind.value, party))
                if found is not None:
                    who, ended = found
                    conflict[who[ended > cutoff]] = True

        year_start = date(ctx.evaluation_date.year, 1, 1).toordinal()
        window_start = years_before(ctx.evaluation_date, 1).toordinal() + 1
        code = self.tenderer_code.get(ctx.tenderer_id)
        same = (
            self._history_counts(window_start, day, code) >= rules.same_tenderer_cap
            if code is not None
            else np.zeros(self.size, dtype=np.bool_)
        )
        return {
            Rule.SPECIALTY: ~has_specialty,
            Rule.STATUS: (self.removed_on <= day) | self._covering(self.suspensions, day),
            Rule.LEAVE: self._covering(self.leaves, day),
            Rule.CONFLICT: conflict,
            Rule.YEARLY_CAP: self._history_counts(year_start, day, None) >= rules.yearly_evaluation_cap,
            Rule.SAME_TENDERER: same,
        }

    def type_columns(
        self, codes: Sequence[str], tender_city: str, positions: IntArray
    ) -> tuple[list[int], list[bool]]:
        """For rows `positions`: bit mask of the `codes` held (bit k = codes[k]) and remote flag."""
        mask = np.zeros(self.size, dtype=np.int64)
        for k, code in enumerate(codes):
            if code in self.by_specialty:
                mask[self.by_specialty[code]] |= 1 << k
        city = self.city_code.get(tender_city, -1)
        return mask[positions].tolist(), (self.city_of[positions] != city).tolist()

    def eligible_indices(self, ctx: TenderContext, rules: RegionRules) -> tuple[IntArray, dict[str, int]]:
        """Ascending indices of eligible experts, and exclusion counts by first excluding rule."""
        masks = self.exclusion_masks(ctx, rules)
        remaining = np.ones(self.size, dtype=np.bool_)
        counts: dict[str, int] = {}
        for rule in RULE_ORDER:
            hit = remaining & masks[rule]
            counts[rule.value] = int(hit.sum())
            remaining &= ~hit
        return np.flatnonzero(remaining).astype(np.int64), counts


def eligible(
    pool: Sequence[Expert] | PoolIndex, tender_context: TenderContext, rules: RegionRules
) -> tuple[tuple[str, ...], dict[str, int]]:
    """Eligible expert ids (sorted) and how many experts each rule excluded (first rule wins).

    The counts always list every rule of `RULE_ORDER`, zeros included, in that order.
    """
    if isinstance(pool, PoolIndex):
        idx, counts = pool.eligible_indices(tender_context, rules)
        return tuple(pool.expert_ids[i] for i in idx.tolist()), counts
    counts = {rule.value: 0 for rule in RULE_ORDER}
    keep: list[str] = []
    for expert in pool:
        rule = exclusion_rule(expert, tender_context, rules)
        if rule is None:
            keep.append(expert.expert_id)
        else:
            counts[rule.value] += 1
    return tuple(sorted(keep)), counts


def count_summary(counts: Mapping[str, int]) -> str:
    """Human-readable exclusion summary for the draw report, in rule order."""
    return ", ".join(f"{rule.value}: {counts.get(rule.value, 0)}" for rule in RULE_ORDER)
