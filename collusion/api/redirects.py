"""The pre-v1 paths ``/api/collusion/...``: a permanent redirect to ``/api/v1/collusion/...``.

308 keeps the method and the body, so a client's POST arrives as it was sent.  Kept for one
release and left out of the OpenAPI document; the redirect says nothing about any object, so it
answers everyone alike and the new path decides.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, route
from litestar.response import Redirect

from collusion.api.paths import PREFIX

OLD_PREFIX = "/api/collusion"


@route(
    f"{OLD_PREFIX}/{{rest:path}}",
    http_method=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def old_collusion_path(request: Request[Any, Any, Any], rest: str) -> Redirect:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return Redirect(f"{PREFIX}{rest}" + (f"?{query}" if query else ""), status_code=308)
