"""Evaluation's contributions to the composition root (routes, models, CLI, service, demo data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_MODULES: tuple[str, ...] = ("evaluation.models",)
# Its messages (zh_CN, en), merged with the kernel's catalogue.
LOCALE_DIR = Path(__file__).resolve().parent / "locales"


def __getattr__(name: str) -> Any:
    # Routes are imported lazily so that importing the plugin (Alembic, CLI) stays light.
    if name == "ROUTE_HANDLERS":
        from evaluation.api import ROUTES

        return list(ROUTES)
    raise AttributeError(name)


def make_service(services: Any) -> Any:
    from bidding.service import Bidding
    from evaluation.opened import OpenedBidSource
    from evaluation.service import Evaluation

    # Compose builds bidding first: the opened bids come from its hall, and bidding asks
    # evaluation who sits on a committee (to let that committee, only, read the bids).
    bidding: Bidding | None = services.domain.get("bidding")
    source: OpenedBidSource | None = bidding.opened if bidding is not None else None
    evaluation = Evaluation.attach(services, source)
    if bidding is not None:
        bidding.use_committee(evaluation.committee_member)
    return evaluation


async def sweep(services: Any) -> None:
    """Periodic housekeeping (the app's sweeper): retry emails whose retry time has come."""
    await services.domain["evaluation"].notifier.deliver_pending(services.sessionmaker, due_only=True)


async def seed_demo(db: Any, ctx: Any) -> None:
    from evaluation.demo import seed_experts

    await seed_experts(db, ctx)


async def seed_demo_tenders(db: Any, ctx: Any) -> None:
    from evaluation.demo import seed_evaluations

    await seed_evaluations(db, ctx)


def policy_rules() -> list[Any]:
    """Evaluation's rows of the one policy table (the kernel assembles it)."""
    from evaluation.policy import rules

    return list(rules())


# Mounted lazily by the kernel's command line: name -> ("module:command", short help).
CLI_COMMANDS = {"draw": ("evaluation.cli:draw", "Verifiable expert draws.")}
