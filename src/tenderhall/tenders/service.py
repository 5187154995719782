"""Tender use cases.  Each runs inside the caller's transaction and writes its ledger event there.

Loading a tender for an action locks its row and first applies the time-driven transitions that
are due by the injected clock, so a deadline is decided in the same transaction that acts on it.
Viewing one (:meth:`Tenders.view`, the read path) takes no lock and writes nothing, unless a
transition is due: then it applies it first, in a writing transaction of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.auth.roles import Role
from tenderhall.bounds import within_horizon
from tenderhall.clock import Clock
from tenderhall.errors import Conflict, InvalidInput, NotFound
from tenderhall.ledger.service import Ledger
from tenderhall.orgs.models import Centre, Organisation, OrganisationKind
from tenderhall.tenders import lifecycle
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.models import Amendment, ProcedureOverride, Registration, Tender
from tenderhall.tenders.procedures import ProcedureRules, ProcedureType, rules_for
from tenderhall.tenders.rubric import validate_rubric

MAX_PAGE = 100
MAX_ESTIMATE_FEN = 2**63 - 1  # the column is a signed 64-bit integer


@dataclass(frozen=True)
class TenderDraft:
    title: str
    procedure: str
    estimate_fen: int
    tenderer_id: uuid.UUID
    centre_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    description: str = ""
    category: str = "works"
    rubric: dict[str, Any] | None = None


@dataclass(frozen=True)
class Page:
    items: Sequence[Tender]
    total: int
    limit: int
    offset: int


CATEGORIES = ("works", "goods", "services")

# Called inside the transition's transaction, after its ledger event and before its checkpoint,
# so domain packages act on a transition (e.g. bidding's deadline checkpoint on ``close``)
# without the kernel importing them.  Registered by the domain services as they are built
# (their plugin's providers).
TransitionListener = Callable[[AsyncSession, Tender, str], Awaitable[None]]


class Tenders:
    def __init__(self, clock: Clock, ledger: Ledger, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.clock = clock
        self.ledger = ledger
        self.sessionmaker = sessionmaker  # writing sessions, for a view that finds a transition due
        self.listeners: list[TransitionListener] = []
        self._centre_region: dict[uuid.UUID, uuid.UUID] = {}

    def add_listener(self, listener: TransitionListener) -> None:
        self.listeners.append(listener)

    # -- reading ---------------------------------------------------------------------------
    async def resource(self, db: AsyncSession, tender: Tender, who: Subject | None = None) -> Resource:
        return (await self.resources(db, [tender], who))[tender.id]

    async def resources(
        self, db: AsyncSession, tenders: Sequence[Tender], who: Subject | None = None
    ) -> dict[uuid.UUID, Resource]:
        """The policy objects of ``tenders``, in at most two statements however many there are."""
        regions = await self.centre_regions(db, {t.centre_id for t in tenders})
        company = who.company_id if who is not None else None
        registered: set[uuid.UUID] = set()
        if company is not None and tenders:
            registered = set(
                await db.scalars(
                    select(Registration.tender_id).where(
                        Registration.tender_id.in_([t.id for t in tenders]),
                        Registration.company_id == company,
                    )
                )
            )
        return {
            t.id: Resource(
                kind="tender",
                state=t.state,
                region_id=regions.get(t.centre_id),
                centre_id=t.centre_id,
                organisation_ids=frozenset(o for o in (t.tenderer_id, t.agency_id) if o is not None),
                registered_companies=frozenset({company}) if company and t.id in registered else frozenset(),
                published=t.issued_at is not None,
                label=t.reference,
            )
            for t in tenders
        }

    async def centre_regions(
        self, db: AsyncSession, centre_ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        """Each centre's region.  Kept in the process once read: the platform never moves a centre
        to another region (nothing updates ``centres.region_id``), so an entry cannot go stale, and
        a centre another worker created is read on its first use."""
        missing = centre_ids - self._centre_region.keys()
        if missing:
            rows = await db.execute(select(Centre.id, Centre.region_id).where(Centre.id.in_(missing)))
            self._centre_region.update(rows.tuples().all())
        return {c: self._centre_region[c] for c in centre_ids if c in self._centre_region}

    async def load(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        action: str = "tender.view",
        *,
        lock: bool = False,
    ) -> Tender:
        """Fetch a tender the subject may act on; 404 if it may not even see it.  With ``lock`` (in
        a writing transaction) the row is locked, read afresh and its due transitions applied."""
        tender = await (self._locked(db, tender_id) if lock else self._read(db, tender_id))
        enforce(who, action, await self.resource(db, tender, who), hide="tender.view")
        return tender

    async def view(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> tuple[Tender, Resource]:
        """A tender the subject may see and its policy object, to read them: ``db`` may be a read
        session.  Nothing is locked, except when a time-driven transition is due by the clock:
        then it is applied as an action would, in a writing transaction of its own (the read
        transaction cannot write), and the tender comes from there."""
        tender = await self._read(db, tender_id)
        if self.state_now(tender) != tender.state:
            async with self.sessionmaker() as writer, writer.begin():
                tender = await self._locked(writer, tender_id)
        resource = await self.resource(db, tender, who)
        enforce(who, "tender.view", resource, hide="tender.view")
        return tender, resource

    async def _read(self, db: AsyncSession, tender_id: uuid.UUID) -> Tender:
        tender = (await db.execute(select(Tender).where(Tender.id == tender_id))).scalar_one_or_none()
        if tender is None:
            raise NotFound("error.not_found", kind="tender")
        return tender

    async def _locked(self, db: AsyncSession, tender_id: uuid.UUID) -> Tender:
        """The tender, its row locked and read afresh, with its due transitions applied."""
        query = select(Tender).where(Tender.id == tender_id).with_for_update()
        tender = (await db.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
        if tender is None:
            raise NotFound("error.not_found", kind="tender")
        await self.apply_due(db, tender)
        return tender

    def state_now(self, tender: Tender) -> str:
        """The state ``tender`` reaches by the clock once its due time-driven transitions apply."""
        state = TenderState(tender.state)
        for transition in lifecycle.due_transitions(state, tender.deadline_at, self.clock.now()):
            state = lifecycle.next_state(state, transition)
        return state.value

    def visible_query(self, who: Subject) -> Select[Tender]:
        """Tenders the subject may view, as a query, mirroring the ``tender.view`` rows."""
        public = and_(Tender.state != TenderState.DRAFT.value, Tender.issued_at.is_not(None))
        clauses = [public]
        if who.role in (Role.TENDERER, Role.AGENT) and who.organisation_id:
            clauses.append(
                or_(Tender.tenderer_id == who.organisation_id, Tender.agency_id == who.organisation_id)
            )
        if who.role is Role.STAFF and who.centre_id:
            clauses.append(Tender.centre_id == who.centre_id)
        if who.role is Role.SUPERVISOR and who.region_id:
            clauses.append(Tender.centre_id.in_(select(Centre.id).where(Centre.region_id == who.region_id)))
        return select(Tender).where(or_(*clauses))

    async def search(
        self,
        db: AsyncSession,
        who: Subject,
        *,
        state: str | None = None,
        centre_id: uuid.UUID | None = None,
        procedure: str | None = None,
        q: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Page:
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidInput("error.pagination", maximum=MAX_PAGE)
        query = self.visible_query(who)
        if state:
            if state not in {s.value for s in TenderState}:
                raise InvalidInput("tender.state_unknown", state=state)
            query = query.where(Tender.state == state)
        if centre_id:
            query = query.where(Tender.centre_id == centre_id)
        if procedure:
            query = query.where(Tender.procedure == procedure)
        if q:
            # Literal text: % and _ in a query are characters, not wildcards.
            query = query.where(
                or_(Tender.title.contains(q, autoescape=True), Tender.reference.icontains(q, autoescape=True))
            )
        total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = await db.execute(
            query.order_by(Tender.created_at.desc(), Tender.id).limit(limit).offset(offset)
        )
        return Page(items=list(rows.scalars()), total=total, limit=limit, offset=offset)

    async def set_overrides(
        self, db: AsyncSession, who: Subject, region_id: uuid.UUID, procedure: str, overrides: dict[str, str]
    ) -> ProcedureRules:
        """Replace a region's overrides of one procedure's rules (DESIGN §3: rules are data)."""
        enforce(who, "procedure.override", Resource(kind="region", region_id=region_id))
        try:
            kind = ProcedureType(procedure)
            rules = rules_for(kind, overrides)  # validates before anything is written
        except ValueError as exc:
            raise InvalidInput("procedure.override_invalid", detail=str(exc)) from None
        existing = await db.execute(
            select(ProcedureOverride).where(
                ProcedureOverride.region_id == region_id, ProcedureOverride.procedure == procedure
            )
        )
        for row in existing.scalars():
            await db.delete(row)
        await db.flush()
        db.add_all(
            ProcedureOverride(region_id=region_id, procedure=procedure, parameter=k, value=v)
            for k, v in sorted(overrides.items())
        )
        await db.flush()
        await self.ledger.append(
            db,
            "procedure.overridden",
            {"region": str(region_id), "procedure": procedure, "overrides": dict(sorted(overrides.items()))},
            actor=who.user_id,
            subject=f"region:{region_id}",
        )
        return rules

    async def region_rules(self, db: AsyncSession, region_id: uuid.UUID, procedure: str) -> ProcedureRules:
        rows = await db.execute(
            select(ProcedureOverride.parameter, ProcedureOverride.value).where(
                ProcedureOverride.region_id == region_id, ProcedureOverride.procedure == procedure
            )
        )
        try:
            return rules_for(ProcedureType(procedure), dict(rows.tuples().all()))
        except ValueError as exc:
            raise InvalidInput("procedure.override_invalid", detail=str(exc)) from None

    async def rules(self, db: AsyncSession, tender: Tender) -> ProcedureRules:
        centre = await db.get(Centre, tender.centre_id)
        if centre is None:
            raise NotFound("error.not_found", kind="centre")
        return await self.region_rules(db, centre.region_id, tender.procedure)

    # -- time --------------------------------------------------------------------------------
    async def apply_due(self, db: AsyncSession, tender: Tender) -> list[str]:
        """Apply every time-driven transition that is due now; the caller holds the row lock."""
        applied = []
        now = self.clock.now()
        for transition in lifecycle.due_transitions(TenderState(tender.state), tender.deadline_at, now):
            await self.transition(db, tender, transition, None, {"deadline": _iso(tender.deadline_at)})
            applied.append(transition)
        return applied

    async def sweep(self, db: AsyncSession) -> int:
        """Close every tender whose deadline has passed (the background safety net)."""
        now = self.clock.now()
        due = await db.execute(
            select(Tender)
            .where(Tender.state == TenderState.PUBLISHED.value, Tender.deadline_at <= now)
            .with_for_update(skip_locked=True)
        )
        count = 0
        for tender in due.scalars():
            count += len(await self.apply_due(db, tender))
        return count

    async def transition(
        self, db: AsyncSession, tender: Tender, transition: str, actor: uuid.UUID | None, data: dict[str, Any]
    ) -> None:
        before = tender.state
        try:
            tender.state = lifecycle.next_state(TenderState(tender.state), transition).value
        except lifecycle.TransitionError as exc:
            raise Conflict(
                "tender.transition_invalid", transition=transition, state=exc.state.value
            ) from None
        tender.version += 1
        await db.flush()
        await self.ledger.append(
            db,
            f"tender.{transition}",
            {
                "tender": str(tender.id),
                "reference": tender.reference,
                "from": before,
                "to": tender.state,
                **data,
            },
            actor=actor,
            subject=f"tender:{tender.id}",
        )
        for listener in self.listeners:
            await listener(db, tender, transition)
        if before != tender.state:
            await self.ledger.checkpoint(db, f"tender {tender.reference} {transition}")

    # -- drafting ----------------------------------------------------------------------------
    async def create(self, db: AsyncSession, who: Subject, draft: TenderDraft) -> Tender:
        enforce(who, "tender.create", Resource(kind="tender"))
        try:
            ProcedureType(draft.procedure)
        except ValueError:
            raise InvalidInput(
                "tender.procedure_unknown",
                procedure=draft.procedure,
                allowed=", ".join(p.value for p in ProcedureType),
            ) from None
        check_text(draft.title, "tender.title_invalid", 300)
        if not 0 < draft.estimate_fen <= MAX_ESTIMATE_FEN:
            raise InvalidInput("tender.estimate_invalid")
        if draft.category not in CATEGORIES:
            raise InvalidInput("tender.category_invalid", allowed=", ".join(CATEGORIES))
        tenderer = await db.get(Organisation, draft.tenderer_id)
        if tenderer is None or tenderer.kind != OrganisationKind.TENDERER:
            raise InvalidInput("tender.tenderer_unknown")
        agency = None
        if draft.agency_id is not None:
            agency = await db.get(Organisation, draft.agency_id)
            if agency is None or agency.kind != OrganisationKind.AGENCY:
                raise InvalidInput("tender.agency_unknown")
        # Tenderers and agents draft only for their own organisation; staff only in their centre.
        if who.role is Role.TENDERER and draft.tenderer_id != who.organisation_id:
            raise InvalidInput("tender.not_your_org")
        if who.role is Role.AGENT and draft.agency_id != who.organisation_id:
            raise InvalidInput("tender.not_your_org")
        centre_id = who.centre_id if who.role is Role.STAFF else draft.centre_id
        centre = await db.get(Centre, centre_id) if centre_id else None
        if centre is None or centre.region_id != tenderer.region_id:
            raise InvalidInput("tender.centre_unknown")
        rubric = validate_rubric(draft.rubric) if draft.rubric is not None else {}
        count = int(
            await db.scalar(select(func.count()).select_from(Tender).where(Tender.centre_id == centre.id))
            or 0
        )
        year = self.clock.now().year
        tender = Tender(
            centre_id=centre.id,
            reference=f"{centre.code}-{year}-{count + 1:04d}",
            title=draft.title.strip(),
            procedure=draft.procedure,
            state=TenderState.DRAFT.value,
            tenderer_id=draft.tenderer_id,
            agency_id=draft.agency_id,
            created_by=who.user_id,
            estimate_fen=draft.estimate_fen,
            description=draft.description,
            category=draft.category,
            rubric=rubric,
            documents=[],  # loaded (empty) now, so reading it later needs no lazy IO
        )
        db.add(tender)
        await db.flush()
        await self.ledger.append(
            db,
            "tender.created",
            {"tender": str(tender.id), "reference": tender.reference},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return tender

    async def edit(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, version: int, changes: dict[str, Any]
    ) -> Tender:
        tender = await self.load(db, who, tender_id, "tender.edit", lock=True)
        if tender.version != version:
            raise Conflict("tender.version_conflict", current=tender.version)
        allowed = {"title", "description", "estimate_fen", "rubric", "category"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput("tender.fields_not_editable", fields=", ".join(sorted(unknown)))
        if "title" in changes:
            check_text(changes["title"], "tender.title_invalid", 300)
            tender.title = changes["title"].strip()
        if "description" in changes:
            tender.description = str(changes["description"])
        if "estimate_fen" in changes:
            if (
                not isinstance(changes["estimate_fen"], int)
                or not 0 < changes["estimate_fen"] <= MAX_ESTIMATE_FEN
            ):
                raise InvalidInput("tender.estimate_invalid")
            tender.estimate_fen = changes["estimate_fen"]
        if "category" in changes:
            if changes["category"] not in CATEGORIES:
                raise InvalidInput("tender.category_invalid", allowed=", ".join(CATEGORIES))
            tender.category = changes["category"]
        if "rubric" in changes:
            tender.rubric = validate_rubric(changes["rubric"])
        tender.version += 1
        await db.flush()
        await self.ledger.append(
            db,
            "tender.edited",
            {"tender": str(tender.id), "fields": sorted(changes)},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return tender

    async def publish(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, deadline: datetime
    ) -> Tender:
        tender = await self.load(db, who, tender_id, "tender.publish", lock=True)
        if not tender.rubric:
            raise InvalidInput("tender.rubric_missing")
        if not tender.documents:
            raise InvalidInput("tender.documents_missing")
        now = self.clock.now()
        deadline = _aware(deadline)
        try:
            lifecycle.check_publication(now, deadline, await self.rules(db, tender))
        except lifecycle.ScheduleError:
            rules = await self.rules(db, tender)
            raise InvalidInput("tender.period_too_short", days=rules.min_bidding_period_days) from None
        tender.issued_at = now
        tender.deadline_at = deadline
        tender.opening_at = deadline  # 招标投标法 第三十四条: opening at the deadline
        await self.transition(
            db,
            tender,
            "publish",
            who.user_id,
            {
                "deadline": _iso(deadline),
                "documents": [{"name": d.name, "sha256": d.sha256} for d in tender.documents],
            },
        )
        return tender

    async def amend(
        self,
        db: AsyncSession,
        who: Subject,
        tender_id: uuid.UUID,
        summary: str,
        affects_preparation: bool,
        new_deadline: datetime | None = None,
    ) -> Amendment:
        tender = await self.load(db, who, tender_id, "tender.amend", lock=True)
        check_text(summary, "amendment.summary_invalid", 5000)
        now = self.clock.now()
        old = tender.deadline_at
        if old is None:  # cannot happen for a published tender; refuse rather than guess
            raise Conflict("tender.transition_invalid", transition="amend", state=tender.state)
        wanted = _aware(new_deadline) if new_deadline else old
        if wanted < old:
            raise InvalidInput("amendment.deadline_earlier")
        try:
            outcome = lifecycle.amend_deadline(now, wanted, affects_preparation, await self.rules(db, tender))
        except lifecycle.ScheduleError:
            raise Conflict("amendment.deadline_passed") from None
        number = (
            int(
                await db.scalar(
                    select(func.count()).select_from(Amendment).where(Amendment.tender_id == tender.id)
                )
                or 0
            )
            + 1
        )
        amendment = Amendment(
            tender_id=tender.id,
            number=number,
            summary=summary.strip(),
            affects_preparation=affects_preparation,
            issued_at=now,
            old_deadline=old,
            new_deadline=outcome.deadline,
        )
        db.add(amendment)
        tender.deadline_at = outcome.deadline
        tender.opening_at = outcome.deadline
        await self.transition(
            db,
            tender,
            "amend",
            who.user_id,
            {
                "amendment": number,
                "affects_preparation": affects_preparation,
                "old_deadline": _iso(old),
                "new_deadline": _iso(outcome.deadline),
                "pushed": outcome.pushed,
            },
        )
        return amendment

    async def terminate(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, reason: str) -> Tender:
        tender = await self.load(db, who, tender_id, "tender.terminate", lock=True)
        check_text(reason, "tender.reason_required", 2000)
        tender.terminated_reason = reason.strip()
        await self.transition(db, tender, "terminate", who.user_id, {"reason": reason.strip()})
        return tender

    # -- bidders -----------------------------------------------------------------------------
    async def register(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> Registration:
        tender = await self.load(db, who, tender_id, "tender.register", lock=True)
        if who.company_id is None or who.user_id is None:
            raise InvalidInput("user.bidder_needs_company")
        existing = await db.scalar(
            select(Registration).where(
                Registration.tender_id == tender.id, Registration.company_id == who.company_id
            )
        )
        if existing is not None:
            return existing  # idempotent: registering twice is not an error
        reg = Registration(
            tender_id=tender.id,
            company_id=who.company_id,
            registered_by=who.user_id,
            registered_at=self.clock.now(),
        )
        db.add(reg)
        await db.flush()
        # Who registered, and how many, is confidential until opening (招标投标法 第二十二条): the public
        # event carries only a keyed commitment the platform can later show to an auditor.
        await self.ledger.append(
            db,
            "tender.registered",
            {"commitment": self.ledger.blind("registration", str(tender.id), str(who.company_id))},
        )
        return reg

    async def amendments(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[Amendment]:
        tender = await self.load(db, who, tender_id)
        return await self.amendments_of(db, tender.id)

    async def amendments_of(self, db: AsyncSession, tender_id: uuid.UUID) -> list[Amendment]:
        """A tender's amendments; the caller has checked ``tender.view``."""
        rows = await db.execute(
            select(Amendment).where(Amendment.tender_id == tender_id).order_by(Amendment.number)
        )
        return list(rows.scalars())

    async def registrations(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> list[Registration]:
        tender = await self.load(db, who, tender_id, "tender.registration.view")
        query = select(Registration).where(Registration.tender_id == tender.id)
        if who.role is Role.BIDDER:  # a bidder learns only of its own registration
            query = query.where(Registration.company_id == who.company_id)
        return list((await db.execute(query.order_by(Registration.registered_at))).scalars())


def check_text(value: Any, key: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(key, limit=limit)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput("error.timezone_required")
    if not within_horizon(value):  # the edge checks it too; callers other than the API do not
        raise InvalidInput("input.outside_horizon")
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
