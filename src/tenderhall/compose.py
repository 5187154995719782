"""The composition root's list of domain packages.

The kernel never imports ``bidding``, ``evaluation`` or ``collusion`` except here (and in
``app.py``/``cli.py``, which ask this module).  Each domain package offers a ``plugin`` module with
``ROUTE_HANDLERS`` (Litestar handlers), ``CLI_COMMANDS`` (click commands) and
``seed_demo(db, ctx)`` (adds its demo data on top of the kernel's).
"""

from __future__ import annotations

import importlib
from types import ModuleType

DOMAINS = ("bidding", "evaluation", "collusion")


def domain_plugins() -> list[ModuleType]:
    return [importlib.import_module(f"{name}.plugin") for name in DOMAINS]


def import_models() -> None:
    """Import every model module so the shared metadata knows all tables (Alembic, tests)."""
    for module in (
        "tenderhall.orgs.models",
        "tenderhall.auth.models",
        "tenderhall.tenders.models",
        "tenderhall.ledger.models",
    ):
        importlib.import_module(module)
    for plugin in domain_plugins():
        for module in getattr(plugin, "MODEL_MODULES", ()):
            importlib.import_module(module)
