"""Collusion alerts on this tender: evidence kinds, legal grounds, the stored evidence graph, the
review history (the alert's ledger events and comments) and the outcome (findings)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from collusion.alert_ledger import alert_subject
from collusion.evidence import GROUNDS
from collusion.graph_views import stored_graph
from collusion.models import Alert, AlertComment, Finding
from tenderhall.ledger.models import LedgerEntry
from tenderhall.tenders.models import Tender

from .common import Edition, companies, person, user_names


@dataclass(frozen=True)
class Reason:
    kind: str
    hard: bool
    weight: float
    bidders: tuple[str, ...]  # company names
    grounds: tuple[str, ...]  # citations (instrument and article)
    explanation: str | None  # names accounts, addresses and persons: full edition only


@dataclass(frozen=True)
class ReviewStep:
    at: datetime
    kind: str  # the alert's ledger event kind (opened, review started, confirmed, ...)
    ledger_index: int
    actor: str | None


@dataclass(frozen=True)
class Comment:
    at: datetime
    author: str | None
    body: str


@dataclass(frozen=True)
class FindingRecord:
    company: str
    kinds: tuple[str, ...]
    grounds: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class AlertRecord:
    detected_at: datetime
    status: str
    level: str
    risk: float
    hard: bool
    kinds: tuple[str, ...]
    reasons: tuple[Reason, ...]
    graph: dict[str, Any]  # stored_graph with node names: what the reviewer saw
    history: tuple[ReviewStep, ...]
    comments: tuple[Comment, ...]  # full edition only
    dismissed_reason: str | None
    decided_at: datetime | None
    findings: tuple[FindingRecord, ...]


def _citation(code: str) -> str:
    ground = GROUNDS.get(code)
    return ground.citation if ground else code


async def gather(db: AsyncSession, tender: Tender, edition: Edition, locale: str) -> tuple[AlertRecord, ...]:
    full = edition is Edition.FULL
    out = []
    for alert in await db.scalars(
        select(Alert).where(Alert.tender_id == tender.id).order_by(Alert.detected_at, Alert.id)
    ):
        names = await companies(db, alert.bidders)

        def co(key: str, names: dict[str, str] = names) -> str:
            return names.get(key, key)

        graph = stored_graph(alert.result)
        for node in graph["nodes"]:
            node["name"] = co(node["id"])
        events = list(
            await db.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.subject == alert_subject(alert.id))
                .order_by(LedgerEntry.id)
            )
        )
        bodies = [json.loads(e.body) for e in events]
        comments = list(
            await db.scalars(
                select(AlertComment)
                .where(AlertComment.alert_id == alert.id)
                .order_by(AlertComment.written_at)
            )
        )
        findings = list(await db.scalars(select(Finding).where(Finding.alert_id == alert.id)))
        people = await user_names(
            db,
            [c.author_id for c in comments] + [uuid.UUID(b["actor"]) for b in bodies if b.get("actor")],
        )
        lang = "zh" if locale == "zh_CN" else "en"
        out.append(
            AlertRecord(
                alert.detected_at,
                alert.status,
                alert.level,
                alert.risk,
                alert.hard,
                tuple(alert.kinds),
                tuple(
                    Reason(
                        str(r.get("evidence", {}).get("kind") or r["key"].removeprefix("evidence.")),
                        bool(r.get("hard")),
                        float(r.get("weight", 0)),
                        tuple(co(b) for b in r.get("bidders", [])),
                        tuple(_citation(g) for g in r.get("grounds", [])),
                        str(r.get(lang, "")) if full else None,
                    )
                    for r in alert.result.get("reasons", [])
                ),
                graph,
                tuple(
                    ReviewStep(
                        datetime.fromisoformat(b["at"]),
                        b["kind"],
                        e.id,
                        person(edition, people, uuid.UUID(b["actor"]) if b.get("actor") else None),
                    )
                    for e, b in zip(events, bodies, strict=True)
                ),
                tuple(Comment(c.written_at, person(edition, people, c.author_id), c.body) for c in comments)
                if full
                else (),
                alert.dismissed_reason,
                alert.decided_at,
                tuple(
                    FindingRecord(
                        co(f.bidder_key),
                        tuple(f.kinds),
                        tuple(_citation(g) for g in f.grounds),
                        f.summary_zh if lang == "zh" else f.summary_en,
                    )
                    for f in findings
                ),
            )
        )
    return tuple(out)
