"""Collusion's contributions to the composition root (routes, CLI, demo data)."""

from __future__ import annotations

from typing import Any

ROUTE_HANDLERS: list[Any] = []
MODEL_MODULES: tuple[str, ...] = ()


def cli_commands() -> list[Any]:
    try:
        from collusion.cli import collusion
    except ImportError:  # the command group lands with the detector work
        return []
    return [collusion]


async def seed_demo(db: Any, ctx: Any) -> None:
    """The demo cartel arrives with the detector work."""
