"""Pictures drawn at build time as SVG (pure): the bid-price chart and an alert's evidence graph.

WeasyPrint draws inline SVG as vector graphics with the document's embedded fonts, so the pictures
stay sharp and their labels extract as text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import networkx as nx

FONT = "'Noto Sans CJK SC', 'Noto Sans', sans-serif"
_W = 640


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "start", fill: str = "#222") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
        f'font-family="{FONT}">{escape(text)}</text>'
    )


def price_chart(
    bids: Sequence[tuple[str, Decimal]], ceiling: Decimal | None, *, ceiling_label: str, unit: str
) -> str:
    """Horizontal bars, one per bid (name, price in yuan), cheapest first; a dashed line marks the
    ceiling (the estimate) when it is known.  An empty string when there is no price to draw."""
    rows = sorted(bids, key=lambda b: (b[1], b[0]))
    if not rows:
        return ""
    top = max([p for _, p in rows] + ([ceiling] if ceiling else []))
    if top <= 0:
        return ""
    # Bids of one tender lie close together: the axis starts a little below the cheapest so their
    # differences show (every bar is labelled with its exact price, so no length misleads alone).
    low = min(p for _, p in rows) * Decimal("0.9")
    span_value = top - low
    left, right, bar, gap = 230, 90, 16, 6
    span = _W - left - right
    height = 30 + len(rows) * (bar + gap) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
        f'viewBox="0 0 {_W} {height}" role="img">',
        _text(left, 14, unit, size=10, fill="#555"),
    ]
    for k, (name, price) in enumerate(rows):
        y = 24 + k * (bar + gap)
        width = max(float((price - low) / span_value) * span, 2.0)
        parts.append(f'<rect x="{left}" y="{y}" width="{width:.1f}" height="{bar}" fill="#3b6ea5"/>')
        parts.append(_text(left - 6, y + bar - 4, name[:18], anchor="end"))
        parts.append(_text(left + width + 4, y + bar - 4, f"{price:,.2f}", size=10))
    if ceiling:
        x = left + float((ceiling - low) / span_value) * span
        bottom = 24 + len(rows) * (bar + gap)
        parts.append(
            f'<line x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{bottom}" stroke="#b22" stroke-dasharray="4 3"/>'
        )
        parts.append(_text(x, bottom + 14, ceiling_label, size=10, anchor="middle", fill="#b22"))
    parts.append("</svg>")
    return "".join(parts)


def evidence_graph(graph: dict[str, Any], label: Callable[[str], str] = str, *, size: int = 420) -> str:
    """The alert's bidders on a circle (networkx's layout), an edge per pair with evidence: solid
    red for hard evidence, dashed grey for soft, named by ``label`` in the reader's language; the
    members of a suspect group share a colour."""
    nodes = graph.get("nodes", [])
    if not nodes:
        return ""
    g: nx.Graph[str] = nx.Graph()
    g.add_nodes_from(n["id"] for n in nodes)
    pos = nx.circular_layout(g, scale=size / 2 - 90, center=(size / 2 + 40, size / 2))
    palette = ("#d98c1f", "#2f8f5b", "#7b4fa8", "#c2452d", "#3b6ea5")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 80}" height="{size}" '
        f'viewBox="0 0 {size + 80} {size}" role="img">'
    ]
    for e in graph.get("edges", []):
        (x1, y1), (x2, y2) = pos[e["source"]], pos[e["target"]]
        style = (
            'stroke="#b22" stroke-width="2.5"' if e.get("hard") else 'stroke="#888" stroke-dasharray="5 4"'
        )
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {style}/>')
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        parts.append(
            _text(
                mx,
                my - 3,
                "、".join(label(k) for k in e.get("kinds", [])),
                size=8,
                anchor="middle",
                fill="#555",
            )
        )
    for n in nodes:
        x, y = pos[n["id"]]
        group = n.get("group")
        fill = palette[(int(group) - 1) % len(palette)] if group else "#bbb"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{fill}" stroke="#333"/>')
        parts.append(_text(x, y + 22, str(n.get("name") or n["id"])[:16], size=10, anchor="middle"))
    parts.append("</svg>")
    return "".join(parts)
