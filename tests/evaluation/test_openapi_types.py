"""Every evaluation operation's successful answer is described by the OpenAPI document."""

from __future__ import annotations

from litestar import Litestar

from tests.tenderhall.web.openapi_types import untyped, untyped_responses

EVALUATION_PATHS = (
    "/api/v1/experts",
    "/api/v1/draws",
    "/api/v1/seats",
    "/api/v1/notifications",
    "/api/v1/tenders/{tender_id}/evaluation",
)


def test_every_evaluation_answer_has_a_typed_schema(app: Litestar) -> None:
    document = app.openapi_schema.to_schema()
    operations = [p for p in document["paths"] if p.startswith(EVALUATION_PATHS)]
    assert len(operations) >= 25  # the prefixes still match the routes
    assert untyped_responses(document, EVALUATION_PATHS) == []


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
