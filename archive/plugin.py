"""The archive package's contributions to the composition root (routes, models, CLI, demo data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_MODULES: tuple[str, ...] = ()
# Its messages (zh_CN, en), merged with the kernel's catalogue.
LOCALE_DIR = Path(__file__).resolve().parent / "locales"


def __getattr__(name: str) -> Any:
    # Routes are imported lazily so that importing the plugin (Alembic, CLI) stays light.
    if name == "ROUTE_HANDLERS":
        from archive.ocds.api import OcdsController

        return [OcdsController]
    raise AttributeError(name)


# Mounted lazily by the kernel's command line: name -> ("module:command", short help).
CLI_COMMANDS: dict[str, tuple[str, str]] = {}


async def seed_demo(db: Any, ctx: Any) -> None:
    """Archives are built from the other packages' demo tenders, after they exist."""


def policy_rules() -> list[Any]:
    """The archive's rows of the one policy table (the kernel assembles it)."""
    from archive.policy import rules

    return list(rules())
