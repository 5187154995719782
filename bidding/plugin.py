"""Bidding's contributions to the composition root (routes, models, CLI, service, demo data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_MODULES: tuple[str, ...] = ("bidding.models",)
# Its messages (zh_CN, en), merged with the kernel's catalogue.
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
# Page templates and browser assets (the opening hall page), served beside the kernel's.
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def __getattr__(name: str) -> Any:
    # ROUTE_HANDLERS is imported lazily so that importing the plugin (Alembic, CLI) stays light.
    if name == "ROUTE_HANDLERS":
        from bidding.api import ROUTES
        from bidding.pages import PAGES

        return [*ROUTES, *PAGES]
    raise AttributeError(name)


def providers() -> list[Any]:
    """Bidding's service; it asks evaluation's committee lookup who may read opened bids."""
    from bidding.ports import COMMITTEE
    from bidding.service import Bidding
    from tenderhall.registry import Provider

    return [Provider(Bidding, Bidding.attach, {"committee": COMMITTEE}, dependency="bidding")]


async def seed_demo(db: Any, ctx: Any) -> None:
    return None  # sealed bids need tenders: see seed_demo_tenders


async def seed_demo_tenders(db: Any, ctx: Any) -> None:
    from bidding.demo import seed_bids

    await seed_bids(db, ctx)


def use_channels(services: Any, channels: Any) -> None:
    """The app's channels plugin carries the opening hall's live events (see bidding.live)."""
    from bidding.service import Bidding

    services.get(Bidding).hall.live.channels = channels


async def sweep(services: Any) -> None:
    """Periodic housekeeping (the app's sweeper): partial uploads left behind at the deadline."""
    from bidding.service import Bidding

    await services.get(Bidding).sweep_uploads()


def check_integrity(services: Any, db: Any) -> Any:
    """Every bid's envelope and receipt against storage and the ledger (restore drills, audits)."""
    from bidding.integrity import check_bids

    return check_bids(services, db)


async def work_items(db: Any, services: Any, who: Any) -> list[Any]:
    """What waits in bidding for ``who`` (the "my work" page): bids, halls, shares, objections."""
    from bidding.work import work_items as items

    return await items(db, services, who)


def policy_rules() -> list[Any]:
    """Bidding's rows of the one policy table (the kernel assembles it)."""
    from bidding.policy import rules

    return list(rules())


# Mounted lazily by the kernel's command line: name -> ("module:command", short help).
CLI_COMMANDS = {
    "bid": (
        "bidding.client.cli:bid",
        "Bidder client: keys, sealing, submission, receipts and decryption at opening.",
    ),
    "release-share": (
        "bidding.client.cli:release_share",
        "Custodians: release your key share (same as `bid release-share`).",
    ),
}
