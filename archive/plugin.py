"""The archive package's contributions to the composition root (routes, models, CLI, demo data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_MODULES: tuple[str, ...] = ("archive.models",)
# Its messages (zh_CN, en), merged with the kernel's catalogue.
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
# Mounted lazily by the kernel's command line: name -> ("module:command", short help).
CLI_COMMANDS: dict[str, tuple[str, str]] = {
    "archive": ("archive.cli:archive", "Signed tender archives: build now, see their status."),
}


def __getattr__(name: str) -> Any:
    # Routes are imported only when the app is assembled (the command line never needs them).
    if name == "ROUTE_HANDLERS":
        from archive.api import ArchiveController

        return [ArchiveController]
    raise AttributeError(name)


def providers() -> list[Any]:
    """The archive's services: the build job (with its builder) and its kernel hooks."""
    from archive.jobs import Archives
    from archive.ports import BUILDER, ArchiveBuilder, NoBuilder
    from tenderhall.registry import Provider

    def build(services: Any, builder: ArchiveBuilder) -> Archives:
        archives = Archives(
            services.clock,
            services.ledger,
            services.storage,
            services.tenders,
            services.jobs,
            services.sessionmaker,
            builder,
        )
        archives.attach()
        return archives

    return [
        # The document and signing work replaces this provider with the real builder.
        Provider(BUILDER, lambda services: NoBuilder()),
        Provider(Archives, build, {"builder": BUILDER}, dependency="archives"),
    ]


async def seed_demo(db: Any, ctx: Any) -> None:
    """Archives are built from the other packages' demo tenders, after they exist."""


def policy_rules() -> list[Any]:
    """The archive's rows of the one policy table (the kernel assembles it)."""
    from archive.policy import rules

    return list(rules())
