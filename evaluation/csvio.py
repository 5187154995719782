"""Expert registry CSV: parse row by row into clean values or a list of errors (pure).

A bad row yields errors and nothing else; it never affects the rows around it.  Error entries are
(message key, field) pairs, translated at the edge.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from evaluation.models import ExpertStatus
from tenderhall.orgs import uscc as uscc_codec

COLUMNS = (
    "name",
    "id_number",
    "home_centre",
    "employer",
    "employer_uscc",
    "titles",
    "specialties",
    "status",
    "email",
    "phone",
)
EXPORT_COLUMNS = ("id", *(c for c in COLUMNS if c != "id_number"), "city")
REQUIRED = ("name", "home_centre", "employer", "specialties")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIST_SEP = ";"


@dataclass
class ParsedRow:
    line: int
    values: dict[str, object] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("；", LIST_SEP).split(LIST_SEP) if p.strip()]


def parse_row(
    line: int, raw: Mapping[str, str | None], known_specialties: frozenset[str] | None
) -> ParsedRow:
    row = ParsedRow(line)
    get = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    for name in REQUIRED:
        if not get[name]:
            row.errors.append(("csv.required", name))
    if len(get["name"]) > 100:
        row.errors.append(("csv.too_long", "name"))
    if get["employer_uscc"]:
        try:
            get["employer_uscc"] = uscc_codec.validate(get["employer_uscc"])
        except ValueError:
            row.errors.append(("csv.uscc_invalid", "employer_uscc"))
    specialties = _split(get["specialties"])
    if known_specialties is not None:
        for code in specialties:
            if code not in known_specialties:
                row.errors.append(("csv.specialty_unknown", "specialties"))
                break
    status = get["status"] or ExpertStatus.ACTIVE.value
    if status not in {s.value for s in ExpertStatus}:
        row.errors.append(("csv.status_invalid", "status"))
    if get["email"] and not EMAIL.match(get["email"]):
        row.errors.append(("csv.email_invalid", "email"))
    row.values = {
        "name": get["name"],
        "id_number": get["id_number"] or None,
        "home_centre": get["home_centre"],
        "employer": get["employer"],
        "employer_uscc": get["employer_uscc"] or None,
        "titles": _split(get["titles"]),
        "specialties": sorted(set(specialties)),
        "status": status,
        "email": get["email"] or None,
        "phone": get["phone"] or None,
    }
    return row


def read_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None]]]]:
    """Header and (line number, row) pairs; an unreadable header is reported by the caller."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = list(reader.fieldnames or [])

    def rows() -> Iterator[tuple[int, dict[str, str | None]]]:
        for raw in reader:
            yield reader.line_num, {k: v for k, v in raw.items() if isinstance(k, str)}

    return header, rows()


def write_rows(rows: Sequence[Mapping[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(
            {
                k: LIST_SEP.join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                for k, v in r.items()
            }
        )
    return out.getvalue()
