"""Augmenting-path maximum flow for the draw's quota feasibility checks (graphs of < 200 nodes)."""

from __future__ import annotations


def max_flow(cap: dict[int, dict[int, int]], source: int, sink: int, want: int) -> tuple[int, set[int]]:
    """Augmenting-path max flow (graphs here have < 200 nodes and flow <= committee size).

    Mutates `cap` into the residual graph; returns the flow and the nodes reachable from the source
    in the final residual graph (the source side of a minimum cut).
    """
    flow = 0
    while flow < want:
        parent = {source: source}
        stack = [source]
        while stack and sink not in parent:
            u = stack.pop()
            for v, c in cap[u].items():
                if c > 0 and v not in parent:
                    parent[v] = u
                    stack.append(v)
        if sink not in parent:
            return flow, set(parent)
        path, v = [], sink
        while v != source:
            path.append((parent[v], v))
            v = parent[v]
        push = min(cap[u][w] for u, w in path)
        for u, w in path:
            cap[u][w] -= push
            cap[w][u] = cap[w].get(u, 0) + push
        flow += push
    return flow, set()
