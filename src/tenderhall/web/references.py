"""Tenders named by their reference number in addresses: ``/api/v1/tenders/SH-2026-0009/sealing``
and ``/tenders/SH-2026-0009`` reach the same handlers as the tender's UUID, on every route of
every package, without each route knowing.

The address is rewritten before routing (Litestar's middleware runs after it), so this wraps the
app's ASGI handler (:func:`accept_references`).  A reference that names no tender leads to
:data:`~tenderhall.tenders.references.NOWHERE`, which no tender has: the handler then answers
exactly as for a tender the caller may not see, and the problem's ``instance`` is the address
as the caller sent it (``problems.sent_path``), so neither answer tells the two apart.
"""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.openapi.spec import Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.types import ASGIApp, Receive, Scope, Send

from tenderhall.services import Services
from tenderhall.tenders.references import MAX_REFERENCE, REFERENCE_PATTERN, as_reference, tender_id_of
from tenderhall.web.problems import SENT_PATH

# The API's tender paths and the tender pages: the segment after them names the tender.
_TENDER_PATH = re.compile(r"^(?P<prefix>/api/v1/tenders/|/tenders/)(?P<key>[^/]+)(?P<rest>/.*)?$")


def accept_references(app: Litestar, services: Services) -> None:
    """Let every tender address take a reference number as well as the UUID."""
    app.asgi_handler = _rewriting(app.asgi_handler, services)


def _rewriting(handler: ASGIApp, services: Services) -> ASGIApp:
    async def rewrite(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and (match := _TENDER_PATH.match(scope["path"])):
            reference = as_reference(match["key"])
            if reference is not None:
                async with services.reader() as db:
                    tender_id = await tender_id_of(db, reference)
                scope.setdefault("state", {})[SENT_PATH] = scope["path"]
                scope["path"] = f"{match['prefix']}{tender_id}{match['rest'] or ''}"
        await handler(scope, receive, send)

    return rewrite


def document_references(app: Litestar) -> None:
    """The document says so: each ``tender_id`` in a path is a UUID or a reference number."""
    for path, path_item in (app.openapi_schema.paths or {}).items():
        if "{tender_id}" not in path:
            continue
        for operation in (path_item.get, path_item.put, path_item.post, path_item.delete, path_item.patch):
            for parameter in (operation.parameters or []) if operation is not None else []:
                if isinstance(parameter, Parameter) and (parameter.name, parameter.param_in) == (
                    "tender_id",
                    "path",
                ):
                    parameter.schema = Schema(
                        one_of=[
                            Schema(type=OpenAPIType.STRING, format="uuid"),  # type: ignore[arg-type]
                            Schema(
                                type=OpenAPIType.STRING,
                                pattern=f"^{REFERENCE_PATTERN}$",
                                max_length=MAX_REFERENCE,
                            ),
                        ]
                    )
                    parameter.description = "The tender's UUID or its reference number (e.g. SH-2026-0009)"
