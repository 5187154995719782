"""Replay of a published expert draw record: every hash, the seed, the selection, the reserves and
each replacement are recomputed (`tenderhall draw verify` and the API use this)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from evaluation.draw import (
    CommitteeState,
    DrawError,
    DrawRecord,
    check_quotas,
    derive_seed,
    replace,
    select,
)
from evaluation.hashrng import sha256_hex

ProblemKind = Literal[
    "format", "commitment", "pool", "params", "secret", "seed", "result", "reserves", "replacement"
]


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class VerifyResult:
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(p.kind for p in self.problems)


def _differences(label: str, expected: Sequence[object], found: Sequence[object]) -> str:
    for k, (a, b) in enumerate(zip(expected, found, strict=False)):
        if a != b:
            return f"{label} differs at position {k}: replay gives {a}, record has {b}"
    return f"{label} length differs: replay gives {len(expected)}, record has {len(found)}"


def verify_draw(record: DrawRecord | bytes, *, anchored_commitment_digest: str | None = None) -> VerifyResult:
    """Recompute every hash, the seed, the selection and the replacements of a draw record.

    Pass the commitment digest anchored in the ledger before the draw: without it, a forger who
    rewrote pool, parameters *and* commitment consistently would go unnoticed.
    """
    problems: list[Problem] = []
    if isinstance(record, bytes | bytearray):
        try:
            record = DrawRecord.from_json(bytes(record))
        except (DrawError, ValueError, KeyError, TypeError) as exc:
            return VerifyResult((Problem("format", f"record cannot be read: {exc}"),))
    record = dataclasses.replace(record, pool=record.pool.plain())
    c = record.commitment
    if anchored_commitment_digest is not None and c.digest() != anchored_commitment_digest:
        problems.append(Problem("commitment", "commitment differs from the one anchored before the draw"))
    try:
        pool_hash = record.pool.digest(use_cache=False)
    except (DrawError, ValueError) as exc:
        pool_hash = ""
        problems.append(Problem("pool", f"pool snapshot is malformed: {exc}"))
    if pool_hash and pool_hash != c.pool_hash:
        problems.append(
            Problem("pool", f"pool snapshot hash {pool_hash} does not match commitment {c.pool_hash}")
        )
    if len(record.pool) != c.pool_size:
        problems.append(
            Problem("pool", f"pool has {len(record.pool)} experts, commitment says {c.pool_size}")
        )
    params_hash = record.params.digest()
    if params_hash != c.params_hash:
        problems.append(
            Problem("params", f"parameters hash {params_hash} does not match commitment {c.params_hash}")
        )
    secret_hash = sha256_hex(record.platform_secret)
    if secret_hash != c.secret_hash:
        problems.append(Problem("secret", "revealed platform secret does not match its commitment"))
    try:
        seed = derive_seed(record.platform_secret, record.supervisor_value, c.pool_hash, c.params_hash)
    except DrawError as exc:
        return VerifyResult((*problems, Problem("seed", str(exc))))
    if seed != record.seed:
        problems.append(
            Problem("seed", "recorded seed does not follow from the revealed values and commitment")
        )
    try:
        replay = select(record.pool, record.params, seed)
    except DrawError as exc:
        return VerifyResult((*problems, Problem("result", f"replay fails: {exc}")))
    if replay.committee != record.committee:
        problems.append(Problem("result", _differences("committee", replay.committee, record.committee)))
    for issue in check_quotas(record.pool, record.params, record.committee):
        problems.append(Problem("result", f"recorded committee breaks a quota: {issue}"))
    if replay.reserves != record.reserves:
        problems.append(Problem("reserves", _differences("reserve list", replay.reserves, record.reserves)))
    problems.extend(_verify_replacements(record))
    return VerifyResult(tuple(problems))


def _verify_replacements(record: DrawRecord) -> list[Problem]:
    state = CommitteeState.initial(record)
    for k, logged in enumerate(record.replacements):
        try:
            expected = replace(record, logged.departed_id, state, logged.reason)
        except (DrawError, KeyError) as exc:  # KeyError: a member missing from a tampered pool
            return [Problem("replacement", f"replacement {k} cannot be replayed: {exc}")]
        if expected != logged:
            return [Problem("replacement", f"replacement {k}: replay gives {expected}, record has {logged}")]
        state = state.apply(logged)
    return []
