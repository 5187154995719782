"""Services by type, built in dependency order; a missing or circular need is refused by name."""

from __future__ import annotations

from typing import Any

import pytest

from archive.jobs import Archives
from bidding.ports import COMMITTEE
from bidding.service import Bidding
from collusion.service import Collusion
from evaluation.access import committee_member
from evaluation.service import Evaluation
from tenderhall.registry import Key, Provider, Registry, RegistryError
from tenderhall.services import Services


class Store:
    def __init__(self, base: str) -> None:
        self.base = base


class Hall:
    def __init__(self, store: Store, lookup: Any) -> None:
        self.store = store
        self.lookup = lookup


LOOKUP: Key[Any] = Key("lookup")


def test_builds_in_dependency_order_whatever_the_declared_order() -> None:
    built: list[str] = []

    def hall(base: str, store: Store, lookup: Any) -> Hall:
        built.append("hall")
        return Hall(store, lookup)

    def store(base: str) -> Store:
        built.append("store")
        return Store(base)

    registry = Registry()
    registry.build(
        [
            Provider(Hall, hall, {"store": Store, "lookup": LOOKUP}),
            Provider(LOOKUP, lambda base: len),
            Provider(Store, store),
        ],
        "base",
    )
    assert built == ["store", "hall"]
    assert registry.get(Hall).store is registry.get(Store)
    assert registry.get(Hall).lookup is len
    assert registry.get(Store).base == "base"


def test_a_need_nothing_provides_is_refused_before_anything_is_built() -> None:
    made: list[str] = []
    registry = Registry()
    with pytest.raises(RegistryError, match=r"test_registry\.Hall needs .*test_registry\.Store"):
        registry.build(
            [Provider(LOOKUP, lambda base: made.append("lookup")), Provider(Hall, Hall, {"store": Store})],
            None,
        )
    assert made == []
    assert LOOKUP not in registry


def test_circular_needs_are_named() -> None:
    with pytest.raises(RegistryError, match=r"circular needs between .*Hall.*Store"):
        Registry().build(
            [
                Provider(Store, lambda base, hall: None, {"hall": Hall}),
                Provider(Hall, lambda base, store: None, {"store": Store}),
            ],
            None,
        )


def test_a_service_provided_twice_or_not_at_all() -> None:
    registry = Registry()
    registry.build([Provider(Store, Store)], "x")
    with pytest.raises(RegistryError, match="provided twice"):
        registry.build([Provider(Store, Store)], "y")
    with pytest.raises(RegistryError, match="no service provides lookup"):
        registry.get(LOOKUP)


def test_the_platform_composes_every_domain_by_type(services: Services) -> None:
    # What each domain receives is what another provides: no setter, no lookup by name.
    assert services.get(COMMITTEE) is committee_member
    assert services.get(Bidding).access.committee is committee_member
    assert services.get(Collusion).findings.committee is committee_member
    assert services.get(Evaluation).workspace.source is services.get(Bidding).opened


def test_handlers_receive_services_by_their_dependency_name(services: Services) -> None:
    assert services.registry.dependencies == {
        "bidding": Bidding,
        "evaluation": Evaluation,
        "collusion": Collusion,
        "archives": Archives,
    }
    registry = Registry()
    twice = [
        Provider(Store, Store, dependency="store"),
        Provider(LOOKUP, lambda base: len, dependency="store"),
    ]
    with pytest.raises(RegistryError, match="two services are handlers' 'store'"):
        registry.build(twice, "x")
