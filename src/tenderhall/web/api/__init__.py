"""JSON API under /api/v1 (OpenAPI 3.1 at /api/docs)."""
