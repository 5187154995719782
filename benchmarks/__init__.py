"""Benchmarks: `uv run python -m benchmarks.run [NAME ...]` writes docs/benchmarks.md."""
