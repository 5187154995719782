"""The build-time pictures: the bid-price chart and the evidence graph (pure SVG)."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

from archive.charts import evidence_graph, price_chart


def test_the_price_chart_has_a_bar_per_bid_cheapest_first_and_the_ceiling() -> None:
    svg = price_chart(
        [("乙公司", Decimal("200")), ("甲公司", Decimal("100"))],
        Decimal("250"),
        ceiling_label="限价",
        unit="元",
    )
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    bars = root.findall(f"{ns}rect")
    assert len(bars) == 2
    assert float(bars[0].get("width", 0)) < float(bars[1].get("width", 0))
    texts = [t.text for t in root.findall(f"{ns}text")]
    assert texts.index("甲公司") < texts.index("乙公司")
    assert "限价" in texts
    assert root.findall(f"{ns}line")


def test_names_are_escaped_not_markup() -> None:
    svg = price_chart([("<script>&", Decimal("1"))], None, ceiling_label="c", unit="u")
    assert "<script>" not in svg
    assert "&lt;script&gt;&amp;" in svg
    ElementTree.fromstring(svg)  # still well-formed


def test_nothing_to_draw_draws_nothing() -> None:
    assert price_chart([], Decimal("1"), ceiling_label="c", unit="u") == ""
    assert price_chart([("a", Decimal("0"))], None, ceiling_label="c", unit="u") == ""
    assert evidence_graph({"nodes": [], "edges": []}) == ""


def test_the_evidence_graph_draws_hard_and_soft_edges_apart() -> None:
    graph = {
        "nodes": [{"id": "a", "name": "甲", "group": 1}, {"id": "b", "name": "乙", "group": 1}, {"id": "c"}],
        "edges": [
            {"source": "a", "target": "b", "hard": True, "kinds": ["shared_ip"]},
            {"source": "b", "target": "c", "hard": False, "kinds": ["regular_price_steps"]},
        ],
    }
    root = ElementTree.fromstring(evidence_graph(graph))
    ns = "{http://www.w3.org/2000/svg}"
    lines = root.findall(f"{ns}line")
    assert len(lines) == 2
    assert len(root.findall(f"{ns}circle")) == 3
    assert lines[0].get("stroke") == "#b22"
    assert lines[1].get("stroke-dasharray")
    assert {"甲", "乙", "c"} <= {t.text for t in root.findall(f"{ns}text")}


def test_edges_are_named_in_the_readers_language() -> None:
    graph = {
        "nodes": [{"id": "a"}, {"id": "b"}],
        "edges": [{"source": "a", "target": "b", "hard": True, "kinds": ["shared_ip", "shared_agent"]}],
    }
    names = {"shared_ip": "同一 IP 地址", "shared_agent": "同一委托代理人"}
    svg = evidence_graph(graph, lambda kind: names[kind])
    assert "同一 IP 地址、同一委托代理人" in svg
    assert "shared_ip" not in svg
