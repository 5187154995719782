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


def providers() -> list[Any]:
    """Who sits on a committee (bidding and collusion ask it), and evaluation's service, which
    reads the opened bids from bidding's hall."""
    from bidding.ports import COMMITTEE
    from bidding.service import Bidding
    from evaluation.access import committee_member
    from evaluation.service import Evaluation
    from tenderhall.registry import Provider

    return [
        Provider(COMMITTEE, lambda services: committee_member),
        Provider(
            Evaluation,
            lambda services, bidding: Evaluation.attach(services, bidding.opened),
            {"bidding": Bidding},
            dependency="evaluation",
        ),
    ]


async def sweep(services: Any) -> None:
    """Periodic housekeeping (the app's sweeper): retry emails whose retry time has come."""
    from evaluation.service import Evaluation

    await services.get(Evaluation).notifier.deliver_pending(services.sessionmaker, due_only=True)


async def seed_demo(db: Any, ctx: Any) -> None:
    from evaluation.demo import seed_experts

    await seed_experts(db, ctx)


async def seed_demo_tenders(db: Any, ctx: Any) -> None:
    from evaluation.demo import seed_evaluations

    await seed_evaluations(db, ctx)


async def work_items(db: Any, services: Any, who: Any) -> list[Any]:
    """What waits in evaluation for ``who`` (the "my work" page): seats, sheets, reports, decisions,
    draws to approve or witness."""
    from evaluation.work import work_items as items

    return await items(db, services, who)


async def notices(db: Any, services: Any, who: Any, locale: str) -> list[Any]:
    """The user's in-app notifications, kept by evaluation's notifier."""
    from evaluation.work import notices as mine

    return await mine(db, services, who, locale)


def policy_rules() -> list[Any]:
    """Evaluation's rows of the one policy table (the kernel assembles it)."""
    from evaluation.policy import rules

    return list(rules())


# Mounted lazily by the kernel's command line: name -> ("module:command", short help).
CLI_COMMANDS = {"draw": ("evaluation.cli:draw", "Verifiable expert draws.")}
