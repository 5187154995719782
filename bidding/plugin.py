"""Bidding's contributions to the composition root (routes, CLI, demo data)."""

from __future__ import annotations

from typing import Any

ROUTE_HANDLERS: list[Any] = []
MODEL_MODULES: tuple[str, ...] = ()


async def seed_demo(db: Any, ctx: Any) -> None:
    """Sealed-bid demo data arrives with the sealed-bids work."""


def cli_commands() -> list[Any]:
    return []
