"""Services by type: each domain package declares what it builds and what that needs.

A :class:`Provider` names the service it provides (its class, or a :class:`Key` for what has no
class of its own, such as a lookup function behind a protocol), how to build it and which other
services its builder receives, by keyword.  :func:`build` makes them in dependency order and
refuses a missing or circular need by name, so no service is ever half wired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class Key(Generic[T]):
    """Names a service that is not a class of its own (a protocol, a function)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"


Kind = type[Any] | Key[Any]


def _name(kind: Kind) -> str:
    return kind.name if isinstance(kind, Key) else f"{kind.__module__}.{kind.__qualname__}"


@dataclass(frozen=True)
class Provider:
    provides: Kind
    build: Callable[..., Any]  # build(base, **needs)
    needs: Mapping[str, Kind] = field(default_factory=dict)  # keyword -> the service it receives
    # The parameter name under which request handlers receive the service (``bidding: Bidding``).
    dependency: str | None = None


class RegistryError(RuntimeError):
    pass


class Registry:
    def __init__(self) -> None:
        self._made: dict[Kind, Any] = {}
        self.dependencies: dict[str, Kind] = {}  # handler parameter name -> service

    @overload
    def get(self, kind: type[T]) -> T: ...
    @overload
    def get(self, kind: Key[T]) -> T: ...
    def get(self, kind: Kind) -> Any:
        try:
            return self._made[kind]
        except KeyError:
            raise RegistryError(f"no service provides {_name(kind)}") from None

    def __contains__(self, kind: Kind) -> bool:
        return kind in self._made

    def add(self, kind: Kind, service: Any) -> None:
        if kind in self._made:
            raise RegistryError(f"{_name(kind)} is provided twice")
        self._made[kind] = service

    def build(self, providers: Sequence[Provider], base: Any) -> None:
        """Build every provider once its needs exist, in dependency order (stable otherwise)."""
        waiting = list(providers)
        promised = {p.provides for p in waiting}
        for provider in waiting:
            missing = [k for k in provider.needs.values() if k not in promised and k not in self]
            if missing:
                names = ", ".join(map(_name, missing))
                raise RegistryError(f"{_name(provider.provides)} needs {names}, which nothing provides")
        while waiting:
            ready = [p for p in waiting if all(k in self for k in p.needs.values())]
            if not ready:
                raise RegistryError(
                    "circular needs between " + ", ".join(sorted(_name(p.provides) for p in waiting))
                )
            for provider in ready:
                needs = {arg: self.get(kind) for arg, kind in provider.needs.items()}
                self.add(provider.provides, provider.build(base, **needs))
                if provider.dependency is not None:
                    if provider.dependency in self.dependencies:
                        raise RegistryError(f"two services are handlers' {provider.dependency!r}")
                    self.dependencies[provider.dependency] = provider.provides
                waiting.remove(provider)
