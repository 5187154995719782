"""Dependencies shared by controllers: the services, the caller as a policy subject, the session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.models import User
from tenderhall.auth.policy import Subject
from tenderhall.auth.service import subject_of
from tenderhall.errors import Unauthenticated
from tenderhall.registry import Kind
from tenderhall.services import Services


def provide_services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def provide_who(request: Request[Any, Any, Any]) -> Subject:
    return subject_of(request.scope.get("user"))


def provide_user(request: Request[Any, Any, Any]) -> User:
    user = request.scope.get("user")
    if user is None:
        raise Unauthenticated()
    return user  # type: ignore[no-any-return]


def service_dependency(kind: Kind) -> Provide:
    """Handlers receive a domain service by type: ``evaluation: Evaluation`` (see the plugins'
    providers, ``Provider.dependency``)."""

    def provide(services: Services) -> Any:
        return services.get(kind)

    return Provide(provide, sync_to_thread=False)


def service_dependencies(services: Services) -> dict[str, Provide]:
    return {name: service_dependency(kind) for name, kind in services.registry.dependencies.items()}


async def provide_read_session(services: Services) -> AsyncIterator[AsyncSession]:
    """The session of a handler that only reads: no write lock (see ``db.engine``), rolled back
    when the response is made."""
    async with services.reader() as db:
        yield db


# A handler that only reads declares ``dependencies=READ``: its ``db_session`` is a read session
# instead of the plugin's writing one.  One that may write, even on a GET, must not.
READ = {"db_session": Provide(provide_read_session)}

DEPENDENCIES = {
    "services": Provide(provide_services, sync_to_thread=False),
    "who": Provide(provide_who, sync_to_thread=False),
    "user": Provide(provide_user, sync_to_thread=False),
}
