"""Witnessing between deployments (C2SP tlog-witness), around the pure protocol in ``tlog_witness``.

``Witness`` is the witness role: it cosigns other deployments' checkpoints and keeps, per origin,
the latest one it cosigned. ``Cosigning`` is the log side: it asks the configured witnesses to
cosign this ledger's newest stored checkpoint and keeps their cosignatures. A witness that is down
or slow costs at most one timeout and is retried later with back-off; nothing waits for it inside
a transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

import httpx
from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenderhall.clock import Clock
from tenderhall.ledger import tlog_witness
from tenderhall.ledger.checkpoint import Checkpoint
from tenderhall.ledger.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    add_cosignatures,
    open_cosigned_checkpoint,
)
from tenderhall.ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerWitnessState, WitnessedLog
from tenderhall.ledger.note import NoteError, NoteSignature, Verifier, parse_note
from tenderhall.ledger.service import Ledger, LedgerError

log = logging.getLogger("tenderhall.witness")
_WITNESSED = cast(Table, WitnessedLog.__table__)
MAX_BACKOFF = timedelta(minutes=10)
BASE_BACKOFF = timedelta(seconds=5)


class Witness:
    """The witness role for the logs in ``logs`` (log verifier keys grouped by origin)."""

    def __init__(
        self, signer: CosignatureSigner, logs: Mapping[str, Sequence[Verifier]], clock: Clock
    ) -> None:
        self.signer = signer
        self.verifier = signer.verifier()
        self.logs = dict(logs)
        self.clock = clock

    async def add_checkpoint(self, session: AsyncSession, body: bytes) -> str:
        """Check a submission and cosign it; returns the cosignature line. Raises ``Refusal``.

        The old size is compared and the new state written in one conditional statement, so two
        concurrent submissions can never roll the recorded tree back (the race the spec warns of).
        """
        request = tlog_witness.parse_add_checkpoint(body)
        checkpoint = tlog_witness.open_submission(request, self.logs)
        row = (
            await session.execute(
                select(WitnessedLog.size, WitnessedLog.root).where(WitnessedLog.origin == checkpoint.origin)
            )
        ).one_or_none()
        latest = (int(row.size), bytes(row.root)) if row is not None else None
        try:
            tlog_witness.check_consistency(request, checkpoint, latest)
        except tlog_witness.Refusal as refusal:
            if refusal.status == 422:
                # Evidence of a split view or a rewritten log: worth an operator's attention.
                log.warning("refused %s at size %d: %s", checkpoint.origin, checkpoint.size, refusal.detail)
            raise
        line = self.signer.cosign(checkpoint.to_text(), int(self.clock.now().timestamp()))
        note = self._served_note(request.note, checkpoint, line)
        values = {"size": checkpoint.size, "root": checkpoint.root, "note": note}
        if latest is None:
            try:
                async with session.begin_nested():
                    await session.execute(insert(_WITNESSED).values(origin=checkpoint.origin, **values))
            except IntegrityError:
                raise await self._conflict(session, checkpoint.origin) from None
        else:
            result = await session.execute(
                update(_WITNESSED)
                .where(
                    _WITNESSED.c.origin == checkpoint.origin,
                    _WITNESSED.c.size == latest[0],
                    _WITNESSED.c.root == latest[1],
                )
                .values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise await self._conflict(session, checkpoint.origin)
        return line.line()

    def _served_note(self, note: str, checkpoint: Checkpoint, line: NoteSignature) -> str:
        """What monitors get: the checkpoint with the log signatures this witness verified and its
        own cosignature (other witnesses' lines are not this witness's to vouch for)."""
        _, signatures = parse_note(note)
        trusted = {(v.name, v.key_id) for v in self.logs[checkpoint.origin]}
        kept = [s for s in signatures if (s.name, s.key_id) in trusted]
        text = checkpoint.to_text()
        return add_cosignatures(text + "\n" + "".join(s.line() for s in kept), [line])

    @staticmethod
    async def _conflict(session: AsyncSession, origin: str) -> tlog_witness.Refusal:
        size = (
            await session.execute(select(WitnessedLog.size).where(WitnessedLog.origin == origin))
        ).scalar_one_or_none()
        return tlog_witness.Refusal(
            409, "witness.old_size_mismatch", "another checkpoint was cosigned meanwhile", int(size or 0)
        )

    async def latest(self, session: AsyncSession, origin_hash: str) -> str | None:
        """The latest cosigned checkpoint of the log whose origin hashes to ``origin_hash``."""
        for origin in self.logs:
            if tlog_witness.origin_hash(origin) == origin_hash:
                return (
                    await session.execute(select(WitnessedLog.note).where(WitnessedLog.origin == origin))
                ).scalar_one_or_none()
        return None


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness this log asks: its submission URL prefix and its cosignature verifier key."""

    url: str
    verifier: CosignatureVerifier

    @property
    def key(self) -> str:
        return self.verifier.key_string()


