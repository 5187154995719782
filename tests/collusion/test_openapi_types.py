"""Every collusion operation's success answer has a typed schema in the OpenAPI document: no
missing body, no object without properties, no list of anything; and the pre-v1 paths are not in it."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

PREFIX = "/api/v1/collusion"
METHODS = ("get", "post", "put", "patch", "delete")
COMBINATIONS = ("oneOf", "anyOf", "allOf")


def untyped(schema: dict[str, Any], components: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Where in ``schema`` a value is left undescribed (an untyped object, an array of anything)."""
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        if name in seen:
            return []
        return untyped(components[name], components, f"{where}<{name}>", seen | {name})
    combined = [s for key in COMBINATIONS for s in schema.get(key, ())]
    if combined:
        return [p for i, s in enumerate(combined) for p in untyped(s, components, f"{where}|{i}", seen)]
    kind = schema.get("type")
    if kind is None:
        return [] if "enum" in schema or "const" in schema else [where]
    if isinstance(kind, list):  # ["string", "null"]: the scalar types describe themselves
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "array":
        if "items" not in schema:
            return [where]
        return untyped(schema["items"], components, f"{where}[]", seen)
    if kind == "object":
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if properties:
            return [
                p for name, s in properties.items() for p in untyped(s, components, f"{where}.{name}", seen)
            ]
        if isinstance(extra, dict) and extra:
            return untyped(extra, components, f"{where}{{}}", seen)
        return [where]
    return []


def collusion_problems(document: dict[str, Any]) -> list[str]:
    components = document.get("components", {}).get("schemas", {})
    problems = []
    for path, item in document["paths"].items():
        if not path.startswith(PREFIX):
            continue
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            label = f"{method.upper()} {path}"
            ok = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
            if not ok:
                problems.append(f"{label}: no 2xx answer")
            for status, response in ok.items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema is None:
                    problems.append(f"{label} {status}: no body schema")
                    continue
                problems += [
                    f"{label} {status}: {w} is untyped" for w in untyped(schema, components, "body", set())
                ]
    return problems


def test_every_collusion_answer_is_typed(app: Litestar) -> None:
    document = app.openapi_schema.to_schema()
    operations = [
        (p, m) for p, item in document["paths"].items() if p.startswith(PREFIX) for m in item if m in METHODS
    ]
    assert len(operations) == 14, operations
    assert collusion_problems(document) == []
    assert not [p for p in document["paths"] if p.startswith("/api/collusion")]  # redirects only


def test_the_check_finds_untyped_answers() -> None:
    def document(schema: dict[str, Any]) -> dict[str, Any]:
        ok = {"200": {"content": {"application/json": {"schema": schema}}}}
        return {
            "paths": {f"{PREFIX}/x": {"get": {"responses": ok}}},
            "components": {
                "schemas": {
                    "Open": {"type": "object"},
                    "Closed": {"type": "object", "properties": {"a": {"type": "string"}}},
                }
            },
        }

    assert collusion_problems(document({"$ref": "#/components/schemas/Closed"})) == []
    assert (
        collusion_problems(document({"type": "array", "items": {"$ref": "#/components/schemas/Closed"}}))
        == []
    )
    assert collusion_problems(document({"type": "object", "additionalProperties": {"type": "string"}})) == []
    for bad in (
        {"type": "object"},
        {},
        {"type": "array"},
        {"type": "array", "items": {}},
        {"$ref": "#/components/schemas/Open"},
        {"type": "object", "properties": {"a": {"oneOf": [{"type": "null"}, {"type": "object"}]}}},
    ):
        assert collusion_problems(document(bad)), bad
    missing = {"paths": {f"{PREFIX}/x": {"post": {"responses": {"201": {"description": "x"}}}}}}
    assert collusion_problems(missing) == [f"POST {PREFIX}/x 201: no body schema"]
