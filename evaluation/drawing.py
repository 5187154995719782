"""Draw requests, the commit-then-reveal draw, and the committee's seats up to 回避声明.

Order of events for one draw (each a ledger event):
1. ``draw.requested`` — staff; a request that bends a default rule waits for a supervisor;
2. ``draw.committed`` — the platform commits to the eligible pool, parameters and a hash of its
   fresh 32-byte secret *before* anyone supplies randomness (the secret is sealed at rest);
3. ``draw.revealed`` — at the draw time a supervisor supplies its random value, the seed and the
   selection follow, and only a hash of the full record goes into the (public) ledger, because the
   record names experts and stays sealed until the result is published;
4. ``seat.*`` / ``draw.replacement`` — accept, decline, no-show (response deadline by the clock,
   decided inside the transaction), conflict declared: each vacancy takes the draw's next reserve.
"""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import draw as dr
from evaluation.access import evaluation_resource, region_of_centre, seat_resource
from evaluation.avoidance import RegionRules, RelationKind, TenderContext
from evaluation.hashrng import sha256_hex
from evaluation.models import (
    AvoidanceSettings,
    CommitteeSeat,
    DrawRecordRow,
    DrawRequest,
    DrawStatus,
    EvaluationPlan,
    Expert,
    SeatKind,
    SeatStatus,
)
from evaluation.notify import Notifier
from evaluation.registry import Registry
from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject, enforce
from tenderhall.db import unit_of_work
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.keys import derive_key
from tenderhall.orgs.models import Company, Organisation
from tenderhall.services import Services
from tenderhall.tenders.models import Registration, Tender

BEFORE_EVALUATION = frozenset({"published", "closed", "opening", "opened"})
VACANT = frozenset({SeatStatus.DECLINED.value, SeatStatus.NO_SHOW.value, SeatStatus.CONFLICT.value})
REASON_OF = {
    SeatStatus.DECLINED.value: "declined",
    SeatStatus.NO_SHOW.value: "no_show",
    SeatStatus.CONFLICT.value: "conflict_declared",
}


