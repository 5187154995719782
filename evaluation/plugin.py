"""Evaluation's contributions to the composition root (routes, CLI, demo data)."""

from __future__ import annotations

from typing import Any

ROUTE_HANDLERS: list[Any] = []
MODEL_MODULES: tuple[str, ...] = ("evaluation.models",)


async def seed_demo(db: Any, ctx: Any) -> None:
    from evaluation.demo import seed_experts

    await seed_experts(db, ctx)


def cli_commands() -> list[Any]:
    return []
