"""Collusion's contributions to the composition root (routes, models, CLI, service, demo data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_MODULES: tuple[str, ...] = ("collusion.models",)
# Its messages (zh_CN, en), merged with the kernel's catalogue.
LOCALE_DIR = Path(__file__).resolve().parent / "locales"


def __getattr__(name: str) -> Any:
    # Routes are imported lazily so that importing the plugin (Alembic, CLI) stays light.
    if name == "ROUTE_HANDLERS":
        from collusion.api import ROUTES

        return list(ROUTES)
    raise AttributeError(name)


def providers() -> list[Any]:
    """Collusion's service: opened bids and their submission evidence come from bidding; the
    committee may read confirmed findings of its tender (evaluation knows who sits on it)."""
    from bidding.ports import COMMITTEE
    from bidding.service import Bidding
    from collusion.bidding_source import BiddingEvidence
    from collusion.service import Collusion
    from tenderhall.registry import Provider

    def build(services: Any, bidding: Bidding, committee: Any) -> Collusion:
        return Collusion.attach(services, BiddingEvidence(bidding), committee)

    return [Provider(Collusion, build, {"bidding": Bidding, "committee": COMMITTEE}, dependency="collusion")]


async def work_items(db: Any, services: Any, who: Any) -> list[Any]:
    """Alerts waiting for ``who`` (the "my work" page)."""
    from collusion.work import work_items as items

    return await items(db, services, who)


def policy_rules() -> list[Any]:
    """Collusion's rows of the one policy table (the kernel assembles it)."""
    from collusion.policy import rules

    return list(rules())


# Mounted lazily by the kernel's command line: name -> ("module:command", short help).
# cli_score adds `score` and `import` to the group defined in collusion.cli.
CLI_COMMANDS = {
    "collusion": (
        "collusion.cli_score:collusion",
        "Collusion screens: train and benchmark the price-screen model.",
    ),
}


async def seed_demo(db: Any, ctx: Any) -> None:
    from collusion.demo import seed_cartel

    await seed_cartel(db, ctx)
