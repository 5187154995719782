"""What the OpenAPI document says about errors and sign-in, derived from the routes themselves.

Each documented operation is either public (``opt=PUBLIC``: it answers anonymous callers) or
needs a signed-in caller; :func:`signed_in_unless_public` enforces that on every request and
:func:`document_operations` writes the same fact into the document, so the two cannot drift.
Error answers are the problem details of :mod:`tenderhall.web.problems`; which statuses an
operation can answer follows from what the framework and the kernel do on its way (see
:func:`error_statuses`), plus what a handler adds in ``opt["errors"]``.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from litestar import Litestar
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin  # not exported in 2.x
from litestar.connection import ASGIConnection
from litestar.constants import RESERVED_KWARGS
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.middleware.rate_limit import RateLimitMiddleware
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from tenderhall.errors import Unauthenticated
from tenderhall.web.problems import PROBLEM
from tenderhall.web.security import SESSION_COOKIE

PUBLIC: Final[dict[str, Any]] = {"public": True}
SECURITY_SCHEMES: Final = {
    "bearer": SecurityScheme(type="http", scheme="bearer", description="API token `tht_…`"),
    "session": SecurityScheme(
        type="apiKey", name=SESSION_COOKIE, security_scheme_in="cookie", description="Browser session"
    ),
}
SIGNED_IN: Final[list[SecurityRequirement]] = [{"bearer": []}, {"session": []}]
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# Dependencies that consult the policy table, which may refuse (403) or hide (404).
POLICY_DEPENDENCIES: Final = frozenset({"who", "user"})

DESCRIPTIONS: Final = {
    400: "Malformed request: parameters or body do not match the schema",
    401: "Not signed in, or the API token is invalid, expired or revoked",
    403: "The policy does not allow this caller this action (or the CSRF token is missing)",
    404: "No such object, or one the caller may not see",
    409: "The object's state does not allow the action now",
    413: "The request body is too large",
    422: "Well-formed but invalid data",
    429: "Too many attempts; retry later",
    503: "The database or the file storage is unavailable; retry later (Retry-After)",
    507: "The storage volume is full; nothing was half-written, retry later (Retry-After)",
}


class FieldError(msgspec.Struct):
    field: str | None
    message: str | None


class ProblemDetails(msgspec.Struct):
    """RFC 9457 problem details, as :func:`tenderhall.web.problems.handle` writes them."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    errors: list[FieldError] | None = None  # validation errors only


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Input structs refuse unknown fields (``forbid_unknown_fields``); the schema says so."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


def is_public(handler: BaseRouteHandler) -> bool:
    return bool(handler.opt.get("public"))


async def signed_in_unless_public(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App guard: a documented operation that is not public answers 401 to anonymous callers."""
    if connection.scope.get("user") is not None or is_public(handler):
        return
    if isinstance(handler, HTTPRouteHandler) and handler.resolve_include_in_schema():
        raise Unauthenticated()


def _has_inputs(handler: HTTPRouteHandler, path: str) -> bool:
    if "{" in path:
        return True
    dependencies = handler.resolve_dependencies()
    names = handler.parsed_fn_signature.parameters
    return any(n not in dependencies and (n not in RESERVED_KWARGS or n == "data") for n in names)


def error_statuses(handler: HTTPRouteHandler, path: str) -> set[int]:
    """The error statuses an operation can answer, from what happens on its way:

    - 401 always: a wrong bearer token is refused before any route runs, and only public
      operations answer anonymous callers;
    - 400 and 422 with any parameter or body (the schema, then the domain's own checks);
    - 403 and 404 where the policy is consulted (it refuses, or hides what the caller may not see);
      403 on unsafe methods too (the CSRF check of session callers);
    - 404, 409 and 413 on unsafe methods (referenced objects, state conflicts, body size);
    - 404 with path parameters;
    - 429 behind a rate limit (sign-in);
    - 503 always (the database or the blob store is down: ``problems``' fault mapping), and 507
      on unsafe methods (a full volume while writing).
    """
    unsafe = not handler.http_methods <= SAFE_METHODS
    policy = bool(POLICY_DEPENDENCIES & set(handler.parsed_fn_signature.parameters))
    statuses = {401, 503}
    if _has_inputs(handler, path) or unsafe:
        statuses |= {400, 422}
    if policy or unsafe:
        statuses.add(403)
    if policy or unsafe or "{" in path:
        statuses.add(404)
    if unsafe:
        statuses |= {409, 413, 507}
    if any(getattr(m, "middleware", None) is RateLimitMiddleware for m in handler.middleware or ()):
        statuses.add(429)
    statuses |= set(handler.opt.get("errors", ()))
    return statuses


def problem_responses(statuses: set[int]) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            media_type=PROBLEM,
            description=DESCRIPTIONS.get(status, "Problem details"),
            generate_examples=False,
        )
        for status in sorted(statuses)
    }


def document_operations(app: Litestar) -> None:
    """Give every documented operation its problem responses and its real security requirement.

    Runs once the routes are registered and before the document is first built (it is built on
    first use); a handler's own ``responses`` win over the derived ones.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            derived = problem_responses(error_statuses(handler, route.path_format))
            handler.responses = {**derived, **(handler.responses or {})}
            handler.security = [] if is_public(handler) else SIGNED_IN


# Answers that tell the client when to try again (``problems``: the throttle and the rate limit,
# the fault mapping), RFC 9110 §10.2.3 in delay-seconds.
RETRY_LATER: Final = ("429", "503", "507")


def document_retry_after(app: Litestar) -> None:
    """Every 429, 503 and 507 answer carries Retry-After: the document says so."""
    header = OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]+$"),
        description="Seconds to wait before retrying",
        required=True,
    )
    for path_item in (app.openapi_schema.paths or {}).values():
        for operation in (path_item.get, path_item.put, path_item.post, path_item.delete, path_item.patch):
            for status, response in ((operation.responses or {}) if operation is not None else {}).items():
                if status in RETRY_LATER and isinstance(response, OpenAPIResponse):
                    response.headers = {**(response.headers or {}), "Retry-After": header}


# The edge (``tenderhall.web.edge``) refuses control characters in every path and query string
# before routing: the document says so on every free-text parameter.
CLEAN_TEXT: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def document_clean_parameters(app: Litestar) -> None:
    """Add the edge's rule to every string parameter without a format, enum or pattern of its own."""
    for path_item in (app.openapi_schema.paths or {}).values():
        for operation in (path_item.get, path_item.put, path_item.post, path_item.delete, path_item.patch):
            for parameter in (operation.parameters or []) if operation is not None else []:
                _clean_text(getattr(parameter, "schema", None))


def _clean_text(schema: Any) -> None:
    if not isinstance(schema, Schema):
        return
    for alternative in [*(schema.one_of or []), *(schema.any_of or [])]:
        _clean_text(alternative)  # an optional parameter: oneOf [string, null]
    if schema.type == OpenAPIType.STRING and not (
        schema.format or schema.enum or schema.pattern or schema.const
    ):
        schema.pattern = CLEAN_TEXT
