"""Validation against the OCDS 1.1.5 schemas and the bid details extension in ../shared/vectors/ocds,
offline, with an independent validator (jsonschema-rs, draft 4) rather than the platform's own.

The release schema is the standard's merged (JSON Merge Patch, RFC 7386) with the extension's, as
the extension says; the package schemas reach it by its address, which the retriever answers from
the local files (no network).  The record package schema also names the versioned release schema,
which the vectors do not hold: the platform publishes no versioned releases, so it is answered
with an empty schema and a record carrying one would not be checked.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from collusion.ocds_schema import default_dir, merge_patch

BASE = "https://standard.open-contracting.org/schema/1__1__5/"


def vectors() -> Path:
    """The vectors: ``$TENDERHALL_OCDS_SCHEMA``, or ``shared/vectors/ocds`` beside the repository or
    any folder above it (a worktree sits deeper than the main checkout), or in /work.  Never
    skipped: a run without them fails."""
    directory = default_dir()
    if directory is not None:
        return directory
    # The workplace's shared folder, as the age vector tests read it (a clone may sit elsewhere).
    for parent in (*Path(__file__).resolve().parents, Path("/work")):
        if (parent / "shared" / "vectors" / "ocds" / "1.1.5").is_dir():
            return parent / "shared" / "vectors" / "ocds"
    raise AssertionError("the OCDS vectors (shared/vectors/ocds) are missing")


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def release_schema() -> dict[str, Any]:
    base = _read(vectors() / "1.1.5" / "release-schema.json")
    return merge_patch(base, _read(vectors() / "bid_extension" / "release-schema.json"))  # type: ignore[no-any-return]


def _retrieve(uri: str) -> dict[str, Any]:
    if uri == BASE + "release-schema.json":
        return release_schema()
    if uri == BASE + "versioned-release-validation-schema.json":
        return {}
    raise ValueError(f"no network: {uri}")


@cache
def validator(kind: str) -> Any:
    schema = release_schema() if kind == "release" else _read(vectors() / "1.1.5" / f"{kind}-schema.json")
    return jsonschema_rs.Draft4Validator(schema, retriever=_retrieve, validate_formats=True)


def errors(kind: str, document: Any) -> list[str]:
    """Every error of ``document`` as ``path: message``; kind is release, release-package or
    record-package."""
    return [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator(kind).iter_errors(document)
    ]
