"""The alert review workflow: find alerts, assign, review, comment, escalate, confirm or dismiss.

Every move goes through :meth:`AlertReview._move` (status from ``alert_states``, version, ledger
event); who may make it from which state is the policy table's ``collusion.alert.<move>`` rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion import access, alert_ledger
from collusion.alert_states import ASSIGN, COMMENT, CONFIRM, DISMISS, ESCALATE, MOVES, REVIEW, Move
from collusion.detector import RiskLevel
from collusion.evidence import SPECS
from collusion.models import Alert, AlertComment, AlertMember, AlertStatus, Finding
from collusion.runs import as_uuid
from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject, enforce, permits
from tenderhall.auth.roles import Role
from tenderhall.clock import Clock
from tenderhall.errors import InvalidInput, NotFound
from tenderhall.ledger.service import Ledger

MAX_PAGE = 100
MAX_TEXT = 4000
VIEW = "collusion.alert.view"


@dataclass
class AlertPage:
    items: list[Alert]
    total: int
    limit: int
    offset: int


def _text(value: str, *, required: bool = False) -> str:
    v = (value or "").strip()
    if required and not v:
        raise InvalidInput("collusion.text_required")
    if len(v) > MAX_TEXT:
        raise InvalidInput("collusion.text_too_long", maximum=MAX_TEXT)
    return v


class AlertReview:
    def __init__(self, ledger: Ledger, clock: Clock) -> None:
        self.ledger = ledger
        self.clock = clock

    async def get(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, action: str = VIEW) -> Alert:
        """The alert, locked unless only read; 404 to whoever may not see it."""
        alert = await db.get(Alert, alert_id, with_for_update=action != VIEW)
        if alert is None:
            raise NotFound("error.not_found", kind="collusion_alert")
        enforce(who, action, access.alert_resource(alert), hide=VIEW)
        return alert

    def moves(self, who: Subject, alert: Alert) -> list[str]:
        """The moves the caller may make on the alert now."""
        resource = access.alert_resource(alert)
        return [m.name for m in MOVES if permits(who, m.action, resource)]

    async def search(
        self,
        db: AsyncSession,
        who: Subject,
        *,
        status: str | None = None,
        level: str | None = None,
        centre_id: uuid.UUID | None = None,
        tender_id: uuid.UUID | None = None,
        company_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> AlertPage:
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidInput("error.pagination", maximum=MAX_PAGE)
        query = select(Alert)
        # Mirrors the collusion.alert.view rows: anyone else sees no list at all.
        if who.role is Role.STAFF and who.centre_id:
            query = query.where(Alert.centre_id == who.centre_id)
        elif who.role is Role.SUPERVISOR and who.region_id:
            query = query.where(Alert.region_id == who.region_id)
        else:
            raise NotFound("error.not_found_path")
        if status:
            if status not in {s.value for s in AlertStatus}:
                raise InvalidInput("collusion.status_unknown", status=status)
            query = query.where(Alert.status == status)
        if level:
            if level not in {v.value for v in RiskLevel}:
                raise InvalidInput("collusion.level_unknown", level=level)
            query = query.where(Alert.level == level)
        if kind:
            if kind not in {k.value for k in SPECS}:
                raise InvalidInput("collusion.kind_unknown", kind=kind)
            query = query.where(cast(Alert.kinds, String).contains(f'"{kind}"'))
        if centre_id:
            query = query.where(Alert.centre_id == centre_id)
        if tender_id:
            query = query.where(Alert.tender_id == tender_id)
        if assignee_id:
            query = query.where(Alert.assignee_id == assignee_id)
        if company_id:
            query = query.where(
                Alert.id.in_(select(AlertMember.alert_id).where(AlertMember.company_id == company_id))
            )
        total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = await db.scalars(
            query.order_by(Alert.risk.desc(), Alert.detected_at.desc(), Alert.id).limit(limit).offset(offset)
        )
        return AlertPage(list(rows), total, limit, offset)

    async def _move(
        self, db: AsyncSession, who: Subject, alert: Alert, move: Move, data: dict[str, Any] | None = None
    ) -> Alert:
        """Make a move the policy allowed on a locked alert: status, version, ledger event."""
        if move.to is not None:
            data = {"from": alert.status, **(data or {})}
            alert.status = move.to.value
        alert.version += 1
        await db.flush()
        await alert_ledger.record(self.ledger, db, alert, move, who.user_id, data)
        return alert

    async def assign(
        self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, assignee_id: uuid.UUID
    ) -> Alert:
        alert = await self.get(db, who, alert_id, ASSIGN.action)
        user = await db.get(User, assignee_id)
        if user is None or user.role != Role.STAFF.value or user.centre_id != alert.centre_id:
            raise InvalidInput("collusion.assignee_invalid")
        alert.assignee_id = user.id
        return await self._move(db, who, alert, ASSIGN, {"assignee": str(user.id)})

    async def start_review(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID) -> Alert:
        alert = await self.get(db, who, alert_id, REVIEW.action)
        if alert.assignee_id is None:
            alert.assignee_id = who.user_id
        return await self._move(db, who, alert, REVIEW)

    async def escalate(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, note: str) -> Alert:
        note = _text(note, required=True)
        alert = await self.get(db, who, alert_id, ESCALATE.action)
        alert.escalated_at = self.clock.now()
        await self._move(db, who, alert, ESCALATE, {"note": self.ledger.blind("collusion.note", note)})
        await self._comment(db, who, alert, note)
        return alert

    async def dismiss(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, reason: str) -> Alert:
        reason = _text(reason, required=True)
        alert = await self.get(db, who, alert_id, DISMISS.action)
        alert.dismissed_reason = reason
        alert.decided_by, alert.decided_at = who.user_id, self.clock.now()
        return await self._move(
            db, who, alert, DISMISS, {"reason": self.ledger.blind("collusion.reason", reason)}
        )

    async def confirm(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, note: str = "") -> Alert:
        """Confirm: each suspected bidder gets a finding on its record and the tender's (archive)."""
        note = _text(note)
        alert = await self.get(db, who, alert_id, CONFIRM.action)
        now = self.clock.now()
        alert.decided_by, alert.decided_at = who.user_id, now
        await self._move(db, who, alert, CONFIRM)
        reasons = alert.result.get("reasons", [])
        for bidder in alert.suspects or ["*"]:
            mine = [r for r in reasons if bidder == "*" or bidder in r.get("bidders", [])] or reasons
            db.add(
                Finding(
                    alert_id=alert.id,
                    region_id=alert.region_id,
                    tender_key=alert.tender_key,
                    tender_id=alert.tender_id,
                    bidder_key=bidder,
                    company_id=as_uuid(bidder),
                    kinds=sorted(
                        {r["key"].split(".", 1)[1] for r in mine if r["key"].startswith("evidence.")}
                    ),
                    grounds=sorted({g for r in mine for g in r.get("grounds", [])}),
                    summary_zh="\n".join(r["zh"] for r in mine)[:MAX_TEXT],
                    summary_en="\n".join(r["en"] for r in mine)[:MAX_TEXT],
                    confirmed_by=who.user_id,
                    confirmed_at=now,
                )
            )
        await db.flush()
        if note:
            await self._comment(db, who, alert, note)
        return alert

    async def comment(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID, body: str) -> AlertComment:
        alert = await self.get(db, who, alert_id, COMMENT.action)
        return await self._comment(db, who, alert, _text(body, required=True))

    async def _comment(self, db: AsyncSession, who: Subject, alert: Alert, body: str) -> AlertComment:
        assert who.user_id is not None
        row = AlertComment(alert_id=alert.id, author_id=who.user_id, body=body, written_at=self.clock.now())
        db.add(row)
        await db.flush()
        blinded = {"comment": self.ledger.blind("collusion.comment", str(row.id), body)}
        await alert_ledger.record(self.ledger, db, alert, COMMENT, who.user_id, blinded)
        return row
