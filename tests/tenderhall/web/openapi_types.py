"""Does the OpenAPI document say what each operation answers?  A reusable check for any domain:
every successful (2xx) answer must carry a schema, and that schema must not be an untyped object
(``type: object`` with no properties, no typed additional properties, no ``$ref``), looked for
through references, arrays and unions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
NO_CONTENT = {"204", "205", "304"}


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return _resolve(document, node)


def untyped(
    document: dict[str, Any], schema: dict[str, Any] | None, seen: frozenset[str] = frozenset()
) -> str | None:
    """Why the schema does not describe the body (None when it does)."""
    if not schema:
        return "no schema"
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:  # a recursive type is described by its first occurrence
            return None
        return untyped(document, _resolve(document, schema), seen | {ref})
    for union in ("oneOf", "anyOf", "allOf"):
        if union in schema:
            for part in schema[union]:
                if part.get("type") != "null" and (why := untyped(document, part, seen)):
                    return why
            return None
    kind = schema.get("type")
    if kind == "array":
        return untyped(document, schema.get("items"), seen) and "an array of untyped items"
    if kind == "object" or (kind is None and "properties" not in schema):
        extra = schema.get("additionalProperties")
        if schema.get("properties") or (isinstance(extra, dict) and extra):
            return None
        return "an untyped object"
    return None


def untyped_responses(document: dict[str, Any], prefixes: Iterable[str]) -> list[str]:
    """``METHOD path status: why`` for every 2xx answer under the path prefixes that the
    document does not describe."""
    found = []
    prefixes = tuple(prefixes)
    for path, item in document["paths"].items():
        if not path.startswith(prefixes):
            continue
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                content = response.get("content") or {}
                if not content:
                    if str(status) not in NO_CONTENT:
                        found.append(f"{method.upper()} {path} {status}: no content")
                    continue
                for media, body in content.items():
                    if why := untyped(document, body.get("schema")):
                        found.append(f"{method.upper()} {path} {status} {media}: {why}")
    return found
