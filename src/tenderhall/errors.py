"""Domain errors carry an i18n key and parameters; the web layer turns them into RFC 9457
problem details (API) or a readable page (browser), and the CLI into one line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Label(str):
    """A message parameter that is itself a catalogue key (e.g. ``state.closed``), translated into
    the message's language with it."""

    __slots__ = ()


class DomainError(Exception):
    status = 400
    default_key = "error.bad_request"
    headers: Mapping[str, str] = {}  # response headers the answer carries (e.g. Retry-After)

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.default_key
        self.params = params
        super().__init__(self.key)

    def message(self, locale: str = "en") -> str:
        from tenderhall.i18n import translate

        params = {k: translate(v, locale) if isinstance(v, Label) else v for k, v in self.params.items()}
        return translate(self.key, locale, **params)

    def __str__(self) -> str:
        return self.message("en")


class InvalidInput(DomainError):
    status = 422
    default_key = "error.invalid"


class NotFound(DomainError):
    status = 404
    default_key = "error.not_found"


class Forbidden(DomainError):
    status = 403
    default_key = "error.forbidden"


class Unauthenticated(DomainError):
    status = 401
    default_key = "error.unauthenticated"


class Conflict(DomainError):
    status = 409
    default_key = "error.conflict"


class TooManyRequests(DomainError):
    status = 429
    default_key = "error.too_many"

    def __init__(self, key: str | None = None, /, *, retry_after: int, **params: Any) -> None:
        super().__init__(key, **params)
        self.headers = {"Retry-After": str(retry_after)}  # documented on every 429 (web.openapi)
