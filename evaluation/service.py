"""Evaluation's service, as the composition root builds it (``services.get(Evaluation)``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import DeadlineCheckpoint
from evaluation import price_score
from evaluation.access import active_seat, evaluation_resource
from evaluation.adjustments import Adjustments
from evaluation.award import DECISION_METHODS, Awards
from evaluation.drawing import Draws
from evaluation.models import EvaluationPlan
from evaluation.notify import Notifier, SmtpSettings
from evaluation.opened import OpenedBidSource, StoredSource
from evaluation.registry import Registry
from evaluation.report import Reports
from evaluation.representatives import Representatives
from evaluation.scoring import Scoring
from evaluation.workspace import Workspace
from tenderhall.auth.policy import Subject, enforce
from tenderhall.bounds import OutOfBounds, parse_decimal
from tenderhall.errors import Conflict, InvalidInput
from tenderhall.services import Services
from tenderhall.tenders.models import Tender

PLAN_FIELDS = (
    "sme_deduction_pct",
    "benchmark",
    "outlier_threshold_pct",
    "trim_extremes",
    "decision_method",
    "response_hours",
    "scoring_deadline",
    "signing_deadline",
)

# The K range (as fractions: 0.00-0.03 is 0-3 %) and grid step used when the plan publishes none.
DEFAULT_K_RANGE = ("0.00", "0.03")
DEFAULT_K_STEP = "0.005"
K_FIELDS = ("k", "k_range", "k_step")
BEFORE_DEADLINE = ("draft", "published")


def _benchmark(current: dict[str, Any], raw: Any, state: str) -> dict[str, Any]:
    """Validate the benchmark settings; K and its range are fixed once the deadline passed (the
    seed K is drawn from is public from then on, so choosing the range later would choose K)."""
    if not isinstance(raw, dict):
        raise InvalidInput("plan.benchmark_invalid", detail="an object")
    new = {k: v for k, v in raw.items() if k not in ("k_seed", "k_seed_source")}  # the draw's own
    if state not in BEFORE_DEADLINE:
        if any(new[f] != current.get(f) for f in K_FIELDS if f in new):
            raise Conflict("plan.k_fixed")
        new.update({f: current[f] for f in (*K_FIELDS, "k_seed", "k_seed_source") if f in current})
        return new
    try:
        if "k" in new:
            k = parse_decimal(new["k"])
            if not k.is_finite() or not 0 <= k < 1:
                raise InvalidInput("plan.benchmark_invalid", detail="k")
        if "k_range" in new:
            lo, hi = (parse_decimal(v) for v in new["k_range"])
            if not (lo.is_finite() and hi.is_finite() and 0 <= lo <= hi < 1):
                raise InvalidInput("plan.benchmark_invalid", detail="k_range")
        if "k_step" in new:
            step = parse_decimal(new["k_step"])
            if not step.is_finite() or step <= 0:
                raise InvalidInput("plan.benchmark_invalid", detail="k_step")
    except (OutOfBounds, TypeError, ValueError):
        raise InvalidInput("plan.benchmark_invalid", detail="k") from None
    return new


class Evaluation:
    def __init__(self, services: Services, smtp: SmtpSettings, source: OpenedBidSource) -> None:
        self.services = services
        self.notifier = Notifier(smtp, services.clock)
        self.registry = Registry(services)
        self.draws = Draws(services, self.registry, self.notifier)
        self.workspace = Workspace(services, self.draws, source)
        self.scoring = Scoring(services, self.draws)
        self.reports = Reports(services, self.draws)
        self.representatives = Representatives(services, self.notifier)
        self.adjustments = Adjustments(services)
        self.awards = Awards(services, self.draws, self.notifier)

    @classmethod
    def attach(cls, services: Services, source: OpenedBidSource | None = None) -> Evaluation:
        evaluation = cls(services, SmtpSettings.from_env(), source or StoredSource())
        services.tenders.add_listener(evaluation.on_transition)
        return evaluation

    def use_source(self, source: OpenedBidSource) -> None:
        """Where opened bids come from (bidding's `OpenedBids` when composed with bidding)."""
        self.workspace.source = source

    async def committee_member(self, db: AsyncSession, tender_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Does the user hold an active seat (accepted and declared free of conflicts) on the
        tender's committee?  Bidding and collusion ask this to let the committee read."""
        return await active_seat(db, tender_id, user_id) is not None

    # -- K of the benchmark price, drawn publicly at opening ------------------------------------
    async def on_transition(self, db: AsyncSession, tender: Tender, transition: str) -> None:
        if transition == "start_opening" and (tender.rubric or {}).get("price_method") == "benchmark_price":
            await self.draw_k(db, tender)

    async def draw_k(self, db: AsyncSession, tender: Tender) -> dict[str, Any] | None:
        """Draw K from the plan's published range (default `DEFAULT_K_RANGE`) with the tender's
        deadline checkpoint root as the public seed, write it into the plan and the ledger.

        Anyone can recompute it: `price_score.draw_k(range, step, bytes.fromhex(root))` with the
        root of the ``bids.deadline_checkpoint`` event and the range of ``evaluation.k_drawn``.
        A K fixed in the plan without a range is published as it is and not drawn.
        """
        plan = await self.draws.plan(db, tender.id)
        bench = dict(plan.benchmark or {})
        if "k_seed" in bench or ("k" in bench and "k_range" not in bench):
            return None  # drawn already, or a fixed K published in the documents
        checkpoint = await db.scalar(
            select(DeadlineCheckpoint).where(DeadlineCheckpoint.tender_id == tender.id)
        )
        if checkpoint is None:
            return None
        lo, hi = (Decimal(str(v)) for v in bench.get("k_range", DEFAULT_K_RANGE))
        step = Decimal(str(bench.get("k_step", DEFAULT_K_STEP)))
        k = price_score.draw_k((lo, hi), step, bytes.fromhex(checkpoint.set_root))
        bench.update(
            k=str(k),
            k_range=[str(lo), str(hi)],
            k_step=str(step),
            k_seed=checkpoint.set_root,
            k_seed_source="bids.deadline_checkpoint",
        )
        plan.benchmark = bench
        await db.flush()
        await self.services.ledger.append(
            db,
            "evaluation.k_drawn",
            {
                "tender": str(tender.id),
                "k": str(k),
                "k_range": [str(lo), str(hi)],
                "k_step": str(step),
                "seed": checkpoint.set_root,
                "seed_source": "bids.deadline_checkpoint",
                "seed_ledger_index": checkpoint.ledger_index,
            },
            subject=f"tender:{tender.id}",
        )
        return bench

    async def set_plan(
        self, db: AsyncSession, who: Subject, tender_id: uuid.UUID, changes: dict[str, Any]
    ) -> EvaluationPlan:
        tender = await self.services.tenders.load(db, who, tender_id, "tender.view", lock=True)
        enforce(who, "committee.manage", await evaluation_resource(self.services, db, tender, who))
        if tender.state in ("evaluating", "recommended", "awarded", "archived"):
            raise Conflict("plan.frozen")
        unknown = set(changes) - set(PLAN_FIELDS)
        if unknown:
            raise InvalidInput("plan.field_unknown", fields=", ".join(sorted(unknown)))
        plan = await self.draws.plan(db, tender.id)
        for name in ("sme_deduction_pct", "outlier_threshold_pct"):
            if name in changes:
                try:
                    value = parse_decimal(changes[name])
                except OutOfBounds:
                    raise InvalidInput("plan.number_invalid", field=name) from None
                if not value.is_finite() or not 0 <= value < 100:
                    raise InvalidInput("plan.number_invalid", field=name)
                setattr(plan, name, str(value))
        if "decision_method" in changes:
            if changes["decision_method"] not in DECISION_METHODS:
                raise InvalidInput("plan.method_invalid", allowed=", ".join(DECISION_METHODS))
            plan.decision_method = changes["decision_method"]
        if "benchmark" in changes:
            plan.benchmark = _benchmark(plan.benchmark or {}, changes["benchmark"], tender.state)
        if "trim_extremes" in changes:
            plan.trim_extremes = bool(changes["trim_extremes"])
        if "response_hours" in changes:
            hours = changes["response_hours"]
            if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 72:
                raise InvalidInput("plan.number_invalid", field="response_hours")
            plan.response_hours = hours
        for name in ("scoring_deadline", "signing_deadline"):
            if name in changes:
                value = changes[name]
                if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                    raise InvalidInput("error.timezone_required")
                setattr(plan, name, value)
        await db.flush()
        await self.services.ledger.append(
            db,
            "evaluation.plan_set",
            {"tender": str(tender.id), "fields": sorted(changes)},
            actor=who.user_id,
            subject=f"tender:{tender.id}",
        )
        return plan

    async def record(self, db: AsyncSession, who: Subject, tender_id: uuid.UUID) -> tuple[bytes, str]:
        """The published draw record (canonical JSON) and the commitment digest anchored before it."""
        _, row = await self.draws.for_tender(db, who, tender_id)
        if row is None or row.record is None:
            raise Conflict("draw.not_drawn")
        return row.record.encode(), row.commitment_digest
