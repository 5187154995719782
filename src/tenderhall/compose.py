"""The composition root's list of domain packages.

The kernel never imports ``bidding``, ``evaluation`` or ``collusion`` except here (and in
``app.py``/``cli.py``, which ask this module).  Each domain package offers a ``plugin`` module with
``ROUTE_HANDLERS`` (Litestar handlers, imported lazily), ``CLI_COMMANDS`` (name → ("module:command",
short help): the command line imports a domain's commands only when they run) and
``seed_demo(db, ctx)`` (adds its demo data on top of the kernel's organisations); optionally
``seed_demo_tenders(db, ctx)`` (runs after the kernel's demo tenders exist; it may register
stories on the demo's shared timeline with ``ctx.story``), ``MODEL_MODULES``,
``providers()`` (the services it builds and what each needs, see ``tenderhall.registry``:
``build_services`` makes them in dependency order, reachable as ``services.get(<class>)``),
``policy_rules()`` (its rows of the one policy table, see ``tenderhall.auth.policy.policy``) and
``LOCALE_DIR`` (its message catalogues, merged with the kernel's by ``tenderhall.i18n``),
``work_items(db, services, who)`` (what waits for ``who`` in that package, as
``tenderhall.work.items.WorkItem``; the "my work" page) and ``notices(db, services, who,
locale)`` (the user's in-app notifications, ``Notice``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from tenderhall.auth.policy import Rule, Subject
    from tenderhall.clock import Clock
    from tenderhall.services import Services
    from tenderhall.settings import Settings
    from tenderhall.work.items import Notice, WorkItem

DOMAINS = ("bidding", "evaluation", "collusion", "archive")
KERNEL_MODEL_MODULES = (
    "tenderhall.orgs.models",
    "tenderhall.auth.models",
    "tenderhall.tenders.models",
    "tenderhall.ledger.models",
)


def domain_plugins() -> list[ModuleType]:
    return [importlib.import_module(f"{name}.plugin") for name in DOMAINS]


def domain_policy_rules() -> list[Rule]:
    """Every domain package's rows of the policy table, in ``DOMAINS`` order."""
    rules: list[Rule] = []
    for plugin in domain_plugins():
        contribute = getattr(plugin, "policy_rules", None)
        if contribute is not None:
            rules += contribute()
    return rules


def locale_dirs() -> list[Path]:
    """Each domain package's message catalogues (``<dir>/<locale>/LC_MESSAGES/messages.po``)."""
    return [plugin.LOCALE_DIR for plugin in domain_plugins() if hasattr(plugin, "LOCALE_DIR")]


def import_models() -> None:
    """Import every model module so the shared metadata knows all tables (Alembic, tests)."""
    for module in KERNEL_MODEL_MODULES:
        importlib.import_module(module)
    for plugin in domain_plugins():
        for module in getattr(plugin, "MODEL_MODULES", ()):
            importlib.import_module(module)


def build_services(
    settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None
) -> Services:
    """The kernel's services plus each domain package's own, for app, CLI and demo alike."""
    from tenderhall.services import Services

    import_models()
    services = Services.build(settings, clock, engine)
    providers = [p for plugin in domain_plugins() for p in getattr(plugin, "providers", list)()]
    services.registry.build(providers, services)
    return services


async def work_items(db: AsyncSession, services: Services, who: Subject) -> list[WorkItem]:
    """What waits for ``who``: the kernel's items and every domain package's, most urgent first.

    An item that names a tender ``who`` may not see is dropped whatever its package said, so a
    package's mistake cannot show another centre's or company's tender.
    """
    from tenderhall.auth.policy import permits
    from tenderhall.tenders.models import Tender
    from tenderhall.work.items import ordered
    from tenderhall.work.kernel import kernel_items

    items = await kernel_items(db, services, who)
    for plugin in domain_plugins():
        contribute = getattr(plugin, "work_items", None)
        if contribute is not None:
            items += await contribute(db, services, who)
    named = {i.tender_id for i in items if i.tender_id is not None}
    if named:
        from sqlalchemy import select

        tenders = list(await db.scalars(select(Tender).where(Tender.id.in_(named))))
        resources = await services.tenders.resources(db, tenders, who)
        visible = {t for t, r in resources.items() if permits(who, "tender.view", r)}
        items = [i for i in items if i.tender_id is None or i.tender_id in visible]
    return ordered(items)


async def notices(db: AsyncSession, services: Services, who: Subject, locale: str) -> list[Notice]:
    """The user's in-app notifications from every package that keeps them, newest first."""
    found: list[Notice] = []
    for plugin in domain_plugins():
        contribute = getattr(plugin, "notices", None)
        if contribute is not None:
            found += await contribute(db, services, who, locale)
    return sorted(found, key=lambda n: n.created_at, reverse=True)
