"""Offline validation of OCDS compiled releases against the 1.1.5 release schema + the bid extension.

The schema is the standard's release-schema.json merged (JSON Merge Patch, RFC 7386) with the bid
extension's release-schema.json, read from local files (no network).  The validator implements the
draft-04 keywords those schemas use (type, required, properties, patternProperties, items, $ref to
local definitions, enum, minLength, minItems, uniqueItems, date-time format); other keywords are
annotations there (title, description, codelist, merge hints).  No third-party validator is needed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_VAR = "TENDERHALL_OCDS_SCHEMA"
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def default_dir() -> Path | None:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / "shared" / "vectors" / "ocds"
    return here if here.is_dir() else None


def load_schema(directory: Path) -> dict[str, Any]:
    base = json.loads((directory / "1.1.5" / "release-schema.json").read_text(encoding="utf-8"))
    ext = json.loads((directory / "bid_extension" / "release-schema.json").read_text(encoding="utf-8"))
    merged: dict[str, Any] = merge_patch(base, ext)
    return merged


def _is_datetime(v: str) -> bool:
    try:
        dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in v or " " in v


class Validator:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._patterns: dict[str, re.Pattern[str]] = {}

    @classmethod
    def from_dir(cls, directory: Path) -> Validator:
        return cls(load_schema(directory))

    def __call__(self, instance: Any) -> list[str]:
        errors: list[str] = []
        self._check(instance, self.schema, "", errors)
        return errors

    def _resolve(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        node: Any = self.schema
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node  # type: ignore[no-any-return]

    def _check(self, v: Any, s: dict[str, Any], path: str, errors: list[str]) -> None:
        if len(errors) > 20:
            return
        if "$ref" in s:
            self._check(v, self._resolve(s["$ref"]), path, errors)
            return
        where = path or "/"
        t = s.get("type")
        if t is not None:
            types = t if isinstance(t, list) else [t]
            if not any(_TYPES[x](v) for x in types):
                errors.append(f"{where}: expected {'/'.join(types)}")
                return
        if "enum" in s and v not in s["enum"]:
            errors.append(f"{where}: {v!r} is not an allowed value")
        if isinstance(v, str):
            if len(v) < s.get("minLength", 0):
                errors.append(f"{where}: too short")
            if s.get("format") == "date-time" and not _is_datetime(v):
                errors.append(f"{where}: not a date-time")
        if isinstance(v, list):
            if len(v) < s.get("minItems", 0):
                errors.append(f"{where}: too few items")
            if s.get("uniqueItems"):
                seen = [json.dumps(x, sort_keys=True) for x in v]
                if len(set(seen)) != len(seen):
                    errors.append(f"{where}: items are not unique")
            if isinstance(s.get("items"), dict):
                for i, item in enumerate(v):
                    self._check(item, s["items"], f"{path}/{i}", errors)
        if isinstance(v, dict):
            for name in s.get("required", []):
                if name not in v:
                    errors.append(f"{where}: '{name}' is required")
            props = s.get("properties", {})
            pats = s.get("patternProperties", {})
            for k, item in v.items():
                if k in props:
                    self._check(item, props[k], f"{path}/{k}", errors)
                for pat, sub in pats.items():
                    rx = self._patterns.setdefault(pat, re.compile(pat))
                    if rx.search(k):
                        self._check(item, sub, f"{path}/{k}", errors)
