"""The API docs page (``/api/docs``): Swagger UI served by TenderHall itself.

Litestar's own Swagger plugin loads Swagger UI from a CDN and starts it with an inline script.
Trading centres run isolated networks and every page here runs under a strict Content-Security-
Policy, so the UI's files come from the ``swagger-ui-py`` package (Swagger UI 5, which reads
OpenAPI 3.1; served at ``/static/swagger-ui/``) and a static script (``/static/api-docs.js``)
starts it from the page's data attributes.
"""

from __future__ import annotations

import importlib.util
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router


def _swagger_ui_dir() -> Path:
    # Found, not imported: the package's own code (handlers for other frameworks) is not needed.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py, a dependency, is missing")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


SWAGGER_UI_DIR = _swagger_ui_dir()
SWAGGER_UI_URL = "/static/swagger-ui"


def swagger_ui_assets() -> Router:
    """Swagger UI's JavaScript and CSS, from the installed package (no network needed)."""
    return create_static_files_router(path=SWAGGER_UI_URL, directories=[SWAGGER_UI_DIR])


class OfflineSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Swagger UI with no inline script or style and nothing loaded from another origin."""

    def __init__(self, *, csrf_cookie: str, csrf_header: str, path: str = "/swagger") -> None:
        # No icon file: an empty data: icon keeps browsers from asking for /favicon.ico.
        super().__init__(path=path, favicon='<link rel="icon" href="data:,">', style="")
        self.csrf_cookie = csrf_cookie
        self.csrf_header = csrf_header

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        # "Try it out" from a signed-in browser answers the CSRF check as the pages do: the
        # script copies the (script-readable) CSRF cookie into the header.
        csrf_attrs = (
            f' data-csrf-cookie="{escape(self.csrf_cookie)}" data-csrf-header="{escape(self.csrf_header)}"'
        )
        title = escape(str(openapi_schema.get("info", {}).get("title", "")))
        spec_url = escape(self.get_openapi_json_route(request))
        return (
            "<!DOCTYPE html><html><head>"
            f"<title>{title}</title>{self.favicon}"
            '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="{SWAGGER_UI_URL}/swagger-ui.css">'
            '<link rel="stylesheet" href="/static/api-docs.css">'
            f'<script src="{SWAGGER_UI_URL}/swagger-ui-bundle.js" defer></script>'
            f'<script src="{SWAGGER_UI_URL}/swagger-ui-standalone-preset.js" defer></script>'
            '<script src="/static/api-docs.js" defer></script>'
            "</head><body>"
            f'<div id="swagger-container" data-spec-url="{spec_url}"{csrf_attrs}></div>'
            "</body></html>"
        ).encode()
