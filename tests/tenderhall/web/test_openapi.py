"""The OpenAPI document states every operation's error answers and its real security requirement.

The security requirement is checked against what the app does: an anonymous request to an
operation that needs sign-in is answered 401 before anything else, and one to a public operation
never is.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenderhall.web.openapi import SIGNED_IN
from tenderhall.web.problems import PROBLEM

METHODS = ("get", "post", "put", "patch", "delete")
NIL = "00000000-0000-0000-0000-000000000000"
PROBLEM_REF = "#/components/schemas/ProblemDetails"
# Answers whose format a standard prescribes instead (C2SP tlog-witness: the witness's size).
NOT_PROBLEMS = {("post", "/api/v1/witness/add-checkpoint", "409")}


def operations(app: Litestar) -> list[tuple[str, str, dict[str, Any]]]:
    document = app.openapi_schema.to_schema()
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def concrete(path: str, operation: dict[str, Any]) -> str:
    """The path with every parameter filled by a well-formed value that names nothing."""
    kinds = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "path"}

    def value(match: re.Match[str]) -> str:
        schema = kinds[match.group(1)]
        schema = schema.get("oneOf", [schema])[0]  # a tender: its UUID or its reference number
        if schema.get("format") == "uuid":
            return NIL
        if schema.get("type") == "integer":
            return "1"
        return str(schema.get("enum", ["x"])[0])

    return re.sub(r"\{(\w+)\}", value, path)


def test_every_operation_documents_its_errors_as_problem_details(app: Litestar) -> None:
    missing = []
    for method, path, operation in operations(app):
        responses = operation["responses"]
        has_inputs = bool(operation.get("parameters")) or "requestBody" in operation
        # 503/507: the database or the storage failing is possible on every operation (writes fill disks).
        expected = {"401", "503"}
        if has_inputs:
            expected |= {"400", "422"}
        if method != "get":
            expected |= {"400", "403", "404", "409", "413", "422", "507"}
        if "{" in path:
            expected.add("404")
        if path.startswith("/api/v1/auth/") and path.endswith(("/login", "/token")):
            expected.add("429")
        if absent := expected - set(responses):
            missing.append(f"{method.upper()} {path}: no {sorted(absent)}")
        for status, response in responses.items():
            if status.startswith(("4", "5")) and (method, path, status) not in NOT_PROBLEMS:
                content = response.get("content", {})
                if list(content) != [PROBLEM] or content[PROBLEM]["schema"] != {"$ref": PROBLEM_REF}:
                    missing.append(f"{method.upper()} {path}: {status} is not problem details")
            if status in {"429", "503", "507"} and "Retry-After" not in response.get("headers", {}):
                missing.append(f"{method.upper()} {path}: {status} without Retry-After")
    assert not missing, "\n".join(missing)


def test_problem_details_schema_matches_the_error_handler(app: Litestar) -> None:
    schema = app.openapi_schema.to_schema()["components"]["schemas"]["ProblemDetails"]
    assert set(schema["required"]) == {"type", "title", "status", "detail", "instance", "code"}
    assert "errors" in schema["properties"]


async def test_security_requirements_are_what_the_app_enforces(app: Litestar) -> None:
    """Public operations (no requirement) answer anonymous callers; the others answer 401."""
    wrong = []
    public = 0
    assert "security" not in app.openapi_schema.to_schema()
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        for method, path, operation in operations(app):
            security = operation.get("security", [])  # omitted: none (there is no global one)
            assert security in ([], SIGNED_IN), f"{method.upper()} {path}: security {security}"
            response = await client.request(method.upper(), concrete(path, operation))
            label, status = f"{method.upper()} {path}", response.status_code
            if security == [] and status == 401:
                wrong.append(f"{label}: public, but 401 to an anonymous caller")
            if security and status != 401:
                wrong.append(f"{label}: needs sign-in, but {status} to an anonymous caller")
            if status >= 400:
                assert response.headers["content-type"].startswith(PROBLEM), label
                assert str(status) in operation["responses"], (label, status)
            public += security == []
    assert not wrong, "\n".join(wrong)
    assert public >= 20  # the tender notices, the directory, the ledger, sign-in, public results
