"""Every operation's successful answer, in every domain, is described by the OpenAPI document."""

from __future__ import annotations

from litestar import Litestar

from tests.tenderhall.web.openapi_types import METHODS, untyped, untyped_responses


def test_every_answer_has_a_typed_schema(app: Litestar) -> None:
    document = app.openapi_schema.to_schema()
    operations = [(p, m) for p, item in document["paths"].items() for m in item if m in METHODS]
    assert len(operations) > 100  # the scan sees the whole API, not a corner of it
    assert untyped_responses(document, ("/",)) == []


def test_the_check_sees_untyped_answers() -> None:
    document = {
        "components": {"schemas": {"Loose": {"type": "object"}, "Typed": {"properties": {"a": {}}}}},
        "paths": {
            "/x": {
                "get": {
                    "responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}}
                },
                "put": {"responses": {"200": {"description": "OK"}}},
                "post": {
                    "responses": {
                        "201": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Loose"},
                                    }
                                }
                            }
                        }
                    }
                },
                "patch": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Typed"}}
                            }
                        }
                    }
                },
                "delete": {"responses": {"204": {"description": "gone"}}},
            }
        },
    }
    assert untyped_responses(document, ["/x"]) == [
        "GET /x 200 application/json: an untyped object",
        "PUT /x 200: no content",
        "POST /x 201 application/json: an array of untyped items",
    ]
    assert untyped(document, {"type": "string"}) is None
    assert untyped(document, {"oneOf": [{"type": "null"}, {"type": "object"}]}) == "an untyped object"