def parse_fraction(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InvalidInput("draw.fraction_invalid") from None
    if not 0 <= value <= 1:
        raise InvalidInput("draw.fraction_invalid")
    return value


class Draws:
    def __init__(self, services: Services, registry: Registry, notifier: Notifier) -> None:
        self.services = services
        self.registry = registry
        self.notifier = notifier
        self._seal_key = derive_key(services.keys.data_key, "evaluation-draw-secret")

    # -- settings ------------------------------------------------------------------------------
    async def region_settings(self, db: AsyncSession, region_id: uuid.UUID | None) -> AvoidanceSettings:
        row = await db.scalar(select(AvoidanceSettings).where(AvoidanceSettings.region_id == region_id))
        return row or AvoidanceSettings(
            region_id=region_id,
            yearly_evaluation_cap=30,
            same_tenderer_cap=3,
            former_relation_years=3,
            conflict_kinds=[k.value for k in RelationKind],
            default_remote_fraction="2/3",
            default_reserves=3,
        )

    @staticmethod
    def rules_of(s: AvoidanceSettings) -> RegionRules:
        return RegionRules(
            yearly_evaluation_cap=s.yearly_evaluation_cap,
            same_tenderer_cap=s.same_tenderer_cap,
            former_relation_years=s.former_relation_years,
            conflict_kinds=frozenset(
                RelationKind(k) for k in (s.conflict_kinds or [k.value for k in RelationKind])
            ),
        )

    async def plan(self, db: AsyncSession, tender_id: uuid.UUID) -> EvaluationPlan:
        row = await db.scalar(select(EvaluationPlan).where(EvaluationPlan.tender_id == tender_id))
        if row is None:
            row = EvaluationPlan(
                tender_id=tender_id,
                sme_deduction_pct="0",
                benchmark={},
                outlier_threshold_pct="20",
                trim_extremes=False,
                decision_method="lowest_price",
                response_hours=2,
            )
            db.add(row)
            await db.flush()
        return row

    # -- request and approval ------------------------------------------------------------------
    async def request(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        *,
        seats: dict[str, int],
        committee_size: int,
        reserves: int | None,
        remote_fraction: str | None,
        evaluation_date: date,
        draw_at: datetime,
    ) -> DrawRequest:
        tender = await self.services.tenders.load(db, who, tender_id, "draw.request", lock=True)
        live = await db.scalar(
            select(DrawRequest.id).where(
                DrawRequest.tender_id == tender.id, DrawRequest.status != DrawStatus.REJECTED.value
            )
        )
        if live is not None:
            raise Conflict("draw.exists")
        region = await region_of_centre(db, tender.centre_id)
        settings = await self.region_settings(db, region)
        fraction = parse_fraction(remote_fraction or settings.default_remote_fraction)
        reserves = settings.default_reserves if reserves is None else reserves
        try:
            dr.CommitteeRequest(seats, committee_size, reserves, fraction)
        except dr.DrawError as exc:
            raise InvalidInput("draw.request_invalid", detail=str(exc)) from None
        if draw_at.tzinfo is None:
            raise InvalidInput("error.timezone_required")
        # Bending a default rule needs a supervisor's approval before anything is committed.
        bends = []
        if fraction < parse_fraction(settings.default_remote_fraction):
            bends.append("remote_fraction")
        if reserves < settings.default_reserves:
            bends.append("reserves")
        rules = await self.services.tenders.rules(db, tender)
        if committee_size < rules.committee_min_size:
            bends.append("committee_size")
        req = DrawRequest(
            tender_id=tender.id,
            requested_by=who.user_id,
            seats=dict(sorted(seats.items())),
            committee_size=committee_size,
            reserves=reserves,
            remote_fraction=f"{fraction.numerator}/{fraction.denominator}",
            evaluation_date=evaluation_date,
            draw_at=draw_at,
            bends=bends,
            status=DrawStatus.PENDING_APPROVAL.value if bends else DrawStatus.COMMITTED.value,
        )
        db.add(req)
        await db.flush()
        await self.services.ledger.append(
            db,
            "draw.requested",
            {
                "tender": str(tender.id),
                "request": str(req.id),
                "seats": req.seats,
                "committee_size": committee_size,
                "remote_fraction": req.remote_fraction,
                "reserves": reserves,
                "bends": bends,
                "draw_at": draw_at.isoformat(),
            },
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        if not bends:
            await self._commit(db, tender, req)
        return req

    async def decide(
        self, db: AsyncSession, who: Subject, request_id: uuid.UUID, approve: bool, note: str
    ) -> DrawRequest:
        req, tender = await self._request(db, who, request_id, "draw.approve")
        if req.status != DrawStatus.PENDING_APPROVAL.value:
            raise Conflict("draw.not_pending")
        if not note.strip():
            raise InvalidInput("draw.note_required")
        req.decided_by, req.decided_at, req.decision_note = (
            who.user_id,
            self.services.clock.now(),
            note.strip(),
        )
        req.status = DrawStatus.COMMITTED.value if approve else DrawStatus.REJECTED.value
        await db.flush()
        await self.services.ledger.append(
            db,
            "draw.approved" if approve else "draw.rejected",
            {"tender": str(tender.id), "request": str(req.id), "bends": req.bends},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        if approve:
            await self._commit(db, tender, req)
        return req

    async def _request(
        self, db: AsyncSession, who: Subject, request_id: uuid.UUID, action: str
    ) -> tuple[DrawRequest, Tender]:
        req = await db.get(DrawRequest, request_id, with_for_update=True)
        if req is None:
            raise NotFound("error.not_found", kind="draw")
        tender = await self.services.tenders.load(db, who, req.tender_id, "tender.view", lock=True)
        enforce(who, action, await evaluation_resource(self.services, db, tender, who))
        return req, tender

    async def context(self, db: AsyncSession, tender: Tender, req: DrawRequest) -> TenderContext:
        tenderer = await db.get(Organisation, tender.tenderer_id)
        agency = await db.get(Organisation, tender.agency_id) if tender.agency_id else None
        assert tenderer is not None
        bidders = await db.scalars(
            select(Company.uscc)
            .join(Registration, Registration.company_id == Company.id)
            .where(Registration.tender_id == tender.id)
        )
        return TenderContext(
            tender_id=str(tender.id),
            tenderer_id=tenderer.uscc,
            agency_id=agency.uscc if agency else None,
            bidder_ids=frozenset(bidders),
            city=tenderer.city,
            evaluation_date=req.evaluation_date,
            required_specialties=frozenset(req.seats),
        )

    async def _commit(self, db: AsyncSession, tender: Tender, req: DrawRequest) -> DrawRecordRow:
        region = await region_of_centre(db, tender.centre_id)
        assert region is not None
        rules = self.rules_of(await self.region_settings(db, region))
        ctx = await self.context(db, tender, req)
        request = dr.CommitteeRequest(
            dict(req.seats), req.committee_size, req.reserves, Fraction(req.remote_fraction)
        )
        params = dr.params_for(ctx, request, rules)
        pool, counts = dr.eligible_snapshot(await self.registry.pool(db, region), ctx, rules)
        secret = secrets.token_bytes(dr.SECRET_BYTES)
        try:
            prepared = dr.prepare_draw(pool, params, counts, secret)
        except dr.QuotaError as exc:
            raise InvalidInput("draw.quota_unmet", detail="; ".join(str(s) for s in exc.shortfalls)) from None
        c = prepared.commitment
        anchored = await self.services.ledger.append(
            db,
            "draw.committed",
            {
                "tender": str(tender.id),
                "request": str(req.id),
                "commitment": c.digest(),
                "pool_hash": c.pool_hash,
                "params_hash": c.params_hash,
                "secret_hash": c.secret_hash,
                "pool_size": c.pool_size,
                "excluded": dict(c.exclusion_counts),
            },
            subject=f"tender:{tender.id}",
        )
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(self._seal_key).encrypt(nonce, secret, str(req.id).encode())
        row = DrawRecordRow(
            request_id=req.id,
            tender_id=tender.id,
            commitment=c.to_json_obj(),
            commitment_digest=c.digest(),
            commitment_index=anchored.index,
            params=params.to_json_obj(),
            pool=pool.to_json_obj(),
            sealed_secret=sealed.hex(),
        )
        db.add(row)
        await db.flush()
        return row

    def _secret(self, row: DrawRecordRow) -> bytes:
        sealed = bytes.fromhex(row.sealed_secret)
        return AESGCM(self._seal_key).decrypt(sealed[:12], sealed[12:], str(row.request_id).encode())

    # -- the draw --------------------------------------------------------------------------------
    async def reveal(
        self, db: AsyncSession, who: Subject, request_id: uuid.UUID, value_hex: str
    ) -> DrawRecordRow:
        req, tender = await self._request(db, who, request_id, "draw.reveal")
        if req.status != DrawStatus.COMMITTED.value:
            raise Conflict("draw.not_committed")
        now = self.services.clock.now()
        if now < req.draw_at:
            raise Conflict("draw.too_early", at=req.draw_at.isoformat())
        try:
            value = bytes.fromhex(value_hex)
        except ValueError:
            raise InvalidInput("draw.value_invalid") from None
        if not dr.SUPERVISOR_MIN_BYTES <= len(value) <= dr.SUPERVISOR_MAX_BYTES:
            raise InvalidInput("draw.value_invalid")
        row = await db.scalar(select(DrawRecordRow).where(DrawRecordRow.request_id == req.id))
        assert row is not None
        prepared = dr.PreparedDraw(
            dr.Commitment.from_json_obj(row.commitment),
            dr.PoolSnapshot.from_json_obj(row.pool),
            dr.DrawParams.from_json_obj(row.params),
            self._secret(row),
        )
        record = dr.run_draw(prepared, value)
        self._store(row, record)
        row.supervisor_value, row.revealed_by, row.revealed_at = value_hex, who.user_id, now
        req.status = DrawStatus.DRAWN.value
        plan = await self.plan(db, tender.id)
        respond_by = now + timedelta(hours=plan.response_hours)
        for number, seat in enumerate(record.committee, 1):
            await self._seat(db, tender, row, number, seat, respond_by)
        await db.flush()
        await self.services.ledger.append(
            db,
            "draw.revealed",
            {
                "tender": str(tender.id),
                "request": str(req.id),
                "commitment": row.commitment_digest,
                "record_sha256": row.record_sha256,
                "seats": len(record.committee),
            },
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return row

    @staticmethod
    def _store(row: DrawRecordRow, record: dr.DrawRecord) -> None:
        data = record.to_json()
        row.record = data.decode()
        row.record_sha256 = sha256_hex(data)

    async def _seat(
        self,
        db: AsyncSession,
        tender: Tender,
        row: DrawRecordRow,
        number: int,
        seat: dr.Seat,
        respond_by: datetime,
    ) -> CommitteeSeat:
        expert = await db.get(Expert, uuid.UUID(seat.expert_id))
        assert expert is not None
        s = CommitteeSeat(
            tender_id=tender.id,
            draw_id=row.id,
            expert_id=expert.id,
            user_id=expert.user_id,
            seat_no=number,
            specialty=seat.specialty,
            status=SeatStatus.NOTIFIED.value,
            respond_by=respond_by,
        )
        db.add(s)
        await db.flush()
        await self.notifier.notify(
            db,
            expert.user_id,
            "drawn",
            {
                "reference": tender.reference,
                "title": tender.title,
                "seat": str(s.id),
                "respond_by": respond_by.isoformat(timespec="minutes"),
            },
            email=expert.email,
        )
        return s

    # -- seats -------------------------------------------------------------------------------------
    async def apply_due(self, db: AsyncSession, tender_id: uuid.UUID) -> int:
        """Seats whose response deadline passed without an answer become no-shows and are replaced."""
        now = self.services.clock.now()
        late = list(
            await db.scalars(
                select(CommitteeSeat)
                .where(
                    CommitteeSeat.tender_id == tender_id,
                    CommitteeSeat.status == SeatStatus.NOTIFIED.value,
                    CommitteeSeat.respond_by <= now,
                )
                .order_by(CommitteeSeat.seat_no)
                .with_for_update()
            )
        )
        for seat in late:
            seat.status = SeatStatus.NO_SHOW.value
            await self._vacate(db, seat)
        return len(late)

    async def my_seat(self, db: AsyncSession, who: Subject, seat_id: uuid.UUID, action: str) -> CommitteeSeat:
        seat = await db.get(CommitteeSeat, seat_id)
        if seat is None or seat.user_id != who.user_id:
            raise NotFound("error.not_found", kind="seat")
        await self.services.tenders.load(db, Subject(role=None), seat.tender_id, "tender.view", lock=True)
        await self.apply_due(db, seat.tender_id)
        await db.refresh(seat)
        enforce(who, action, seat_resource(seat))
        return seat

    async def respond(
        self, db: AsyncSession, who: Subject, seat_id: uuid.UUID, accept: bool, reason: str
    ) -> CommitteeSeat:
        seat = await db.get(CommitteeSeat, seat_id)
        if seat is not None and seat.user_id == who.user_id and seat.status == SeatStatus.NOTIFIED.value:
            now = self.services.clock.now()
            if now >= seat.respond_by:
                # Decided here, by the clock: too late is a no-show, replaced at once.  The
                # replacement must survive the error answer: it commits on its own (as login failures).
                async def replace(own: AsyncSession) -> None:
                    await self.my_seat(own, who, seat_id, "seat.view")

                await unit_of_work.refuse(db, replace, Conflict("seat.response_late"))
        seat = await self.my_seat(db, who, seat_id, "seat.respond")
        if not accept and not reason.strip():
            raise InvalidInput("seat.reason_required")
        seat.responded_at = self.services.clock.now()
        seat.status = SeatStatus.ACCEPTED.value if accept else SeatStatus.DECLINED.value
        seat.reason = None if accept else reason.strip()
        await db.flush()
        await self._event(db, seat, "seat.accepted" if accept else "seat.declined", who)
        if not accept:
            await self._vacate(db, seat)
        return seat

    async def declare(
        self, db: AsyncSession, who: Subject, seat_id: uuid.UUID, conflict: bool, statement: str
    ) -> CommitteeSeat:
        seat = await self.my_seat(db, who, seat_id, "seat.declare")
        if conflict and not statement.strip():
            raise InvalidInput("seat.reason_required")
        seat.declared_at = self.services.clock.now()
        seat.status = SeatStatus.CONFLICT.value if conflict else SeatStatus.ACTIVE.value
        seat.reason = statement.strip() or None
        await db.flush()
        await self._event(db, seat, "seat.conflict_declared" if conflict else "seat.declared", who)
        if conflict:
            await self._vacate(db, seat)
        return seat

    async def no_show(self, db: AsyncSession, who: Subject, seat_id: uuid.UUID) -> CommitteeSeat:
        seat = await db.get(CommitteeSeat, seat_id)
        if seat is None:
            raise NotFound("error.not_found", kind="seat")
        tender = await self.services.tenders.load(db, who, seat.tender_id, "tender.view", lock=True)
        enforce(who, "committee.manage", await evaluation_resource(self.services, db, tender, who))
        if seat.status not in (SeatStatus.NOTIFIED.value, SeatStatus.ACCEPTED.value, SeatStatus.ACTIVE.value):
            raise Conflict("seat.not_open")
        if tender.state not in BEFORE_EVALUATION:
            raise Conflict("seat.not_open")
        seat.status = SeatStatus.NO_SHOW.value
        await db.flush()
        await self._event(db, seat, "seat.no_show", who)
        await self._vacate(db, seat)
        return seat

    async def _event(self, db: AsyncSession, seat: CommitteeSeat, kind: str, who: Subject) -> None:
        # Seat number and a keyed commitment, never the expert: the ledger is public.
        await self.services.ledger.append(
            db,
            kind,
            {
                "tender": str(seat.tender_id),
                "seat_no": seat.seat_no,
                "expert": self.services.ledger.blind(
                    "seat", str(seat.tender_id), str(seat.expert_id or seat.user_id)
                ),
            },
            subject=f"tender:{seat.tender_id}",
        )

    async def _vacate(self, db: AsyncSession, seat: CommitteeSeat) -> CommitteeSeat | None:
        if seat.kind == SeatKind.REPRESENTATIVE.value:
            return None  # not drawn: the tenderer appoints another representative
        row = await db.get(DrawRecordRow, seat.draw_id, with_for_update=True)
        assert row is not None
        assert row.record is not None
        record = dr.DrawRecord.from_json(row.record.encode())
        state = dr.CommitteeState.initial(record)
        for rep in record.replacements:
            state = state.apply(rep)
        try:
            rep = dr.replace(record, str(seat.expert_id), state, REASON_OF[seat.status])  # type: ignore[arg-type]
        except dr.QuotaError as exc:
            raise Conflict("draw.no_reserve", detail=str(exc)) from None
        record = record.with_replacement(rep)
        self._store(row, record)
        tender = await db.get(Tender, seat.tender_id)
        assert tender is not None
        plan = await self.plan(db, tender.id)
        respond_by = self.services.clock.now() + timedelta(hours=plan.response_hours)
        new = await self._seat(
            db, tender, row, seat.seat_no, dr.Seat(rep.replacement_id, rep.specialty), respond_by
        )
        seat.replaced_by = new.id
        await db.flush()
        await self.services.ledger.append(
            db,
            "draw.replacement",
            {
                "tender": str(tender.id),
                "seat_no": seat.seat_no,
                "reason": rep.reason,
                "record_sha256": row.record_sha256,
                "replacements": len(record.replacements),
            },
            subject=f"tender:{tender.id}",
        )
        return new

    # -- reading -----------------------------------------------------------------------------------
    async def for_tender(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> tuple[DrawRequest | None, DrawRecordRow | None]:
        tender = await self.services.tenders.load(db, who, tender_id, lock=True)
        enforce(
            who, "draw.view", await evaluation_resource(self.services, db, tender, who), hide="tender.view"
        )
        await self.apply_due(db, tender.id)
        req = await db.scalar(
            select(DrawRequest)
            .where(DrawRequest.tender_id == tender.id)
            .order_by(DrawRequest.created_at.desc())
        )
        row = (
            await db.scalar(select(DrawRecordRow).where(DrawRecordRow.request_id == req.id)) if req else None
        )
        return req, row

    async def current(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> tuple[DrawRequest, DrawRecordRow | None]:
        """The tender's latest draw request and its commitment; 404 while there is none."""
        req, row = await self.for_tender(db, who, tender_id)
        if req is None:
            raise NotFound("error.not_found", kind="draw")
        return req, row

    async def seats(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID
    ) -> list[tuple[CommitteeSeat, Expert | None, User | None]]:
        """Every seat with its expert (drawn seats) or its account (representatives)."""
        tender = await self.services.tenders.load(db, who, tender_id, lock=True)
        enforce(who, "committee.view", await evaluation_resource(self.services, db, tender, who))
        await self.apply_due(db, tender.id)
        rows = await db.execute(
            select(CommitteeSeat, Expert, User)
            .outerjoin(Expert, Expert.id == CommitteeSeat.expert_id)
            .outerjoin(User, User.id == CommitteeSeat.user_id)
            .where(CommitteeSeat.tender_id == tender.id)
            .order_by(CommitteeSeat.seat_no, CommitteeSeat.created_at)
        )
        return [(s, e, u) for s, e, u in rows.tuples()]

    async def my_seats(self, db: AsyncSession, who: Subject) -> list[tuple[CommitteeSeat, Tender]]:
        rows = await db.execute(
            select(CommitteeSeat, Tender)
            .join(Tender, Tender.id == CommitteeSeat.tender_id)
            .where(CommitteeSeat.user_id == who.user_id)
            .order_by(CommitteeSeat.created_at.desc())
        )
        return [(s, t) for s, t in rows.tuples()]


def public_params(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "pool"}
