"""Collusion API: alert lists and detail, the review workflow, graph views, findings.

Every route answers 404 to roles the policy does not grant ``collusion.alert.view`` (bidders above
all), so the existence of an alert never leaks.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.models import Alert, AlertComment, Finding, HistoryBid
from collusion.service import Collusion
from tenderhall.auth.policy import Subject
from tenderhall.orgs.models import Company
from tenderhall.services import Services
from tenderhall.web.api.schemas import Input, PageLimit, PageOffset

Text = Annotated[str, msgspec.Meta(max_length=4000)]

ACTIONS = ("assign", "review", "comment", "confirm", "dismiss", "escalate")


def svc(services: Services) -> Collusion:
    return services.get(Collusion)


class AssignIn(Input):
    assignee_id: uuid.UUID


class NoteIn(Input):
    note: Text = ""


class ReasonIn(Input):
    reason: Text


class CommentIn(Input):
    body: Text


def alert_out(c: Collusion, who: Subject, a: Alert, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(a.id),
        "tender_key": a.tender_key,
        "tender_id": str(a.tender_id) if a.tender_id else None,
        "centre_id": str(a.centre_id),
        "status": a.status,
        "level": a.level,
        "risk": round(a.risk, 4),
        "hard": a.hard,
        "kinds": a.kinds,
        "suspects": a.suspects,
        "assignee_id": str(a.assignee_id) if a.assignee_id else None,
        "detected_at": a.detected_at.isoformat(),
        "escalated_at": a.escalated_at.isoformat() if a.escalated_at else None,
        "decided_at": a.decided_at.isoformat() if a.decided_at else None,
        "dismissed_reason": a.dismissed_reason,
        "version": a.version,
        "actions": [x for x in ACTIONS if c.can(who, f"collusion.alert.{x}", a)],
    }
    if full:
        out["bidders"] = a.bidders
        out["reasons"] = a.result.get("reasons", [])
        out["groups"] = a.result.get("groups", [])
        out["screen_risk"] = a.result.get("screen_risk")
        out["graph_score"] = a.result.get("graph_score")
    return out


def finding_out(f: Finding) -> dict[str, Any]:
    return {
        "id": str(f.id),
        "alert_id": str(f.alert_id),
        "tender_key": f.tender_key,
        "tender_id": str(f.tender_id) if f.tender_id else None,
        "bidder_key": f.bidder_key,
        "company_id": str(f.company_id) if f.company_id else None,
        "kinds": f.kinds,
        "grounds": f.grounds,
        "summary_zh": f.summary_zh,
        "summary_en": f.summary_en,
        "confirmed_at": f.confirmed_at.isoformat(),
    }


def comment_out(c: AlertComment) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "author_id": str(c.author_id),
        "body": c.body,
        "written_at": c.written_at.isoformat(),
    }


async def _names(db: AsyncSession, keys: list[str]) -> dict[str, str]:
    ids = []
    for k in keys:
        try:
            ids.append(uuid.UUID(k))
        except ValueError:
            continue
    if not ids:
        return {}
    rows = await db.execute(select(Company.id, Company.name).where(Company.id.in_(ids)))
    return {str(i): n for i, n in rows.tuples()}


class CollusionController(Controller):
    path = "/api/collusion"
    tags = ["collusion"]

    @get("/alerts", summary="Alerts visible to the caller (centre staff: own centre; supervisors: region)")
    async def list_alerts(
        self,
        services: Services,
        who: Subject,
        db_session: AsyncSession,
        status: str | None = None,
        level: str | None = None,
        kind: str | None = None,
        centre_id: uuid.UUID | None = None,
        tender_id: uuid.UUID | None = None,
        company_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        limit: PageLimit = 20,
        offset: PageOffset = 0,
    ) -> dict[str, Any]:
        c = svc(services)
        page = await c.search(
            db_session,
            who,
            status=status,
            level=level,
            kind=kind,
            centre_id=centre_id,
            tender_id=tender_id,
            company_id=company_id,
            assignee_id=assignee_id,
            limit=limit,
            offset=offset,
        )
        return {
            "items": [alert_out(c, who, a) for a in page.items],
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }

    @get("/alerts/{alert_id:uuid}", summary="One alert with its reasons, evidence and the tender's bids")
    async def show(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID
    ) -> dict[str, Any]:
        c = svc(services)
        a = await c.get(db_session, who, alert_id)
        out = alert_out(c, who, a, full=True)
        names = await _names(db_session, list(a.bidders))
        out["bidder_names"] = names
        rows = await db_session.scalars(
            select(HistoryBid)
            .where(HistoryBid.region_id == a.region_id, HistoryBid.tender_key == a.tender_key)
            .order_by(HistoryBid.price)
        )
        # The inspectable evidence behind the reasons: which IP, device, bond account, documents.
        out["bids"] = [
            {
                "bidder_key": r.bidder_key,
                "name": names.get(r.bidder_key, r.bidder_name),
                "price": r.price,
                "winner": r.is_winner,
                "ip": r.ip,
                "device": r.device,
                "bond_account": r.bond_account,
                "documents": (r.extra or {}).get("documents", []),
                "doc_author": (r.extra or {}).get("doc_author", ""),
                "doc_tool": (r.extra or {}).get("doc_tool", ""),
                "doc_created": (r.extra or {}).get("doc_created", ""),
                "source": r.source,
            }
            for r in rows
        ]
        out["comments"] = [comment_out(x) for x in await c.comments(db_session, a)]
        return out

    @get("/alerts/{alert_id:uuid}/graph", summary="Graph view of the alert: nodes, edges, evidence, groups")
    async def alert_graph(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID
    ) -> dict[str, Any]:
        c = svc(services)
        a = await c.get(db_session, who, alert_id)
        view = c.alert_graph(a)
        names = await _names(db_session, list(a.bidders))
        for n in view["nodes"]:  # type: ignore[attr-defined]
            n["name"] = names.get(n["id"], n.get("name", ""))
        return view

    @get("/alerts/{alert_id:uuid}/history", summary="The alert's ledger events")
    async def history(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID
    ) -> list[dict[str, Any]]:
        c = svc(services)
        a = await c.get(db_session, who, alert_id)
        return [
            {"index": e.id, "kind": e.kind, "body": msgspec.json.decode(e.body)}
            for e in await c.history(db_session, a)
        ]

    @post("/alerts/{alert_id:uuid}/assign", status_code=200)
    async def assign(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID, data: AssignIn
    ) -> dict[str, Any]:
        c = svc(services)
        return alert_out(c, who, await c.assign(db_session, who, alert_id, data.assignee_id))

    @post("/alerts/{alert_id:uuid}/review", status_code=200)
    async def review(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID
    ) -> dict[str, Any]:
        c = svc(services)
        return alert_out(c, who, await c.start_review(db_session, who, alert_id))

    @post("/alerts/{alert_id:uuid}/confirm", status_code=200)
    async def confirm(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID, data: NoteIn
    ) -> dict[str, Any]:
        c = svc(services)
        return alert_out(c, who, await c.confirm(db_session, who, alert_id, data.note))

    @post("/alerts/{alert_id:uuid}/dismiss", status_code=200)
    async def dismiss(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID, data: ReasonIn
    ) -> dict[str, Any]:
        c = svc(services)
        return alert_out(c, who, await c.dismiss(db_session, who, alert_id, data.reason))

    @post("/alerts/{alert_id:uuid}/escalate", status_code=200)
    async def escalate(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID, data: NoteIn
    ) -> dict[str, Any]:
        c = svc(services)
        return alert_out(c, who, await c.escalate(db_session, who, alert_id, data.note))

    @post("/alerts/{alert_id:uuid}/comments", status_code=201)
    async def comment(
        self, services: Services, who: Subject, db_session: AsyncSession, alert_id: uuid.UUID, data: CommentIn
    ) -> dict[str, Any]:
        return comment_out(await svc(services).comment(db_session, who, alert_id, data.body))

    @get("/graph", summary="The region's evidence graph (edges of at least min_weight, or hard)")
    async def region_graph(
        self,
        services: Services,
        who: Subject,
        db_session: AsyncSession,
        min_weight: Annotated[float, Parameter(ge=0, le=1)] = 0.5,
    ) -> dict[str, Any]:
        return await svc(services).region_graph(db_session, who, min_weight=min_weight)

    @post("/tenders/{tender_id:uuid}/check", status_code=200, summary="Run the detector on an opened tender")
    async def check(
        self, services: Services, who: Subject, db_session: AsyncSession, tender_id: uuid.UUID
    ) -> dict[str, Any]:
        tender = await services.tenders.load(db_session, who, tender_id, "collusion.run")
        result = await svc(services).run_tender(db_session, tender, who.user_id)
        if result is None:
            return {"tender_id": str(tender.id), "checked": False}
        return {
            "tender_id": str(tender.id),
            "checked": True,
            "level": result.level.value,
            "risk": result.risk,
        }

    @get("/tenders/{tender_id:uuid}/findings", summary="Confirmed findings of a tender (committee, staff)")
    async def tender_findings(
        self, services: Services, who: Subject, db_session: AsyncSession, tender_id: uuid.UUID
    ) -> list[dict[str, Any]]:
        return [finding_out(f) for f in await svc(services).tender_findings(db_session, who, tender_id)]

    @get("/companies/{company_id:uuid}/findings", summary="A bidder's record of confirmed findings")
    async def company_findings(
        self, services: Services, who: Subject, db_session: AsyncSession, company_id: uuid.UUID
    ) -> list[dict[str, Any]]:
        return [finding_out(f) for f in await svc(services).company_findings(db_session, who, company_id)]


ROUTES = [CollusionController]
__all__ = ["ROUTES"]
