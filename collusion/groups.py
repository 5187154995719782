"""Evidence graph view and suspect groups: pairs' evidence as a networkx graph, Louvain communities,
and the JSON view the web UI draws."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from collusion.evidence import Evidence, EvidenceKind, Level, score_edge
from collusion.records import CompanyRecord


def graph_from_evidence(
    evidence: Iterable[Evidence], companies: Mapping[str, CompanyRecord] | None = None
) -> nx.Graph:
    """Nodes = companies with evidence; one edge per pair carrying its items, score, level and kinds."""
    by_pair: dict[tuple[str, str], list[Evidence]] = defaultdict(list)
    for e in evidence:
        if e.a != e.b:
            by_pair[e.pair].append(e)
    g = nx.Graph()
    for (a, b), items in by_pair.items():
        s = score_edge(items)
        g.add_edge(a, b, evidence=items, weight=s.score, level=s.level, hard=s.hard, kinds=list(s.kinds))
    for n in g.nodes:
        c = (companies or {}).get(n)
        g.nodes[n]["name"] = c.name if c else ""
        g.nodes[n]["credit_code"] = c.credit_code if c else ""
    return g


@dataclass(frozen=True, slots=True)
class SuspectGroup:
    group_id: int
    members: tuple[str, ...]
    level: Level
    hard: bool
    score: float  # strongest internal edge
    kinds: tuple[EvidenceKind, ...]


_RANK = {Level.HIGH: 2, Level.MEDIUM: 1, Level.LOW: 0}


def suspect_groups(g: nx.Graph, *, seed: int = 0, min_weight: float = 0.3) -> list[SuspectGroup]:
    """Louvain communities (seeded) over edges of at least min_weight; a hard-evidence component is never
    split across groups (communities touching one are merged)."""
    h = nx.Graph()
    h.add_edges_from((a, b, d) for a, b, d in g.edges(data=True) if d["hard"] or d["weight"] >= min_weight)
    if h.number_of_edges() == 0:
        return []
    comms = nx.community.louvain_communities(h, weight="weight", seed=seed)
    owner = {n: i for i, c in enumerate(comms) for n in c}
    root = list(range(len(comms)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for a, b, d in h.edges(data=True):
        if d["hard"]:
            root[find(owner[a])] = find(owner[b])
    merged: dict[int, set[str]] = defaultdict(set)
    for n, i in owner.items():
        merged[find(i)].add(n)
    out: list[SuspectGroup] = []
    for members in merged.values():
        if len(members) < 2:
            continue
        edges = [d for _, _, d in h.subgraph(members).edges(data=True)]
        if not edges:
            continue
        level = max((d["level"] for d in edges), key=_RANK.__getitem__)
        kinds = sorted({k for d in edges for k in d["kinds"]})
        out.append(
            SuspectGroup(
                0,
                tuple(sorted(members)),
                level,
                any(d["hard"] for d in edges),
                max(d["weight"] for d in edges),
                tuple(kinds),
            )
        )
    out.sort(key=lambda s: (-_RANK[s.level], -s.score, -len(s.members), s.members))
    return [SuspectGroup(i + 1, s.members, s.level, s.hard, s.score, s.kinds) for i, s in enumerate(out)]


def graph_view(g: nx.Graph, groups: Sequence[SuspectGroup] | None = None) -> dict[str, object]:
    """JSON-able view for the web UI: nodes, edges with their evidence (explained), groups."""
    group_of = {m: s.group_id for s in groups or () for m in s.members}
    nodes = [
        {
            "id": n,
            "name": d.get("name", ""),
            "credit_code": d.get("credit_code", ""),
            "group": group_of.get(n),
            "degree": g.degree(n),
        }
        for n, d in sorted(g.nodes(data=True))
    ]
    edges = [
        {
            "source": a,
            "target": b,
            "weight": round(d["weight"], 4),
            "level": d["level"].value,
            "hard": d["hard"],
            "kinds": [k.value for k in d["kinds"]],
            "evidence": [e.to_json() for e in d["evidence"]],
        }
        for a, b, d in sorted(g.edges(data=True), key=lambda x: (x[0], x[1]))
    ]
    gs = [
        {
            "id": s.group_id,
            "members": list(s.members),
            "level": s.level.value,
            "hard": s.hard,
            "score": round(s.score, 4),
            "kinds": [k.value for k in s.kinds],
        }
        for s in groups or ()
    ]
    return {"nodes": nodes, "edges": edges, "groups": gs}


__all__ = ["SuspectGroup", "graph_from_evidence", "graph_view", "suspect_groups"]
