"""Credit blacklist (严重失信主体名单) parsing and versioning (pure logic).

A list version is named by the SHA-256 of its canonical form (source, date and the sorted
entries), so every credit check can record exactly what it was checked against.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import rfc8785

__all__ = ["EMPTY_VERSION", "CreditListError", "Entry", "ParsedList", "parse_list", "version_hash"]


class CreditListError(ValueError):
    """The imported file is not a valid credit list."""


@dataclass(frozen=True, slots=True)
class Entry:
    uscc: str
    name: str
    reason: str
    listed_on: date
    until: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "name": self.name,
            "reason": self.reason,
            "listed_on": self.listed_on.isoformat(),
            "until": self.until.isoformat() if self.until else None,
        }

    def active_on(self, day: date) -> bool:
        return self.listed_on <= day and (self.until is None or day <= self.until)


@dataclass(frozen=True, slots=True)
class ParsedList:
    source: str
    published_on: date
    entries: tuple[Entry, ...]

    @property
    def version(self) -> str:
        return version_hash(self.source, self.published_on, self.entries)


def version_hash(source: str, published_on: date, entries: tuple[Entry, ...]) -> str:
    body: dict[str, Any] = {
        "source": source,
        "published_on": published_on.isoformat(),
        "entries": sorted((e.as_json() for e in entries), key=lambda e: (e["uscc"], e["listed_on"])),
    }
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()


EMPTY_VERSION = hashlib.sha256(b"no credit list imported").hexdigest()


def _date(text: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise CreditListError(f"{what} must be a date YYYY-MM-DD, got {text!r}") from None


def _entry(row: dict[str, Any], line: int) -> Entry:
    try:
        uscc = str(row["uscc"]).strip().upper()
        name = str(row["name"]).strip()
        reason = str(row["reason"]).strip()
        listed = row["listed_on"]
    except KeyError as exc:
        raise CreditListError(f"entry {line} lacks the field {exc.args[0]}") from None
    if len(uscc) != 18 or not name or not reason:
        raise CreditListError(f"entry {line} needs an 18-character USCC, a name and a reason")
    until = row.get("until")
    return Entry(
        uscc=uscc,
        name=name,
        reason=reason,
        listed_on=_date(listed, f"entry {line} listed_on"),
        until=_date(until, f"entry {line} until") if until not in (None, "") else None,
    )


def parse_list(content: bytes, fmt: str, source: str, published_on: date) -> ParsedList:
    """Parse a CSV (header: uscc,name,reason,listed_on[,until]) or JSON (list of objects) file."""
    if not source.strip():
        raise CreditListError("the list needs its source (the publishing authority)")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CreditListError("the list must be UTF-8") from None
    rows: list[dict[str, Any]]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    elif fmt == "json":
        try:
            data = json.loads(text)
        except ValueError:
            raise CreditListError("the list is not valid JSON") from None
        if isinstance(data, dict):
            data = data.get("entries")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise CreditListError("a JSON list must be an array of entries (or {'entries': [...]})")
        rows = data
    else:
        raise CreditListError("format must be csv or json")
    entries = tuple(_entry(row, i) for i, row in enumerate(rows, 1))
    return ParsedList(source=source.strip(), published_on=published_on, entries=entries)
