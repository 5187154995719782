"""Rejections by rule: the bids evaluation rejects for their price, with ground and article."""

from __future__ import annotations

from decimal import Decimal

from evaluation.result import ABOVE_CEILING, ARTICLE_51_5, price_rejections


def test_a_price_above_the_ceiling_is_rejected_citing_article_51() -> None:
    prices = {"b": Decimal("1000.00"), "a": Decimal("1000.01")}
    assert price_rejections(prices, 100_000) == {
        "a": {"ground": ABOVE_CEILING, "article": ARTICLE_51_5, "price": "1000.01", "ceiling": "1000.00"}
    }
