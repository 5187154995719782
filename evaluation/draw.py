"""Verifiable expert draw (专家抽取): commit, reveal, select, replay.

Protocol
--------
1. Before the draw the platform publishes a `Commitment`: SHA-256 of the eligible pool snapshot
   (RFC 8785 canonical JSON of the records sorted by expert id), SHA-256 of the draw parameters
   (canonical JSON), SHA-256 of its own fresh 32-byte secret, and the exclusion counts.  The lead
   anchors `Commitment.digest()` in the ledger.
2. At draw time the supervisor supplies its own random value (16 to 1024 bytes).
3. ``seed = SHA-256(SEED_TAG || platform secret || supervisor value || pool hash || params hash)``
   (hashes as raw 32-byte digests; every part but the supervisor value has a fixed length, so the
   concatenation is unambiguous).  Neither party alone can steer the seed: the platform is bound
   to its secret before it sees the supervisor value, and the supervisor cannot see the secret.
4. Selection and reserves follow from the seed alone (see `HashRng` and `select`).  The
   `DrawRecord` holds everything needed to replay; `evaluation.draw_verify` recomputes every step.

PRNG
----
`evaluation.hashrng.HashRng` (HMAC-SHA256 in counter mode, rejection sampling).

Selection
---------
A lazy Fisher-Yates shuffle of the snapshot positions (step i swaps position i with
i + below(n - i)) gives a uniform random order.  Experts are taken in that order; one is accepted
into the first seat of its specialties (requested codes in sorted order) such that the remaining
seats and the remaining 异地 quota can still be filled from the experts not yet seen (a max-flow
check over expert *types*: requested-specialty set x remote flag).  Accepting whenever some valid
completion exists never dead-ends, and when no quota binds this is exactly "the first experts of a
uniform shuffle".  Reserves are the first `reserves` experts of the same order not on the
committee; replacements walk that order too, so they are replayable without new randomness.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# The inputs the commitment binds live in `evaluation.draw_params`; they are part of this
# module's surface too, so that callers of the draw import one module.
from evaluation.draw_params import CommitteeRequest as CommitteeRequest
from evaluation.draw_params import DrawError as DrawError
from evaluation.draw_params import DrawParams as DrawParams
from evaluation.draw_params import PoolSnapshot as PoolSnapshot
from evaluation.draw_params import QuotaError as QuotaError
from evaluation.draw_params import Shortfall as Shortfall
from evaluation.draw_params import eligible_snapshot as eligible_snapshot
from evaluation.draw_params import params_for as params_for
from evaluation.hashrng import HashRng, canonical_json, lazy_permutation, sha256_hex
from evaluation.maxflow import max_flow

SEED_TAG = b"tenderhall/expert-draw/seed/v1\x00"
PERMUTATION_LABEL = b"tenderhall/expert-draw/permutation/v1"
COMMITMENT_FORMAT = "tenderhall.draw-commitment.v1"
RECORD_FORMAT = "tenderhall.draw-record.v1"
SECRET_BYTES = 32
SUPERVISOR_MIN_BYTES, SUPERVISOR_MAX_BYTES = 16, 1024


# -- commitment ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commitment:
    pool_hash: str
    params_hash: str
    secret_hash: str
    pool_size: int
    exclusion_counts: Mapping[str, int]

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "exclusion_counts": dict(self.exclusion_counts),
            "format": COMMITMENT_FORMAT,
            "params_hash": self.params_hash,
            "pool_hash": self.pool_hash,
            "pool_size": self.pool_size,
            "secret_hash": self.secret_hash,
        }

    @classmethod
    def from_json_obj(cls, obj: Mapping[str, Any]) -> Commitment:
        if obj.get("format") != COMMITMENT_FORMAT:
            raise DrawError(f"unknown commitment format {obj.get('format')!r}")
        return cls(
            pool_hash=obj["pool_hash"],
            params_hash=obj["params_hash"],
            secret_hash=obj["secret_hash"],
            pool_size=obj["pool_size"],
            exclusion_counts=dict(obj["exclusion_counts"]),
        )

    def digest(self) -> str:
        """What the ledger anchors before the draw."""
        return sha256_hex(canonical_json(self.to_json_obj()))


@dataclass(frozen=True)
class PreparedDraw:
    """Committed but not drawn: publish `commitment`, keep `platform_secret` private until the draw."""

    commitment: Commitment
    pool: PoolSnapshot
    params: DrawParams
    platform_secret: bytes = field(repr=False)


def prepare_draw(
    pool: PoolSnapshot, params: DrawParams, exclusion_counts: Mapping[str, int], platform_secret: bytes
) -> PreparedDraw:
    """Commit to pool, parameters and secret; fails early if the quotas cannot be met."""
    if len(platform_secret) != SECRET_BYTES:
        raise DrawError(f"platform secret must be {SECRET_BYTES} bytes, got {len(platform_secret)}")
    _Quotas(pool, params).check_feasible()
    commitment = Commitment(
        pool_hash=pool.digest(),
        params_hash=params.digest(),
        secret_hash=sha256_hex(platform_secret),
        pool_size=len(pool),
        exclusion_counts=dict(exclusion_counts),
    )
    return PreparedDraw(commitment, pool, params, platform_secret)


def derive_seed(platform_secret: bytes, supervisor_value: bytes, pool_hash: str, params_hash: str) -> bytes:
    if len(platform_secret) != SECRET_BYTES:
        raise DrawError(f"platform secret must be {SECRET_BYTES} bytes, got {len(platform_secret)}")
    if not SUPERVISOR_MIN_BYTES <= len(supervisor_value) <= SUPERVISOR_MAX_BYTES:
        raise DrawError(
            f"supervisor value must be {SUPERVISOR_MIN_BYTES}..{SUPERVISOR_MAX_BYTES} bytes, "
            f"got {len(supervisor_value)}"
        )
    material = (
        SEED_TAG + platform_secret + supervisor_value + bytes.fromhex(pool_hash) + bytes.fromhex(params_hash)
    )
    return hashlib.sha256(material).digest()


# -- selection -------------------------------------------------------------------------------------

TypeKey = tuple[int, bool]  # (bit mask over the requested codes in sorted order, remote?)


@dataclass(frozen=True)
class Seat:
    expert_id: str
    specialty: str


class _Quotas:
    """Seat and 异地 quotas over expert types, with the feasibility test used by the selection."""

    def __init__(self, pool: PoolSnapshot, params: DrawParams) -> None:
        self.pool = pool
        self.params = params
        self.codes = params.codes
        self.min_remote = params.request.min_remote
        self.masks, self.remote = pool.type_columns(self.codes, params.tender_city)
        self.counts: Counter[TypeKey] = Counter(zip(self.masks, self.remote, strict=True))

    def type_at(self, pos: int) -> TypeKey:
        return self.masks[pos], self.remote[pos]

    def initial_need(self) -> list[int]:
        return [self.params.request.seats[c] for c in self.codes]

    def _graph(
        self, need: Sequence[int], avail: Mapping[TypeKey, int], local_cap: int
    ) -> dict[int, dict[int, int]]:
        k = len(self.codes)
        types = sorted(t for t, n in avail.items() if n > 0 and t[0])
        source, sink, local = 0, k + len(types) + 1, k + len(types) + 2
        cap: dict[int, dict[int, int]] = {v: {} for v in range(local + 1)}
        for s in range(k):
            cap[source][1 + s] = need[s]
        for ti, (mask, remote) in enumerate(types):
            node = 1 + k + ti
            for s in range(k):
                if mask >> s & 1:
                    cap[1 + s][node] = 1 << 30
            cap[node][sink if remote else local] = avail[(mask, remote)]
        cap[local][sink] = local_cap
        return cap

    def feasible(self, need: Sequence[int], remote_needed: int, avail: Mapping[TypeKey, int]) -> bool:
        total = sum(need)
        if total == 0:
            return remote_needed <= 0
        if remote_needed > total:
            return False
        cap = self._graph(need, avail, total - max(remote_needed, 0))
        return max_flow(cap, 0, len(cap) - 2, total)[0] == total

    def check_feasible(self) -> None:
        """Raise `QuotaError` naming each quota that the whole eligible pool cannot meet."""
        need, avail = self.initial_need(), dict(self.counts)
        total = sum(need)
        cap = self._graph(need, avail, total)
        flow, reached = max_flow(cap, 0, len(cap) - 2, total)
        shortfalls: list[Shortfall] = []
        if flow < total:
            # Hall violator from the minimum cut: these seats need more experts than hold their codes.
            deficient = [s for s in range(len(self.codes)) if 1 + s in reached]
            mask = sum(1 << s for s in deficient)
            holders = sum(n for t, n in avail.items() if t[0] & mask)
            name = "+".join(self.codes[s] for s in deficient)
            shortfalls.append(Shortfall(f"specialty:{name}", sum(need[s] for s in deficient), holders))
        elif not self.feasible(need, self.min_remote, avail):
            best = max(r for r in range(self.min_remote) if self.feasible(need, r, avail))
            shortfalls.append(Shortfall("remote", self.min_remote, best))
        if shortfalls:
            remote_total = sum(n for t, n in avail.items() if t[1] and t[0])
            raise QuotaError(
                shortfalls,
                "the eligible pool cannot meet the quotas: "
                + "; ".join(str(s) for s in shortfalls)
                + f" (eligible experts: {len(self.pool)}, of them {remote_total} from outside "
                f"{self.params.tender_city})",
            )


@dataclass(frozen=True)
class Selection:
    committee: tuple[Seat, ...]
    reserves: tuple[str, ...]


def _candidates(pool: PoolSnapshot, seed: bytes) -> Iterator[int]:
    return lazy_permutation(len(pool), HashRng(seed, PERMUTATION_LABEL))


def select(pool: PoolSnapshot, params: DrawParams, seed: bytes) -> Selection:
    """The committee and the ordered reserve list that follow from `seed` (module docstring)."""
    quotas = _Quotas(pool, params)
    quotas.check_feasible()
    codes = quotas.codes
    need = quotas.initial_need()
    avail = Counter(quotas.counts)
    remote_needed = quotas.min_remote
    committee: list[Seat] = []
    reserves: list[str] = []
    wanted_reserves = params.request.reserves
    for pos in _candidates(pool, seed):
        mask, remote = quotas.type_at(pos)
        avail[(mask, remote)] -= 1
        if not mask:
            continue
        seated = False
        if sum(need) and not (remote_needed >= sum(need) and not remote):
            for s in range(len(codes)):
                if mask >> s & 1 and need[s]:
                    need[s] -= 1
                    if quotas.feasible(need, remote_needed - remote, avail):
                        committee.append(Seat(pool.expert_ids[pos], codes[s]))
                        remote_needed -= remote
                        seated = True
                        break
                    need[s] += 1
        if not seated:
            reserves.append(pool.expert_ids[pos])
        if not sum(need) and len(reserves) >= wanted_reserves:
            break
    return Selection(tuple(committee), tuple(reserves[:wanted_reserves]))


def check_quotas(pool: PoolSnapshot, params: DrawParams, committee: Sequence[Seat]) -> list[str]:
    """Independent check of a committee against the quotas; returns the violations found."""
    problems = []
    where = {e: k for k, e in enumerate(pool.expert_ids)}
    ids = [s.expert_id for s in committee]
    if len(set(ids)) != len(ids):
        problems.append("an expert holds more than one seat")
    counts = Counter(s.specialty for s in committee)
    for code, n in sorted(params.request.seats.items()):
        if counts.get(code, 0) != n:
            problems.append(f"specialty {code}: {counts.get(code, 0)} seats filled, {n} requested")
    remote = 0
    for seat in committee:
        k = where.get(seat.expert_id)
        if k is None:
            problems.append(f"expert {seat.expert_id} is not in the eligible pool")
            continue
        if seat.specialty not in pool.specialties[k]:
            problems.append(f"expert {seat.expert_id} does not hold specialty {seat.specialty}")
        remote += pool.cities[k] != params.tender_city
    if remote < params.request.min_remote:
        problems.append(f"remote quota: {remote} experts from outside, {params.request.min_remote} required")
    return problems


# -- record ----------------------------------------------------------------------------------------

ReplacementReason = Literal["declined", "no_show", "conflict_declared"]


@dataclass(frozen=True)
class Replacement:
    departed_id: str
    reason: ReplacementReason
    replacement_id: str
    specialty: str


@dataclass(frozen=True)
class DrawRecord:
    params: DrawParams
    pool: PoolSnapshot
    commitment: Commitment
    platform_secret: bytes
    supervisor_value: bytes
    seed: bytes
    committee: tuple[Seat, ...]
    reserves: tuple[str, ...]
    replacements: tuple[Replacement, ...] = ()

    @property
    def exclusion_counts(self) -> Mapping[str, int]:
        return self.commitment.exclusion_counts

    def with_replacement(self, replacement: Replacement) -> DrawRecord:
        return dataclasses.replace(self, replacements=(*self.replacements, replacement))

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "commitment": self.commitment.to_json_obj(),
            "committee": [{"expert_id": s.expert_id, "specialty": s.specialty} for s in self.committee],
            "format": RECORD_FORMAT,
            "params": self.params.to_json_obj(),
            "platform_secret": self.platform_secret.hex(),
            "pool": self.pool.to_json_obj(),
            "replacements": [
                {
                    "departed_id": r.departed_id,
                    "reason": r.reason,
                    "replacement_id": r.replacement_id,
                    "specialty": r.specialty,
                }
                for r in self.replacements
            ],
            "reserves": list(self.reserves),
            "seed": self.seed.hex(),
            "supervisor_value": self.supervisor_value.hex(),
        }

    def to_json(self) -> bytes:
        return canonical_json(self.to_json_obj())

    @classmethod
    def from_json_obj(cls, obj: Mapping[str, Any]) -> DrawRecord:
        if obj.get("format") != RECORD_FORMAT:
            raise DrawError(f"unknown draw record format {obj.get('format')!r}")
        return cls(
            params=DrawParams.from_json_obj(obj["params"]),
            pool=PoolSnapshot.from_json_obj(obj["pool"]),
            commitment=Commitment.from_json_obj(obj["commitment"]),
            platform_secret=bytes.fromhex(obj["platform_secret"]),
            supervisor_value=bytes.fromhex(obj["supervisor_value"]),
            seed=bytes.fromhex(obj["seed"]),
            committee=tuple(Seat(s["expert_id"], s["specialty"]) for s in obj["committee"]),
            reserves=tuple(obj["reserves"]),
            replacements=tuple(
                Replacement(r["departed_id"], r["reason"], r["replacement_id"], r["specialty"])
                for r in obj["replacements"]
            ),
        )

    @classmethod
    def from_json(cls, data: bytes) -> DrawRecord:
        return cls.from_json_obj(json.loads(data))


def run_draw(prepared: PreparedDraw, supervisor_value: bytes) -> DrawRecord:
    """Reveal-time step: mix in the supervisor's value and select."""
    c = prepared.commitment
    seed = derive_seed(prepared.platform_secret, supervisor_value, c.pool_hash, c.params_hash)
    chosen = select(prepared.pool, prepared.params, seed)
    return DrawRecord(
        params=prepared.params,
        pool=prepared.pool,
        commitment=c,
        platform_secret=prepared.platform_secret,
        supervisor_value=supervisor_value,
        seed=seed,
        committee=chosen.committee,
        reserves=chosen.reserves,
    )