class Cosigning:
    """The log side of witnessing for this deployment's ledger."""

    def __init__(
        self,
        ledger: Ledger,
        witnesses: Iterable[WitnessEndpoint],
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        timeout: float,
    ) -> None:
        self.ledger = ledger
        self.witnesses = list(witnesses)
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.timeout = timeout

    @property
    def verifiers(self) -> list[CosignatureVerifier]:
        return [w.verifier for w in self.witnesses]

    async def cosign(self, *, at_least: int = 0, respect_backoff: bool = True) -> None:
        """Ask every configured witness (concurrently, each within the timeout) to cosign the newest
        stored checkpoint, if it is at least ``at_least`` entries; failures are recorded."""
        if not self.witnesses:
            return
        async with self.sessionmaker() as db:
            newest = (
                await db.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1))
            ).scalar_one_or_none()
            if newest is None or newest.size < at_least or newest.size == 0:
                return
            note, size = newest.note, newest.size
            states = {s.witness: s for s in (await db.execute(select(LedgerWitnessState))).scalars()}
            done = set(
                (
                    await db.execute(select(LedgerCosignature.witness).where(LedgerCosignature.size == size))
                ).scalars()
            )
        now = self.clock.now()
        due = [
            w
            for w in self.witnesses
            if w.key not in done
            and not (respect_backoff and (st := states.get(w.key)) and st.retry_at and st.retry_at > now)
        ]
        if not due:
            return
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            await asyncio.gather(
                *(self._ask(http, w, note, size, states[w.key].size if w.key in states else 0) for w in due)
            )

    async def _ask(
        self, http: httpx.AsyncClient, witness: WitnessEndpoint, note: str, size: int, old: int
    ) -> None:
        text, _ = parse_note(note)
        try:
            for _ in range(2):  # a 409 tells the witness's size: resubmit once from there
                if old > size:
                    raise _Failure(
                        f"the witness has cosigned size {old}, more than this log's newest checkpoint "
                        f"({size}): the log lost entries or was forked"
                    )
                async with self.sessionmaker() as db:
                    proof = await self.ledger.consistency_proof(db, old, size) if old else []
                body = tlog_witness.encode_add_checkpoint(old, proof, note)
                try:
                    answer = await http.post(f"{witness.url}/add-checkpoint", content=body)
                except httpx.HTTPError as exc:
                    raise _Failure(f"cannot reach the witness: {type(exc).__name__} {exc}") from None
                if answer.status_code == 409:
                    try:
                        old = tlog_witness.parse_size(answer.content)
                    except ValueError as exc:
                        raise _Failure(str(exc)) from None
                    await self._record(witness, size=old)
                    continue
                if answer.status_code != 200:
                    raise _Failure(f"the witness refused with {answer.status_code}: {_detail(answer)}")
                try:
                    lines = tlog_witness.parse_cosignature_lines(answer.content, text, witness.verifier)
                except NoteError as exc:
                    raise _Failure(f"the witness's answer does not verify: {exc}") from None
                await self._store(witness, size, lines[-1])
                return
            raise _Failure("the witness's size kept changing")
        except (_Failure, LedgerError) as exc:
            log.warning("witness %s did not cosign size %d: %s", witness.verifier.name, size, exc)
            await self._record(witness, error=str(exc))

    async def _state(self, db: AsyncSession, witness: WitnessEndpoint) -> LedgerWitnessState:
        state = (
            await db.execute(
                select(LedgerWitnessState).where(LedgerWitnessState.witness == witness.key).with_for_update()
            )
        ).scalar_one_or_none()
        if state is None:
            state = LedgerWitnessState(witness=witness.key, size=0, failures=0)
            db.add(state)
        return state

    async def _record(
        self, witness: WitnessEndpoint, *, size: int | None = None, error: str | None = None
    ) -> None:
        try:
            async with self.sessionmaker() as db, db.begin():
                state = await self._state(db, witness)
                if size is not None:
                    state.size = size
                if error is not None:
                    state.failures = (state.failures or 0) + 1
                    state.last_error = error[:2000]
                    backoff = min(BASE_BACKOFF * 2 ** min(state.failures - 1, 16), MAX_BACKOFF)
                    state.retry_at = self.clock.now() + backoff
        except IntegrityError:  # another worker made the row first; its record will do
            pass

    async def _store(self, witness: WitnessEndpoint, size: int, line: NoteSignature) -> None:
        timestamp = int.from_bytes(line.signature[:8], "big")
        try:
            async with self.sessionmaker() as db, db.begin():
                state = await self._state(db, witness)
                state.size = max(state.size or 0, size)
                state.failures = 0
                state.retry_at = None
                state.last_error = None
                state.cosigned_at = self.clock.now()
                exists = (
                    await db.execute(
                        select(LedgerCosignature.id).where(
                            LedgerCosignature.size == size, LedgerCosignature.witness == witness.key
                        )
                    )
                ).first()
                if exists is None:
                    db.add(
                        LedgerCosignature(
                            size=size, witness=witness.key, line=line.line(), timestamp=timestamp
                        )
                    )
        except IntegrityError:  # another worker stored this witness's cosignature of this size
            pass

    async def cosigned_note(self, session: AsyncSession, size: int) -> str | None:
        """The checkpoint of ``size`` with every stored cosignature, or None if none was given."""
        note = (
            await session.execute(select(LedgerCheckpoint.note).where(LedgerCheckpoint.size == size).limit(1))
        ).scalar_one_or_none()
        if note is None:
            return None
        lines = list(
            (
                await session.execute(
                    select(LedgerCosignature.line)
                    .where(LedgerCosignature.size == size)
                    .order_by(LedgerCosignature.witness)
                )
            ).scalars()
        )
        if not lines:
            return None
        return _append_lines(note, lines)

    async def newest_cosigned(self, session: AsyncSession) -> str | None:
        size = (
            await session.execute(
                select(LedgerCosignature.size).order_by(LedgerCosignature.size.desc()).limit(1)
            )
        ).scalar_one_or_none()
        return None if size is None else await self.cosigned_note(session, int(size))

    async def all_cosigned(self, session: AsyncSession) -> list[str]:
        """Every stored cosigned checkpoint (one note per size), oldest first."""
        sizes = (
            await session.execute(select(LedgerCosignature.size).distinct().order_by(LedgerCosignature.size))
        ).scalars()
        notes = [await self.cosigned_note(session, int(s)) for s in sizes]
        return [n for n in notes if n is not None]

    async def states(self, session: AsyncSession) -> list[LedgerWitnessState]:
        return list(
            (await session.execute(select(LedgerWitnessState).order_by(LedgerWitnessState.witness))).scalars()
        )

    async def evidence(self, session: AsyncSession, *, online: bool = True) -> WitnessEvidence:
        """What the witnesses vouch for, for ``verify_log``: every cosigned checkpoint stored here
        and, ``online``, each witness's own latest checkpoint of this log. The latter lives outside
        this database, so a rewrite of the newest entries cannot hide from it."""
        out = WitnessEvidence()
        origin, log_key = self.ledger.origin, self.ledger.verifier
        for note in await self.all_cosigned(session):
            try:
                cp, cosigs = open_cosigned_checkpoint(note, log_key, origin, self.verifiers)
            except NoteError as exc:
                out.problems.append(f"a stored cosigned checkpoint does not verify: {exc}")
                continue
            if cosigs:
                names = ", ".join(sorted(c.name for c in cosigs))
                out.checkpoints.append((f"checkpoint cosigned by {names}", note))
        if not online:
            return out
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            for witness in self.witnesses:
                name = witness.verifier.name
                try:
                    latest = await fetch_witnessed(http, witness, origin)
                except httpx.HTTPError as exc:
                    out.warnings.append(f"witness {name} could not be asked: {type(exc).__name__} {exc}")
                    continue
                if latest is None:
                    out.warnings.append(f"witness {name} has not cosigned this log yet")
                    continue
                try:
                    cp, cosigs = open_cosigned_checkpoint(latest, log_key, origin, [witness.verifier])
                except NoteError as exc:
                    out.problems.append(f"witness {name}'s latest checkpoint does not verify: {exc}")
                    continue
                if not cosigs:
                    out.problems.append(f"witness {name}'s latest checkpoint lacks its own cosignature")
                    continue
                out.checkpoints.append((f"latest checkpoint witness {name} cosigned", latest))
                out.witnessed[name] = cp.size
        return out


@dataclass
class WitnessEvidence:
    checkpoints: list[tuple[str, str]] = field(default_factory=list)  # (label, cosigned note)
    witnessed: dict[str, int] = field(default_factory=dict)  # witness name -> its latest size
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Failure(Exception):
    pass


def _append_lines(note: str, lines: Sequence[str]) -> str:
    if not note.endswith("\n"):
        raise NoteError("a stored checkpoint note must end with a newline")
    return note + "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _detail(answer: httpx.Response) -> str:
    if answer.headers.get("content-type", "").startswith("application/problem+json"):
        try:
            return str(answer.json().get("detail", ""))[:300]
        except ValueError:
            pass
    return answer.text[:300]


async def fetch_witnessed(http: httpx.AsyncClient, witness: WitnessEndpoint, origin: str) -> str | None:
    """The witness's latest cosigned checkpoint of ``origin`` (its monitoring endpoint), or None
    if it never cosigned one. Raises ``httpx.HTTPError`` when it cannot be asked."""
    answer = await http.get(f"{witness.url}/{tlog_witness.origin_hash(origin)}/checkpoint")
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    return answer.text
