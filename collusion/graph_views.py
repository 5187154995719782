"""Graph views for the API: one alert's graph as it was detected, and the region's graph today."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from collusion import access
from collusion.alert_views import company_names
from collusion.alerts import AlertReview
from collusion.groups import graph_view, suspect_groups
from collusion.history import RegionHistory
from tenderhall.auth.policy import Subject, enforce


def stored_graph(result: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the view from the stored evidence JSON (what the reviewer saw, not today's graph)."""
    nodes = sorted(set(result.get("bidders", [])))
    edges: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in result.get("reasons", []):
        e = r.get("evidence")
        if e:
            a, b = sorted((e["a"], e["b"]))
            edges.setdefault((a, b), []).append(e)
    group_of = {m: g["id"] for g in result.get("groups", []) for m in g["members"]}
    return {
        "nodes": [{"id": n, "group": group_of.get(n)} for n in nodes],
        "edges": [
            {
                "source": a,
                "target": b,
                "hard": any(x["hard"] for x in items),
                "kinds": sorted({x["kind"] for x in items}),
                "evidence": items,
            }
            for (a, b), items in sorted(edges.items())
        ],
        "groups": result.get("groups", []),
    }


class GraphViews:
    def __init__(self, review: AlertReview, history: RegionHistory) -> None:
        self.review = review
        self.history = history

    async def alert_graph(self, db: AsyncSession, who: Subject, alert_id: uuid.UUID) -> dict[str, Any]:
        """Nodes (named where the company is registered), edges, evidence and groups of the alert."""
        alert = await self.review.get(db, who, alert_id)
        view = stored_graph(alert.result)
        names = await company_names(db, alert.bidders)
        for n in view["nodes"]:
            n["name"] = names.get(n["id"], "")
        return view

    async def region_graph(
        self, db: AsyncSession, who: Subject, region_id: uuid.UUID | None = None, min_weight: float = 0.5
    ) -> dict[str, object]:
        """The region's evidence graph: edges of at least ``min_weight``, or hard."""
        region = region_id or who.region_id
        enforce(who, "collusion.graph.view", access.graph_resource(region))
        assert region is not None
        det = await self.history.detector(db, region)
        g = det.index.graph()
        keep = [(a, b) for a, b, d in g.edges(data=True) if d["hard"] or d["weight"] >= min_weight]
        h = g.edge_subgraph(keep).copy()
        return graph_view(h, suspect_groups(h, seed=self.history.params.seed))
