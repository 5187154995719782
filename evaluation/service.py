"""Evaluation's service, as the composition root builds it (``services.domain["evaluation"]``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.access import evaluation_resource
from evaluation.award import DECISION_METHODS, Awards
from evaluation.drawing import Draws
from evaluation.models import EvaluationPlan
from evaluation.notify import Notifier, SmtpSettings
from evaluation.opened import OpenedBidSource, StoredSource
from evaluation.registry import Registry
from evaluation.workspace import Workspace
from tenderhall.auth.policy import Subject, enforce
from tenderhall.errors import Conflict, InvalidInput
from tenderhall.services import Services

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


class Evaluation:
    def __init__(self, services: Services, smtp: SmtpSettings, source: OpenedBidSource) -> None:
        self.services = services
        self.notifier = Notifier(smtp)
        self.registry = Registry(services)
        self.draws = Draws(services, self.registry, self.notifier)
        self.workspace = Workspace(services, self.draws, source)
        self.awards = Awards(services, self.draws, self.notifier)

    @classmethod
    def attach(cls, services: Services, source: OpenedBidSource | None = None) -> Evaluation:
        return cls(services, SmtpSettings.from_env(), source or StoredSource())

    def use_source(self, source: OpenedBidSource) -> None:
        """Where opened bids come from (bidding's implementation, once it provides one)."""
        self.workspace.source = source

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
                    value = Decimal(str(changes[name]))
                except InvalidOperation:
                    raise InvalidInput("plan.number_invalid", field=name) from None
                if not value.is_finite() or not 0 <= value < 100:
                    raise InvalidInput("plan.number_invalid", field=name)
                setattr(plan, name, str(value))
        if "decision_method" in changes:
            if changes["decision_method"] not in DECISION_METHODS:
                raise InvalidInput("plan.method_invalid", allowed=", ".join(DECISION_METHODS))
            plan.decision_method = changes["decision_method"]
        if "benchmark" in changes:
            plan.benchmark = dict(changes["benchmark"])
        if "trim_extremes" in changes:
            plan.trim_extremes = bool(changes["trim_extremes"])
        if "response_hours" in changes:
            hours = int(changes["response_hours"])
            if not 1 <= hours <= 72:
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
