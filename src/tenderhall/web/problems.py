"""Every error becomes RFC 9457 problem details on the API and a readable page in the browser.

No exception reaches the client as a bare 500: unexpected ones are logged with a reference and
answered with a problem that carries only that reference.
"""

from __future__ import annotations

import errno
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.response import Template
from sqlalchemy.exc import DataError, DBAPIError

from tenderhall.bounds import OutOfBounds
from tenderhall.errors import DomainError
from tenderhall.i18n import negotiate, translate
from tenderhall.storage import StorageError

log = logging.getLogger("tenderhall.errors")
PROBLEM = "application/problem+json"
SENT_PATH = "tenderhall.sent_path"  # in the scope's state

_HTTP_KEYS = {
    400: "error.bad_request",
    401: "error.unauthenticated",
    403: "error.forbidden",
    404: "error.not_found_path",
    405: "error.method_not_allowed",
    409: "error.conflict",
    413: "error.too_large",
    415: "error.unsupported_media",
    422: "error.invalid",
    429: "error.too_many",
}


def request_locale(request: Request[Any, Any, Any]) -> str:
    return negotiate(request.headers.get("accept-language"), request.cookies.get("th_lang"))


def _problem(
    request: Request[Any, Any, Any],
    status: int,
    key: str,
    detail: str,
    extra: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    locale = request_locale(request)
    body = {
        "type": f"urn:tenderhall:problem:{key}",
        "title": translate(
            _HTTP_KEYS.get(status, "error.server" if status >= 500 else "error.bad_request"), locale
        ),
        "status": status,
        "detail": detail,
        "instance": sent_path(request),
        "code": key,
        **extra,
    }
    wants_html = not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")
    if wants_html:
        return Template(
            template_name="error.html.jinja",
            context={"problem": body, "locale": locale, "user": request.scope.get("user")},
            status_code=status,
            headers=headers,
            media_type=MediaType.HTML,
        )
    return Response(content=body, status_code=status, media_type=PROBLEM, headers=headers)


def sent_path(request: Request[Any, Any, Any]) -> str:
    """The path as the caller sent it: one naming a tender by its reference number keeps it
    (``web.references`` rewrites it to the tender's id before routing and keeps it here)."""
    sent = request.scope.get("state", {}).get(SENT_PATH)
    return sent if isinstance(sent, str) else request.url.path


def _while_reading_request(exc: BaseException) -> bool:
    """Whether Litestar raised ``exc`` while extracting the request's parameters and body, before
    any dependency or handler ran: then the request itself is malformed.  Litestar 2 lets a few
    such errors escape as non-HTTP exceptions (a JSON body that is not UTF-8 or is nested beyond
    the decoder's recursion limit; a multipart form without a file for an ``UploadFile``)."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "to_kwargs" and "litestar" in code.co_filename:
            return True
        tb = tb.tb_next
    return False


def _refused_data(exc: BaseException) -> bool:
    """Whether the database refused a value as data (SQLSTATE class 22, e.g. PostgreSQL's NUL in
    text or a number out of range); the asyncpg dialect wraps these as a plain ``DBAPIError``."""
    if isinstance(exc, DataError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    cause: BaseException | None = exc.orig
    while cause is not None:
        if str(getattr(cause, "sqlstate", "") or "").startswith("22"):
            return True
        cause = cause.__cause__
    return False


def _field_error(item: dict[str, Any], locale: str) -> dict[str, Any]:
    """One field's error; a bound the schemas' ``Input`` enforces says ``key|field`` (translated
    here), msgspec's own checks say what they say."""
    field, message = item.get("key") or item.get("source"), item.get("message")
    if isinstance(message, str) and "|" in message:
        key, _, where = message.partition("|")
        if key.startswith("input."):
            return {"field": where or field, "message": translate(key, locale), "code": key}
    return {"field": field, "message": message}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, what it wraps (a DBAPI error's ``orig``) and what caused it, in order."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        cause = todo.pop(0)
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        todo.extend([getattr(cause, "orig", None), cause.__cause__, cause.__context__])


_FULL = {errno.ENOSPC, errno.EDQUOT}
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"


def _storage_full(exc: BaseException) -> bool:
    """Whether a disk (or quota) was full: the blob store, partial uploads or the SQLite file."""
    return any(
        (isinstance(c, OSError) and c.errno in _FULL) or getattr(c, "sqlite_errorcode", None) == _SQLITE_FULL
        for c in _causes(exc)
    )


def _raised_by(exc: BaseException, packages: tuple[str, ...]) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if any(f"/{name}/" in tb.tb_frame.f_code.co_filename for name in packages):
            return True
        tb = tb.tb_next
    return False


def _database_unreachable(exc: BaseException) -> bool:
    """Whether the database is down, restarting or out of reach (SQLSTATE class 08 connection
    exception, 57P01-57P03 shut down or starting up, a refused or dropped connection), not
    the request's fault: the pool reconnects (pre-ping) once it is back."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    for cause in _causes(exc):
        if str(getattr(cause, "sqlstate", "") or "").startswith(("08", "57P")):
            return True
        if isinstance(cause, ConnectionError | TimeoutError) and _raised_by(
            cause, ("sqlalchemy", "asyncpg", "aiosqlite")
        ):
            return True
        if type(cause).__name__ in {"ConnectionDoesNotExistError", "InterfaceError"} and _raised_by(
            cause, ("asyncpg",)
        ):
            return True
    return False


_RETRYABLE = (
    (_storage_full, 507, "error.storage_full", "60"),
    (_database_unreachable, 503, "error.database_unavailable", "5"),
)


def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    locale = request_locale(request)
    if isinstance(exc, DomainError):
        return _problem(request, exc.status, exc.key, exc.message(locale), {}, headers=dict(exc.headers))
    if isinstance(exc, OutOfBounds):  # a bound checked past the schema (e.g. "1.00\n" as money)
        exc = ValidationException(extra=[{"message": str(exc), "key": exc.where}])
    if isinstance(exc, ValidationException):
        errors = []
        if isinstance(exc.extra, list):
            for item in exc.extra:
                if isinstance(item, dict):
                    errors.append(_field_error(item, locale))
        return _problem(
            request, 400, "error.validation", translate("error.validation", locale), {"errors": errors}
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
        key = _HTTP_KEYS.get(status, "error.bad_request")
        if isinstance(exc, NotFoundException):
            key = "error.not_found_path"
        elif isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
            key = "error.csrf"
        elif isinstance(exc, NotAuthorizedException):
            key = "error.unauthenticated"
        elif isinstance(exc, TooManyRequestsException):
            key = "error.too_many"
            # RFC 9110 §10.2.3: say when to come back; the rate limit's window resets then.
            exc.headers = {**(exc.headers or {})}
            exc.headers.setdefault("Retry-After", exc.headers.get("RateLimit-Reset", "60"))
        if status >= 500:
            ref = uuid.uuid4().hex[:12]
            log.error("server error %s on %s %s: %s", ref, request.method, request.url.path, exc.detail)
            return _problem(
                request, status, "error.internal", translate("error.internal", locale, ref=ref), {}
            )
        return _problem(request, status, key, translate(key, locale), {}, headers=exc.headers)
    if _while_reading_request(exc):
        return _problem(request, 400, "error.bad_request", translate("error.bad_request", locale), {})
    if _refused_data(exc):
        # The database refused a value the edge let through (PostgreSQL: a NUL character in text,
        # a number out of range): the request's data is at fault.  The transaction rolls back.
        log.warning(
            "data refused by the database on %s %s: %s",
            request.method,
            request.url.path,
            getattr(exc, "orig", exc),
        )
        return _problem(request, 422, "error.invalid", translate("error.invalid", locale), {})
    ref = uuid.uuid4().hex[:12]
    # Faults of the platform's own resources, not of the request: retry later.  A full disk
    # leaves nothing half-written (blobs are renamed into place whole, transactions roll back)
    # and a partial upload keeps what reached the disk; the database pool reconnects (pre-ping).
    for fault, status, key, retry in _RETRYABLE:
        if fault(exc):
            log.error("%s %s on %s %s: %r", key, ref, request.method, request.url.path, exc)
            return _problem(
                request, status, key, translate(key, locale, ref=ref), {}, headers={"Retry-After": retry}
            )
    if isinstance(exc, StorageError):
        # The blob store (a bucket, a disk) failed, not the request: worth a retry later.
        log.error("storage error %s on %s %s: %s", ref, request.method, request.url.path, exc)
        return _problem(
            request,
            503,
            "error.storage",
            translate("error.storage", locale, ref=ref),
            {},
            headers={"Retry-After": "30"},
        )
    log.exception("unhandled error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
    return _problem(request, 500, "error.internal", translate("error.internal", locale, ref=ref), {})
