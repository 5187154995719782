"""The archive package's contributions to the composition root (routes, models, CLI, demo data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_MODULES: tuple[str, ...] = ("archive.models",)
# Its messages (zh_CN, en), merged with the kernel's catalogue.
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
# Its page templates (archive/verify.html.jinja), served after the kernel's own.
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def __getattr__(name: str) -> Any:
    # ROUTE_HANDLERS is imported lazily so that importing the plugin (Alembic, CLI) stays light.
    if name == "ROUTE_HANDLERS":
        from archive.api import ArchiveController
        from archive.ocds.api import OcdsController
        from archive.pages import PAGES

        return [OcdsController, ArchiveController, *PAGES]
    raise AttributeError(name)


# Mounted lazily by the kernel's command line: name -> ("module:command", short help).
# cli_build adds `build` (and the status commands) to the group defined in archive.cli.
CLI_COMMANDS: dict[str, tuple[str, str]] = {
    "archive": (
        "archive.cli_build:archive",
        "The signed tender archive (一标一档): build, verify, the signing certificate.",
    ),
}


def providers() -> list[Any]:
    """The archive signer (made on first start beside the other secrets), the builder of signed
    archives, and the build job with its kernel hooks."""
    from archive.build import SignedArchiveBuilder
    from archive.jobs import Archives
    from archive.ports import BUILDER, ArchiveBuilder
    from archive.signing import ArchiveSigning
    from tenderhall.registry import Provider

    def signing(services: Any) -> ArchiveSigning:
        s = services.settings
        host = s.ledger_origin.split("/", 1)[0] or "tenderhall"
        return ArchiveSigning.from_settings(s.secrets_dir, host, s.tsa_url, s.tsa_trust)

    def builder(services: Any, signing: ArchiveSigning) -> ArchiveBuilder:
        return SignedArchiveBuilder(services, signing)

    def archives(services: Any, builder: ArchiveBuilder) -> Archives:
        made = Archives(
            services.clock,
            services.ledger,
            services.storage,
            services.tenders,
            services.jobs,
            services.sessionmaker,
            builder,
        )
        made.attach()
        return made

    return [
        Provider(ArchiveSigning, signing),
        Provider(BUILDER, builder, {"signing": ArchiveSigning}),
        Provider(Archives, archives, {"builder": BUILDER}, dependency="archives"),
    ]


async def seed_demo(db: Any, ctx: Any) -> None:
    """Archives are built from the other packages' demo tenders, after they exist."""


def policy_rules() -> list[Any]:
    """The archive's rows of the one policy table (the kernel assembles it)."""
    from archive.policy import rules

    return list(rules())