# -- replacements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitteeState:
    """Current seats (original order, replacements in place) and who has left the committee."""

    members: tuple[Seat, ...]
    departed: tuple[str, ...] = ()

    @classmethod
    def initial(cls, record: DrawRecord) -> CommitteeState:
        return cls(members=record.committee)

    def apply(self, rep: Replacement) -> CommitteeState:
        members = tuple(
            Seat(rep.replacement_id, s.specialty) if s.expert_id == rep.departed_id else s
            for s in self.members
        )
        return CommitteeState(members, (*self.departed, rep.departed_id))


def replace(
    record: DrawRecord, declined_expert_id: str, state: CommitteeState, reason: ReplacementReason = "declined"
) -> Replacement:
    """The next expert, in the draw's own order, who can take the vacated seat.

    Candidates are the reserves in order, then the rest of the seeded order; the first one not
    already used or departed who holds the seat's specialty and keeps the 异地 quota wins.
    """
    seat = next((s for s in state.members if s.expert_id == declined_expert_id), None)
    if seat is None:
        raise DrawError(f"expert {declined_expert_id} holds no seat on the committee")
    pool, params = record.pool, record.params
    where = {e: k for k, e in enumerate(pool.expert_ids)}
    tender_city = params.tender_city
    remote_now = sum(pool.cities[where[s.expert_id]] != tender_city for s in state.members)
    leaving_remote = pool.cities[where[declined_expert_id]] != tender_city
    must_be_remote = remote_now - leaving_remote < params.request.min_remote
    excluded = (
        {s.expert_id for s in record.committee} | {s.expert_id for s in state.members} | set(state.departed)
    )
    for pos in _candidates(pool, record.seed):
        eid = pool.expert_ids[pos]
        if eid in excluded or seat.specialty not in pool.specialties[pos]:
            continue
        if must_be_remote and pool.cities[pos] == tender_city:
            continue
        return Replacement(declined_expert_id, reason, eid, seat.specialty)
    raise QuotaError(
        [Shortfall(f"specialty:{seat.specialty}" + ("+remote" if must_be_remote else ""), 1, 0)],
        f"no eligible expert left to replace {declined_expert_id} in a {seat.specialty} seat"
        + (f" from outside {tender_city}" if must_be_remote else ""),
    )
